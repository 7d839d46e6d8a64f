// The support console's live updates. The page listens to its realtime topic; a push
// carries ids and states only, so on one the page fetches the fragments it shows again
// over HTTP, where the agent's team limits apply. The page was drawn before its socket
// opened, so it fetches its fragments once the socket is open too: a push sent in between
// would otherwise be lost. Of overlapping fetches of one part, only the latest is shown.
// A part is redrawn only when what it shows changed, and never while a pointer is held
// down in it: a click is a press and a release on the same element, so a redraw in between
// would swallow it (the agent taps a conversation and nothing happens).
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
  var pressed = null; // the part a pointer is held down in
  var POLICY_VIOLATION = 1008;

  function load(part) {
    var asked = (part.rapportAsked || 0) + 1;
    part.rapportAsked = asked;
    fetch(part.getAttribute("data-live-url"), {
      headers: { "HX-Request": "true" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null || part.rapportAsked !== asked) {
        return; // failed, or a later fetch (after a later push) is on its way
      }
      if (busy(part)) {
        part.setAttribute("data-stale", ""); // they started working in it meanwhile
        return;
      }
      var drawn = document.createElement("template");
      drawn.innerHTML = html;
      if (drawn.innerHTML === part.innerHTML) {
        part.removeAttribute("data-stale"); // nothing changed: keep the page as it is
        return;
      }
      var kept = held(part);
      part.innerHTML = html;
      part.removeAttribute("data-stale");
      restore(part, kept);
      if (window.htmx) {
        window.htmx.process(part);
      }
    }).catch(function () {
      part.setAttribute("data-stale", "");
    });
  }

  // What the keyboard holds in a part survives its redraw: the conversation picked with
  // j/k stays picked, and the link that had focus has it again (Enter still opens it).
  function held(part) {
    var selected = part.querySelector(".selected[data-conversation-id]");
    var focused = part.contains(document.activeElement) ? document.activeElement : null;
    return {
      selected: selected ? selected.getAttribute("data-conversation-id") : null,
      href: focused && focused.getAttribute ? focused.getAttribute("href") : null
    };
  }

  function restore(part, kept) {
    Array.prototype.forEach.call(part.querySelectorAll("[data-conversation-id]"), function (item) {
      if (item.getAttribute("data-conversation-id") === kept.selected) {
        item.classList.add("selected");
      }
    });
    if (kept.href) {
      var links = part.querySelectorAll("a[href]");
      for (var i = 0; i < links.length; i++) {
        if (links[i].getAttribute("href") === kept.href) {
          links[i].focus();
          break;
        }
      }
    }
  }

  // A part the agent is working in (focus in one of its forms, a status picked but not yet
  // sent, tags half typed) is not redrawn under their hands: it waits until they leave it.
  function changed(field) {
    if (field.tagName === "SELECT") {
      var initial = field.multiple ? -1 : 0;
      for (var i = 0; i < field.options.length; i++) {
        var option = field.options[i];
        if (field.multiple && option.selected !== option.defaultSelected) {
          return true;
        }
        if (option.defaultSelected) {
          initial = i;
        }
      }
      return !field.multiple && field.selectedIndex !== initial;
    }
    if (field.type === "checkbox" || field.type === "radio") {
      return field.checked !== field.defaultChecked;
    }
    return field.type !== "hidden" && field.value !== field.defaultValue;
  }

  function busy(part) {
    if (part === pressed) {
      return true;
    }
    if (part.contains(document.activeElement) && part.querySelector("form")) {
      return true;
    }
    return Array.prototype.some.call(part.querySelectorAll("input, select, textarea"), changed);
  }

  function refresh(part) {
    if (busy(part)) {
      part.setAttribute("data-stale", "");
      return;
    }
    load(part);
  }

  function partOf(node) {
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].contains(node)) {
        return parts[i];
      }
    }
    return null;
  }

  // A part left stale is drawn once the agent is done with it; after the current event, so
  // a click that ends a press is handled on what it was aimed at.
  function settle(part) {
    window.setTimeout(function () {
      if (part.hasAttribute("data-stale") && !busy(part)) {
        load(part);
      }
    }, 0);
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

  function release() {
    var part = pressed;
    pressed = null;
    if (part) {
      settle(part);
    }
  }

  // Only the main button clicks; a press can also end without a pointerup (a context menu,
  // a drag, the window left): any of those lets go too.
  document.addEventListener("pointerdown", function (event) {
    release();
    if (event.button === 0) {
      pressed = partOf(event.target);
    }
  }, true);
  ["pointerup", "pointercancel", "contextmenu", "dragend"].forEach(function (name) {
    document.addEventListener(name, release, true);
  });
  window.addEventListener("blur", release);
  document.addEventListener("visibilitychange", release);

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

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(
      scheme + "//" + window.location.host + "/ws?topic=" + encodeURIComponent(topic)
    );
    socket.addEventListener("open", function () {
      root.setAttribute("data-live", "connected");
      retryDelay = 1000;
      refreshAll(); // pushes sent before the socket opened are lost: catch up
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
      window.setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  connect();
})();
