// The set-up wizard: the browser's time zone, and the test call's events told in words.
"use strict";

function wizardTimeZone() {
  var hidden = document.getElementById("w-browser-tz");
  var select = document.getElementById("w-tz");
  if (!hidden || !window.Intl) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  hidden.value = zone;
  // Only a zone nobody chose yet is replaced: the owner's own choice stays.
  if (select && select.getAttribute("data-from-browser") === "1") {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.selectedIndex = i;
        var note = document.getElementById("w-tz-browser");
        if (note) { note.hidden = false; }
        break;
      }
    }
  }
}

function wizardFeed(list) {
  var words = {};
  try { words = JSON.parse(document.getElementById("wizard-words").textContent); } catch (e) { return; }
  var status = document.getElementById("feed-status");
  var source = new EventSource(list.getAttribute("data-source"));
  source.onopen = function () { status.textContent = words.connected; };
  source.onerror = function () { status.textContent = words.lost; };
  ["registration", "unregistration", "queue", "call_record", "agent"].forEach(function (name) {
    source.addEventListener(name, function (e) {
      var data = {};
      try { data = JSON.parse(e.data); } catch (err) { return; }
      var text = tellEvent(words, name, data);  // static/app.js
      if (!text) { return; }
      var item = document.createElement("li");
      item.textContent = boxTime() + "  " + text;
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 30) { list.removeChild(list.lastChild); }
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  wizardTimeZone();
  var feed = document.getElementById("wizard-feed");
  if (feed && window.EventSource) { wizardFeed(feed); }
});
