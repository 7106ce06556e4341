// A little plain JS: confirmations, the print button, the live event panel, the Now page
// and the virtual front panel.
// The pages work without it; the Content-Security-Policy forbids inline scripts.
"use strict";

// The page's own language: base.tpl hands over the messages this script writes.
var MESSAGES = (function () {
  var el = document.getElementById("messages");
  try { return el ? JSON.parse(el.textContent) : {}; } catch (err) { return {}; }
}());

function T(text, values) {
  var out = MESSAGES[text] || text;
  Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(values[k]); });
  return out;
}

document.addEventListener("submit", function (e) {
  var message = e.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { e.preventDefault(); }
});

document.addEventListener("click", function (e) {
  if (e.target.closest("[data-print]")) { window.print(); }
});

// A time on the box's clock (base.tpl's <body data-timezone>, box.timezone), 24-hour, in the
// page's language: never the browser's own locale, which on many machines is en-US ("1:05:09 PM").
function boxTime(when) {
  var root = document.documentElement;
  var moment = when || new Date();
  var options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  var tz = document.body && document.body.getAttribute("data-timezone");
  if (tz) { options.timeZone = tz; }
  try {
    return moment.toLocaleTimeString(root.getAttribute("lang") || "en", options);
  } catch (err) {  // an unknown zone name: the browser's clock, still 24-hour
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(moment.getHours()) + ":" + pad(moment.getMinutes()) + ":" + pad(moment.getSeconds());
  }
}

// A live event as a sentence in the page's language, from the words of event_words.tpl;
// "" for an event the words do not tell (it is then left out of the feed).
function tellEvent(words, name, d) {
  var fill = function (text, values) {
    return (text || "").replace(/\{(\w+)\}/g, function (m, key) { return values[key] !== undefined ? values[key] : m; });
  };
  if (name === "registration" || name === "unregistration") {
    return fill(words[name], { who: String(d.aor || "").replace(/^sips?:/, "").split("@")[0] });
  }
  if (name === "queue") {
    return words[d.event] ? fill(words[d.event], { queue: d.queue || "", agent: d.agent || "", number: d.number || "" }) : "";
  }
  if (name === "call_record") {
    var outcome = words[d.disposition === "ANSWERED" ? "ANSWERED_call" : d.disposition] || d.disposition || "";
    return fill(words.call_record, { caller: d.caller || "", callee: d.callee || "", outcome: outcome });
  }
  if (name === "agent") {
    var key = d.status === "LOGGED_OUT" || d.status === "ON_BREAK" ? d.status :
      (d.state === "OFFERED" ? "OFFERED_agent" : (words[d.state] ? d.state : "AVAILABLE"));
    return fill(words.agent, { agent: d.extension || "", says: words[key] });
  }
  if (name === "ban" || name === "unban") {
    return fill(words[name], { ip: d.ip || "", reason: d.reason || "" });
  }
  if (name === "extension") {
    return words["extension_" + d.action] ? fill(words["extension_" + d.action], { number: d.number || "" }) : "";
  }
  if (name === "flows") {
    return d.version !== undefined ? fill(words.flows, { version: d.version }) : "";
  }
  return "";
}

function startLivePanel(list) {
  var status = document.getElementById("live-status");
  var count = document.getElementById("registration-count");
  var words = {};
  try { words = JSON.parse(document.getElementById("event-words").textContent); } catch (err) { words = {}; }
  var source = new EventSource(list.getAttribute("data-source"));
  var names = ["registration", "unregistration", "ban", "unban", "extension", "queue",
               "call_record", "agent", "flows"];
  source.onopen = function () { status.textContent = words.connected || T("Connected: new events appear below."); };
  source.onerror = function () { status.textContent = words.lost || T("Disconnected; retrying…"); };
  names.forEach(function (name) {
    source.addEventListener(name, function (e) {
      var data = {};
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (count && (name === "registration" || name === "unregistration")) {
        var n = parseInt(count.textContent, 10) || 0;
        count.textContent = String(Math.max(0, n + (name === "registration" ? 1 : -1)));
      }
      var text = tellEvent(words, name, data);
      if (!text) { return; }
      var item = document.createElement("li");
      item.textContent = boxTime() + "  " + text;
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 50) { list.removeChild(list.lastChild); }
    });
  });
}

function clockText(seconds) {
  var s = Math.max(0, Math.round(seconds));
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  return h ? h + ":" + pad(m) + ":" + pad(r) : m + ":" + pad(r);
}

