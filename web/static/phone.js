// The agent's phone in the browser: SIP over secure WebSocket with JsSIP (static/jssip.min.js,
// see jssip.LICENSE.txt), audio over WebRTC through the box's media bridge.
// docs/browser-phone.md, "The agent panel", says why it is built this way.
"use strict";

(function () {
  var section = document.getElementById("phone");
  if (!section) { return; }
  var WORDS = {};
  try { WORDS = JSON.parse(document.getElementById("phone-words").textContent); } catch (err) { WORDS = {}; }
  function say(key, values) {
    var out = WORDS[key] || key;
    Object.keys(values || {}).forEach(function (k) { out = out.split("{" + k + "}").join(values[k]); });
    return out;
  }
  function $(id) { return document.getElementById(id); }

  var extension = section.getAttribute("data-extension");
  var ticketUrl = section.getAttribute("data-phone-ticket");
  var csrf = section.getAttribute("data-csrf");
  var stateEl = $("phone-state"), problemEl = $("phone-problem"), certEl = $("phone-certificate");
  var callEl = $("phone-call"), peerEl = $("phone-peer"), callStateEl = $("phone-call-state");
  var answerBtn = $("phone-answer"), hangupBtn = $("phone-hangup");
  var holdBtn = $("phone-hold"), muteBtn = $("phone-mute"), audioEl = $("phone-audio");

  // No STUN or TURN server: the browser and the box share the office LAN, and a public STUN
  // server would learn who calls from where.
  var PC_CONFIG = { iceServers: [] };
  var RETRY_MIN_S = 1, RETRY_MAX_S = 30;

  var ua = null, session = null, retryS = RETRY_MIN_S, retryTimer = null, everConnected = false;
  var stopped = false, held = false, muted = false, ringer = null, tookOver = false, movedAway = false;

  function showState(text, cls) {
    stateEl.textContent = text;
    stateEl.className = "badge " + (cls || "");
    section.setAttribute("data-phone-state", cls || "");
  }
  function showProblem(text) {
    problemEl.textContent = text || "";
    problemEl.hidden = !text;
  }

  // -- one tab per agent: the newest takes over -------------------------------------------------
  // It says so once it has registered, so that the agent is never without a phone in between;
  // an older tab on a call keeps the call and lets go when it ends.
  var channel = window.BroadcastChannel ? new BroadcastChannel("callbox-phone-" + extension) : null;
  var me = Math.random().toString(36).slice(2);
  if (channel) {
    channel.onmessage = function (e) {
      if (!e.data || e.data.from === me || e.data.kind !== "takeover") { return; }
      movedAway = true;
      if (!session) { letGo(); }
    };
  }
  function letGo() {
    stopPhone();
    showState(say("moved_short"), "phone-off");
    showProblem(say("moved"));
  }

  function stopPhone() {
    stopped = true;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    endCallView();
    if (ua) { var old = ua; ua = null; try { old.stop(); } catch (err) { /* already stopped */ } }
  }

  // -- the microphone, before anything registers -----------------------------------------------
  function checkMicrophone() {
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject({ key: "insecure" });
    }
    return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).then(function (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
    }, function (err) {
      var name = err && err.name;
      if (name === "NotAllowedError" || name === "SecurityError") { throw { key: "mic_denied" }; }
      if (name === "NotFoundError" || name === "OverconstrainedError") { throw { key: "mic_missing" }; }
      if (name === "NotReadableError" || name === "AbortError") { throw { key: "mic_busy" }; }
      throw { key: "mic_other", reason: String((err && err.message) || name || err) };
    });
  }

  // -- a ticket, then the SIP WebSocket -------------------------------------------------------------
  function fetchTicket() {
    return fetch(ticketUrl, { method: "POST", credentials: "same-origin",
                              headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.ok) { return body; }
          throw { status: res.status, reason: body.error || "" };
        });
      }, function () { throw { status: 0 }; });
  }

  function connect() {
    if (stopped) { return; }
    retryTimer = null;
    showState(say("connecting"), "phone-connecting");
    fetchTicket().then(startUa, function (err) {
      if (err.status === 403 || err.status === 404) {
        // The session ended, this user is not an agent, or the extension is gone: no retry.
        showState(say("off_short"), "phone-off");
        showProblem(err.reason || say("session_ended"));
        return;
      }
      if (err.status === 409) {
        showState(say("off_short"), "phone-off");
        showProblem(say("box_off"));
        return;
      }
      retryLater(err.status === 0 ? say("web_lost") : (err.reason || "HTTP " + err.status));
    });
  }

  function retryLater(reason) {
    if (stopped || retryTimer) { return; }
    var wait = retryS;
    retryS = Math.min(RETRY_MAX_S, retryS * 2);
    showState(say("lost_short"), "phone-lost");
    showProblem(say("lost", { seconds: wait }) + (reason ? " (" + reason + ")" : ""));
    retryTimer = setTimeout(connect, wait * 1000);
  }

  function startUa(ticket) {
    if (stopped) { return; }
    var host = location.hostname;
    var url = "wss://" + (host.indexOf(":") >= 0 && host[0] !== "[" ? "[" + host + "]" : host) +
      ":" + ticket.port + "/?ticket=" + encodeURIComponent(ticket.ticket);
    var acceptUrl = "https://" + (host.indexOf(":") >= 0 && host[0] !== "[" ? "[" + host + "]" : host) +
      ":" + ticket.port + "/";
    $("phone-certificate-link").setAttribute("href", acceptUrl);
    $("phone-certificate-link").textContent = acceptUrl;
    var socket = new JsSIP.WebSocketInterface(url);
    var agent = new JsSIP.UA({
      sockets: [socket], uri: "sip:" + ticket.extension + "@" + host, register: true,
      register_expires: 300, session_timers: false, user_agent: "Callbox agent panel",
      // The ticket opens one connection once: reconnecting is ours to do, with a new ticket.
      connection_recovery_min_interval: 3600, connection_recovery_max_interval: 3600
    });
    ua = agent;
    agent.on("connected", function () {
      if (ua !== agent) { return; }
      everConnected = true;
      certEl.hidden = true;
      showState(say("registering"), "phone-connecting");
    });
    agent.on("disconnected", function () {
      if (ua !== agent) { return; }
      ua = null;
      try { agent.stop(); } catch (err) { /* gone */ }
      endCallView();
      // A self-signed certificate the browser has not accepted looks like this too.
      if (!everConnected) { certEl.hidden = false; }
      retryLater("");
    });
    agent.on("registered", function () {
      if (ua !== agent) { return; }
      retryS = RETRY_MIN_S;
      showProblem("");
      showState(say("ready", { extension: ticket.extension }), "phone-ready");
      if (channel && !tookOver) { tookOver = true; channel.postMessage({ kind: "takeover", from: me }); }
    });
    agent.on("registrationFailed", function (e) {
      if (ua !== agent) { return; }
      showState(say("unregistered"), "phone-off");
      showProblem(say("refused", { reason: e.cause || "" }));
    });
    agent.on("newRTCSession", function (e) { if (ua === agent) { newSession(e); } });
    agent.start();
  }

  // -- calls ------------------------------------------------------------------------------------------
  function peerOf(s) {
    var id = s.remote_identity;
    var name = id && id.display_name, user = id && id.uri && id.uri.user;
    return name && name !== user ? name + " (" + user + ")" : (user || say("unknown"));
  }

  function newSession(e) {
    var s = e.session;
    if (e.originator !== "remote") { return; }
    if (session) { s.terminate({ status_code: 486, reason_phrase: "Busy Here" }); return; }
    session = s;
    held = muted = false;
    s.on("peerconnection", function (ev) { watchMedia(ev.peerconnection); });
    s.on("accepted", function () { showCall("talking"); });
    s.on("confirmed", function () { showCall("talking"); });
    s.on("ended", function (ev) { callEnded(s, ev, "ended"); });
    s.on("failed", function (ev) { callEnded(s, ev, "failed"); });
    showCall("ringing");
    startRinging();
  }

  function watchMedia(pc) {
    pc.addEventListener("track", function (ev) {
      audioEl.srcObject = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]);
      var played = audioEl.play();
      if (played && played.catch) { played.catch(function () { /* autoplay: the answer click allows it */ }); }
    });
  }

  function showCall(what) {
    if (!session) { return; }
    callEl.hidden = false;
    section.setAttribute("data-call", what);
    peerEl.textContent = peerOf(session);
    callStateEl.textContent = say(what === "talking" && held ? "held" : what, { caller: peerOf(session) });
    answerBtn.hidden = what !== "ringing";
    hangupBtn.textContent = what === "ringing" ? say("decline") : say("hang_up");
    holdBtn.hidden = muteBtn.hidden = $("phone-keypad").hidden = $("phone-transfer-form").hidden =
      what !== "talking";
    if (what !== "ringing") { stopRinging(); }
  }

  function callEnded(s, ev, how) {
    if (s !== session) { return; }
    var reason = ev && ev.cause ? ev.cause : "";
    endCallView();
    callStateEl.textContent = how === "failed" && reason && reason !== "Canceled" && reason !== "Rejected"
      ? say("call_failed", { reason: reason }) : say("call_ended");
    callEl.hidden = false;
    if (movedAway) { letGo(); }
  }

  function endCallView() {
    stopRinging();
    session = null;
    held = muted = false;
    section.setAttribute("data-call", "");
    answerBtn.hidden = true;
    holdBtn.hidden = muteBtn.hidden = $("phone-keypad").hidden = $("phone-transfer-form").hidden = true;
    hangupBtn.hidden = false;
    callEl.hidden = true;
    audioEl.srcObject = null;
    holdBtn.textContent = say("hold");
    muteBtn.textContent = say("mute");
    holdBtn.setAttribute("aria-pressed", "false");
    muteBtn.setAttribute("aria-pressed", "false");
  }

  // Hold is the SIP way, a re-INVITE saying a=sendonly: the box parts the call and the other side
  // hears music on hold until Resume (a=sendrecv). Meanwhile the browser neither plays nor sends.
  // Mute only stops sending, in the browser.
  function applyAudio() {
    var pc = session && session.connection;
    if (pc) {
      pc.getSenders().forEach(function (sender) {
        if (sender.track && sender.track.kind === "audio") { sender.track.enabled = !(held || muted); }
      });
    }
    audioEl.muted = held;
  }

  answerBtn.addEventListener("click", function () {
    if (!session) { return; }
    stopRinging();
    callStateEl.textContent = say("answering");
    session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: PC_CONFIG });
  });
  hangupBtn.addEventListener("click", function () {
    if (session) { session.terminate(); }
  });
  holdBtn.addEventListener("click", function () {
    if (!session) { return; }
    // JsSIP does nothing (false) while an earlier re-INVITE is under way: the button stays as it is.
    if (!(held ? session.unhold() : session.hold())) { return; }
    held = !held;
    applyAudio();
    holdBtn.textContent = say(held ? "resume" : "hold");
    holdBtn.setAttribute("aria-pressed", String(held));
    showCall("talking");
  });
  muteBtn.addEventListener("click", function () {
    if (!session) { return; }
    muted = !muted;
    applyAudio();
    muteBtn.textContent = say(muted ? "unmute" : "mute");
    muteBtn.setAttribute("aria-pressed", String(muted));
  });
  $("phone-keypad").addEventListener("click", function (e) {
    var key = e.target.closest("[data-digit]");
    if (!key || !session) { return; }
    try {
      session.sendDTMF(key.getAttribute("data-digit"), { transportType: "RFC2833", duration: 160, interToneGap: 70 });
    } catch (err) { showProblem(String(err.message || err)); }
  });
  $("phone-transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var target = $("phone-transfer-to").value.trim();
    if (!session || !/^[0-9]{1,15}$/.test(target)) {
      showProblem(say("transfer_digits"));
      return;
    }
    showProblem("");
    var s = session;
    try {
      s.refer("sip:" + target + "@" + location.hostname, { eventHandlers: {
        requestFailed: function (ev) {
          // The box carries a transfer out itself: it declines the REFER (the transfer is its own
          // to make) and ends this call at once. Only a call still up a moment later failed.
          setTimeout(function () {
            if (session === s && !s.isEnded()) { showProblem(say("transfer_failed", { target: target, reason: (ev && ev.cause) || "" })); }
          }, 2000);
        }
      } });
      callStateEl.textContent = say("transferring", { target: target });
    } catch (err) { showProblem(say("transfer_failed", { target: target, reason: String(err.message || err) })); }
  });

  // -- the ring: 440 + 480 Hz, three seconds on, three off, while a call rings ----------------------
  function startRinging() {
    stopRinging();
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    try {
      var ctx = new Ctx(), gain = ctx.createGain();
      gain.gain.value = 0;
      gain.connect(ctx.destination);
      [440, 480].forEach(function (f) {
        var osc = ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(gain);
        osc.start();
      });
      var on = false, tick = function () { on = !on; gain.gain.value = on ? 0.1 : 0; };
      tick();
      ringer = { ctx: ctx, timer: setInterval(function () { tick(); }, 3000) };
    } catch (err) { ringer = null; }
  }
  function stopRinging() {
    if (!ringer) { return; }
    clearInterval(ringer.timer);
    try { ringer.ctx.close(); } catch (err) { /* closed */ }
    ringer = null;
  }

  // -- the panel's status buttons, without leaving the page ------------------------------------------
  // A reload would take the phone with it (a call ringing or up would end, and the agent would be
  // without a phone for a moment), so while the phone runs, a status button is sent by the script
  // and the panel's status part and notices are taken from the page the server answers with.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !ua || !window.fetch || !window.DOMParser ||
        form.getAttribute("action") !== "/agent/status") { return; }
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    fetch("/agent/status", { method: "POST", body: body, credentials: "same-origin" })
      .then(function (res) { return res.text(); })
      .then(function (html) { takeStatusFrom(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () { form.submit(); });
  });

  function takeStatusFrom(doc) {
    var fresh = doc.querySelector("#agent .actions"), here = document.querySelector("#agent .actions");
    if (!fresh || !here) { location.reload(); return; }
    here.innerHTML = fresh.innerHTML;
    var says = doc.getElementById("agent-says"), mine = document.getElementById("agent-says");
    if (says && mine) { mine.textContent = says.textContent; mine.className = says.className; }
    var main = document.getElementById("main");
    main.querySelectorAll(":scope > p.notice, :scope > #form-error").forEach(function (el) { el.remove(); });
    var told = doc.querySelectorAll("#main > p.notice, #main > #form-error");
    for (var i = told.length - 1; i >= 0; i--) { main.insertBefore(document.importNode(told[i], true), main.firstChild); }
  }

  // Leaving the page during a call ends it: the browser asks first.
  window.addEventListener("beforeunload", function (e) {
    if (session) { e.preventDefault(); e.returnValue = ""; }
  });

  // -- start, and end with the page ------------------------------------------------------------------
  // No goodbye when the page goes (closed, reloaded, left): the browser closes the WebSocket
  // itself, which the box takes for the agent leaving the panel (docs/browser-phone.md, "The
  // agent's status follows the panel"); an un-REGISTER first would hide that.
  endCallView();
  showState(say("starting"), "phone-connecting");
  if (typeof JsSIP === "undefined") {
    showState(say("off_short"), "phone-off");
    showProblem(say("no_library"));
    return;
  }
  checkMicrophone().then(connect, function (err) {
    showState(say("off_short"), "phone-off");
    showProblem(say(err.key, { reason: err.reason || "", url: "https://" + location.hostname + ":8443" + location.pathname }));
  });
}());
