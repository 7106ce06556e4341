// A little plain JS: confirmations, the print button and the live event panel.
// The pages work without it; the Content-Security-Policy forbids inline scripts.
"use strict";

document.addEventListener("submit", function (e) {
  var message = e.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { e.preventDefault(); }
});

document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) { window.print(); }
});

function startLivePanel(list) {
  var status = document.getElementById("live-status");
  var count = document.getElementById("registration-count");
  var source = new EventSource(list.getAttribute("data-source"));
  var names = ["registration", "unregistration", "ban", "unban", "extension", "core"];
  source.onopen = function () { status.textContent = "Connected: new events appear below."; };
  source.onerror = function () { status.textContent = "Disconnected; retrying…"; };
  names.forEach(function (name) {
    source.addEventListener(name, function (e) {
      var data = {};
      try { data = JSON.parse(e.data); } catch (err) { data = { text: e.data }; }
      var item = document.createElement("li");
      var time = new Date().toLocaleTimeString();
      var what = data.aor || data.ip || data.number || data.status || "";
      item.textContent = time + "  " + name + "  " + what;
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 50) { list.removeChild(list.lastChild); }
      if (count && (name === "registration" || name === "unregistration")) {
        var n = parseInt(count.textContent, 10) || 0;
        count.textContent = String(Math.max(0, n + (name === "registration" ? 1 : -1)));
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var list = document.getElementById("live-events");
  if (list && window.EventSource) { startLivePanel(list); }
});