// The Now page: each table with data-block="name" is redrawn from the block of
// that name in the JSON, column by column, so new blocks need no new script.
function startBoard(board) {
  var status = document.getElementById("now-status") || document.createElement("p");
  var announce = document.getElementById("now-announce");
  var url = board.getAttribute("data-data");
  var refreshOn = (board.getAttribute("data-refresh-on") || "").split(" ").filter(Boolean);
  var pollS = parseFloat(board.getAttribute("data-poll")) || 0;
  // Durations count on the box's clock, whatever the browser's clock says.
  var skew = parseFloat(board.getAttribute("data-now")) * 1000 - Date.now();
  var pending = null, busy = false, again = false;

  function cell(row, key, label) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (key === "since") {
      // An empty queue has no longest wait: nothing ticks.
      td.setAttribute("data-since", row.since === null || row.since === undefined ? "" : String(row.since));
      td.textContent = row.since_text || "";
    } else if (row[key + "_class"] !== undefined) {
      var badge = document.createElement("span");
      badge.className = "badge " + row[key + "_class"];
      badge.textContent = row[key];
      td.appendChild(badge);
    } else {
      td.textContent = row[key] === undefined ? "" : String(row[key]);
    }
    return td;
  }

  function draw(data) {
    skew = data.now * 1000 - Date.now();
    Object.keys(data.summary || {}).forEach(function (key) {
      var el = board.querySelector('[data-summary="' + key + '"]');
      if (el) { el.textContent = data.summary[key]; }
    });
    var longest = board.querySelector("[data-since-summary]");
    if (longest) {
      longest.setAttribute("data-since-summary",
                           data.longest_since === null || data.longest_since === undefined ? "" : String(data.longest_since));
    }
    board.querySelectorAll("ul[data-list]").forEach(function (list) {
      var items = data[list.getAttribute("data-list")];
      if (!Array.isArray(items)) { return; }
      list.textContent = "";
      items.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        list.appendChild(li);
      });
      var none = board.querySelector('[data-empty="' + list.getAttribute("data-list") + '"]');
      if (none) { none.hidden = items.length > 0; }
    });
    board.querySelectorAll("table[data-block]").forEach(function (table) {
      var name = table.getAttribute("data-block");
      var rows = data[name];
      if (!Array.isArray(rows)) { return; }
      var columns = table.getAttribute("data-columns").split(" ");
      var labels = Array.prototype.map.call(table.querySelectorAll("thead th"),
                                            function (th) { return th.textContent; });
      var body = document.createElement("tbody");
      rows.forEach(function (row) {
        var tr = document.createElement("tr");
        columns.forEach(function (key, i) { tr.appendChild(cell(row, key, labels[i] || key)); });
        body.appendChild(tr);
      });
      table.replaceChild(body, table.tBodies[0]);
      var empty = board.querySelector('[data-empty="' + name + '"]');
      if (empty) { empty.hidden = rows.length > 0; }
    });
    status.textContent = T("Live: updated {time}.", { time: boxTime() });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) {
        if (res.status === 403) { throw new Error(T("Your session has ended: reload the page to log in.")); }
        return res.json().then(function (data) {
          if (!res.ok) { throw new Error(data.error || ("error " + res.status)); }
          return data;
        });
      })
      .then(draw)
      .catch(function (err) { status.textContent = T("Not updated: {reason}", { reason: err.message }); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function soon() {
    // Several events in a burst cost one refetch.
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () { pending = null; refresh(); }, 200);
  }

  if (window.EventSource) {
    var source = new EventSource(board.getAttribute("data-events"));
    source.onopen = function () { status.textContent = T("Live: connected."); };
    source.onerror = function () { status.textContent = T("Disconnected; retrying…"); };
    refreshOn.forEach(function (name) {
      source.addEventListener(name, function (e) {
        var data = {};
        try { data = JSON.parse(e.data); } catch (err) { data = {}; }
        if (name === "call_record" && announce) {
          announce.textContent = T("Call ended: {caller} to {callee}, {disposition}.",
            { caller: data.caller || "", callee: data.callee || "", disposition: data.disposition || "" });
        }
        soon();
      });
    });
  }
  if (pollS > 0) {
    setInterval(function () { if (!document.hidden) { refresh(); } }, pollS * 1000);
  }
  setInterval(function () {
    var now = (Date.now() + skew) / 1000;
    board.querySelectorAll("[data-since]").forEach(function (td) {
      var since = td.getAttribute("data-since");
      if (since) { td.textContent = clockText(now - parseFloat(since)); }
    });
    var longest = board.querySelector("[data-since-summary]");
    if (longest && longest.getAttribute("data-since-summary")) {
      longest.textContent = clockText(now - parseFloat(longest.getAttribute("data-since-summary")));
    }
  }, 1000);
}

// The virtual front panel follows the real LEDs every few seconds while visible.
function startPanel(panel) {
  var url = panel.getAttribute("data-panel");
  setInterval(function () {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.keys(data.leds || {}).forEach(function (name) {
          var led = panel.querySelector('[data-led="' + name + '"]');
          var says = panel.querySelector('[data-led-says="' + name + '"]');
          if (led) {
            led.className = led.className.replace(/\bled-(on|off|slow|fast|code-\d+)\b/g, "").trim() +
              " " + data.leds[name].css;
          }
          if (says) { says.textContent = data.leds[name].says; }
        });
        var night = panel.querySelector("[data-night]");
        if (night) { night.textContent = data.night_mode ? T("on") : T("off"); }
      })
      .catch(function () { /* the next round tries again */ });
  }, 3000);
}

