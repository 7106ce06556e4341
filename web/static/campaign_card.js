// The agent's campaign card follows their work: when the core says a campaign attempt ended, a
// result was saved or a campaign changed state, or an agent event arrives (a progressive call is
// being placed for them), the card is fetched again from the page's own server as HTML, which
// the server rendered and escaped. It also looks every few seconds while visible, since the box
// places a progressive call without an event of its own. A card the agent is typing in is not
// replaced while it is the same card. No inline script: the Content-Security-Policy forbids it.
"use strict";

function startCampaignCard(card, panel) {
  var url = card.getAttribute("data-card-url");
  var busy = false, pending = null;

  function touched(el) {
    var notes = el.querySelector("#card-notes"), when = el.querySelector("#card-callback");
    return el.contains(document.activeElement) || (notes && notes.value !== notes.defaultValue) ||
      (when && when.value);
  }

  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#campaign-card");
        var current = document.getElementById("campaign-card");
        if (!fresh || !current) { return; }
        var same = fresh.getAttribute("data-card-key") === current.getAttribute("data-card-key");
        if (same && (touched(current) || fresh.innerHTML === current.innerHTML)) { return; }
        current.replaceWith(fresh);
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { busy = false; });
  }

  function soon() {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () { pending = null; refresh(); }, 300);
  }

  var source = panel && panel.agentEvents;
  if (source) {
    ["campaign", "campaign_attempt", "campaign_result", "agent"].forEach(function (name) {
      source.addEventListener(name, soon);
    });
  }
  setInterval(function () { if (!document.hidden) { refresh(); } }, 5000);
}

document.addEventListener("DOMContentLoaded", function () {
  var card = document.getElementById("campaign-card");
  if (card && window.fetch) { startCampaignCard(card, document.querySelector("[data-agent-events]")); }
});
