// The support console's live updates. The page listens to its realtime topic; a push
// carries ids and states only, so on one the page fetches the fragments it shows again
// over HTTP, where the agent's team limits apply.
(function () {
  "use strict";
  var root = document.querySelector("[data-live-topic]");
  if (!root || !window.WebSocket || !window.fetch) {
    return;
  }
  var topic = root.getAttribute("data-live-topic");
  var parts = root.hasAttribute("data-live-url")
    ? [root]
    : Array.prototype.slice.call(root.querySelectorAll("[data-live-part]"));
  var retryDelay = 1000;
  var queued = null;
  var POLICY_VIOLATION = 1008;

  function load(part) {
    fetch(part.getAttribute("data-live-url"), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) {
        return;
      }
      part.innerHTML = html;
      part.removeAttribute("data-stale");
      if (window.htmx) {
        window.htmx.process(part);
      }
    }).catch(function () {
      part.setAttribute("data-stale", "");
    });
  }

  // A part the agent is working in (a select open, tags half typed) waits until they leave it.
  function refresh(part) {
    if (part.contains(document.activeElement) && part.querySelector("form")) {
      part.setAttribute("data-stale", "");
      return;
    }
    load(part);
  }

  document.addEventListener("focusout", function (event) {
    var part = event.target.closest && event.target.closest("[data-stale]");
    if (part && parts.indexOf(part) !== -1) {
      window.setTimeout(function () {
        if (!part.contains(document.activeElement)) {
          load(part);
        }
      }, 0);
    }
  });

  // Pushes often come in pairs (a message and the status it changed): fetch once for both.
  function refreshAll() {
    if (queued !== null) {
      return;
    }
    queued = window.setTimeout(function () {
      queued = null;
      parts.forEach(refresh);
    }, 100);
  }

  function connect(again) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(
      scheme + "//" + window.location.host + "/ws?topic=" + encodeURIComponent(topic)
    );
    socket.addEventListener("open", function () {
      root.setAttribute("data-live", "connected");
      retryDelay = 1000;
      if (again) {
        refreshAll(); // pushes sent while we were away are lost: catch up
      }
    });
    // Typing and read marks change nothing on the page's fragments: support_tools.js shows
    // them; every push is passed on to it as a "rapport:push" event.
    socket.addEventListener("message", function (event) {
      var push = null;
      try { push = JSON.parse(event.data); } catch (error) { push = null; }
      if (push) {
        document.dispatchEvent(new CustomEvent("rapport:push", { detail: push }));
      }
      if (push && (push.type === "typing" || push.type === "conversation.read")) {
        return;
      }
      refreshAll();
    });
    socket.addEventListener("close", function (event) {
      root.setAttribute("data-live", "disconnected");
      if (event.code === POLICY_VIOLATION) {
        return; // signed out or no longer in this workspace
      }
      window.setTimeout(function () { connect(true); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  connect(false);
})();