// The agent's panel: their status, and a screen pop with the caller's number when a queue
// call is offered to them or they are talking. Only this agent's events reach this stream.
function startAgentPanel(panel) {
  var me = panel.getAttribute("data-extension");
  var says = document.getElementById("agent-says");
  var status = document.getElementById("agent-status");
  var pop = document.getElementById("screen-pop");
  var announce = document.getElementById("pop-announce");
  var lastCall = null;

  function set(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  function showPop(state) {
    if (!lastCall) { lastCall = { number: "unknown", queue: "", call_id: "" }; }
    var ringing = state === "OFFERED";
    set("pop-state", ringing ? T("Ringing") : T("On a call"));
    set("pop-number", lastCall.number || T("unknown"));
    set("pop-queue", lastCall.queue || "");
    set("pop-call", lastCall.call_id || "");
    if (pop.hidden && announce) {
      announce.textContent = T(ringing ? "Call from {number}" : "Talking to {number}",
                               { number: lastCall.number || T("unknown") });
    }
    pop.hidden = false;
    if (lastCall.number && lastCall.number !== "unknown" && lastCall.number !== looked) { lookUp(lastCall.number); }
  }

  // The screen pop's contact card and the caller's last calls, asked of the page's own server.
  var looked = null;
  function lookUp(number) {
    looked = number;
    if (!window.fetch) { return; }
    fetch("/agent/lookup.json?number=" + encodeURIComponent(number), { credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (data) { if (data && looked === number) { drawCard(data); } })
      .catch(function () { /* the number alone stays on the pop */ });
  }

  function drawCard(data) {
    var card = document.getElementById("pop-contact");
    var none = document.getElementById("pop-no-contact");
    var c = data.contact;
    if (card) { card.hidden = !c; }
    if (none) { none.hidden = !!c; }
    if (c) {
      set("pop-contact-name", c.name);
      set("pop-contact-company", c.company);
      set("pop-contact-email", c.email);
      set("pop-contact-notes", c.notes);
    }
    var body = document.querySelector("#pop-history tbody");
    if (!body) { return; }
    body.textContent = "";
    (data.history || []).forEach(function (h) {
      var tr = document.createElement("tr");
      [h.start, h.agent, T(h.disposition), h.disposition_code, h.notes].forEach(function (text) {
        var td = document.createElement("td");
        td.textContent = text || "";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // When a call ends the pop gives way to the after-call notes for that call.
  function callEnded() {
    pop.hidden = true;
    var after = document.getElementById("after-call");
    var form = document.getElementById("after-form");
    if (!lastCall || !lastCall.call_id || !after || !form) { return; }
    form.setAttribute("action", "/agent/calls/" + encodeURIComponent(lastCall.call_id) + "/notes");
    set("after-call-id", lastCall.call_id);
    set("after-number", lastCall.number || T("unknown"));
    after.hidden = false;
  }

  function word(data) {
    if (data.status === "LOGGED_OUT") { return "logged out"; }
    var byState = { OFFERED: "ringing", TALKING: "talking", WRAP_UP: "wrap-up", NO_ANSWER_BACKOFF: "missed a call" };
    if (byState[data.state]) { return byState[data.state]; }
    return data.status === "ON_BREAK" ? "on break" : "available";
  }

  var source = new EventSource(panel.getAttribute("data-agent-events"));
  panel.agentEvents = source;  // the campaign card (campaign_card.js) listens on the same stream
  source.onopen = function () { status.textContent = T("Live: connected."); };
  source.onerror = function () { status.textContent = T("Disconnected; retrying…"); };
  source.addEventListener("queue", function (e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (data.agent !== me) { return; }
    if (data.event === "OFFERED" || data.event === "ANSWERED" || data.event === "CONNECTED") {
      lastCall = { number: data.number, queue: data.queue, call_id: data.call_id };
      showPop(data.event === "OFFERED" ? "OFFERED" : "TALKING");
    } else if (lastCall && data.call_id === lastCall.call_id &&
               ["CALL_ENDED", "ABANDONED", "TRANSFERRED"].indexOf(data.event) >= 0) {
      // The core reports a call's end on the queue log even where it sends no agent event.
      callEnded();
    }
  });
  source.addEventListener("agent", function (e) {
    var data = {};
    try { data = JSON.parse(e.data); } catch (err) { return; }
    if (data.extension !== me) { return; }
    says.textContent = T(word(data));
    says.className = "badge agent-" + word(data).split(" ")[0].replace("-", "");
    if (data.state === "OFFERED" || data.state === "TALKING") {
      showPop(data.state);
    } else if (!pop.hidden) {
      callEnded();
    }
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var agent = document.querySelector("[data-agent-events]");
  if (agent && window.EventSource) { startAgentPanel(agent); }
  var list = document.getElementById("live-events");
  if (list && window.EventSource) { startLivePanel(list); }
  var board = document.getElementById("board");
  if (board && window.fetch) { startBoard(board); }
  var panel = document.querySelector("[data-panel]");
  if (panel && window.fetch) { startPanel(panel); }
});
