// Agent tools in the console: the "/" picker of canned responses in the composer, the
// agent's typing and read marks (for the chat widget), the customer's typing and read
// marks (from support.js's pushes), and keyboard shortcuts that never fire while typing.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var root = document.querySelector("[data-live-topic]");
  var topic = root ? root.getAttribute("data-live-topic") : "";
  var conversationId = topic.indexOf("conversation:") === 0 ? topic.slice(13) : null;
  var base = conversationId ? "/console/inbox/conversations/" + conversationId : null;
  var INBOX_KEY = "rapport.inbox.order";

  function post(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).catch(function () { return null; });
  }

  // ---- The "/" picker ----
  var composer = document.querySelector("textarea[data-canned-url]");
  var picker = document.getElementById("canned-picker");
  var found = [];
  var chosen = 0;
  var searchTimer = null;
  var asked = 0;

  function slashQuery() {
    var before = composer.value.slice(0, composer.selectionStart);
    var match = /(^|\s)\/([A-Za-z0-9_-]{0,50})$/.exec(before);
    return match ? { text: match[2], start: before.length - match[2].length - 1 } : null;
  }

  function closePicker() {
    picker.hidden = true;
    picker.innerHTML = "";
    found = [];
    composer.removeAttribute("aria-activedescendant");
  }

  function drawPicker() {
    picker.innerHTML = "";
    found.forEach(function (item, index) {
      var option = document.createElement("li");
      option.id = "canned-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === chosen ? "true" : "false");
      option.className = "canned-option" + (index === chosen ? " chosen" : "");
      var shortcut = document.createElement("strong");
      shortcut.textContent = "/" + item.shortcut;
      var title = document.createElement("span");
      title.textContent = " " + item.title;
      option.appendChild(shortcut);
      option.appendChild(title);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        pick(index);
      });
      picker.appendChild(option);
    });
    picker.hidden = found.length === 0;
    if (found.length) {
      composer.setAttribute("aria-activedescendant", "canned-option-" + chosen);
    }
  }

  function search(query) {
    var mine = ++asked;
    var url = composer.getAttribute("data-canned-url") + "?search=" + encodeURIComponent(query.text);
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : { items: [] };
    }).then(function (data) {
      if (mine !== asked || !slashQuery()) { return; }
      found = data.items;
      chosen = 0;
      drawPicker();
    }).catch(closePicker);
  }

  function pick(index) {
    var item = found[index];
    var query = slashQuery();
    if (!item || !query) { closePicker(); return; }
    var url = composer.getAttribute("data-canned-url") + "/" + item.id;
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (data === null) { return; }
      var value = composer.value;
      var end = composer.selectionStart;
      composer.value = value.slice(0, query.start) + data.text + value.slice(end);
      var caret = query.start + data.text.length;
      composer.setSelectionRange(caret, caret);
      composer.focus();
      composer.dispatchEvent(new Event("input"));
    });
    closePicker();
  }

  var typingSent = 0;
  function typing() {
    var now = Date.now();
    if (composer.getAttribute("data-typing-url") && now - typingSent > 3000) {
      typingSent = now;
      post(composer.getAttribute("data-typing-url"));
    }
  }

  if (composer && picker) {
    composer.addEventListener("input", function () {
      var query = slashQuery();
      window.clearTimeout(searchTimer);
      if (query) {
        searchTimer = window.setTimeout(function () { search(query); }, 120);
      } else {
        closePicker();
        if (composer.value) { typing(); }
      }
    });
    composer.addEventListener("keydown", function (event) {
      if (picker.hidden) {
        if (event.key === "Escape") { composer.blur(); }
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        chosen = (chosen + (event.key === "ArrowDown" ? 1 : found.length - 1)) % found.length;
        drawPicker();
        event.preventDefault();
      } else if (event.key === "Enter" || event.key === "Tab") {
        pick(chosen);
        event.preventDefault();
      } else if (event.key === "Escape") {
        closePicker();
        event.preventDefault();
      }
    });
    composer.addEventListener("blur", function () { window.setTimeout(closePicker, 150); });
  }

  // ---- Read marks and the customer's live signs ----
  var readTimer = null;
  function markRead() {
    if (!base || document.visibilityState !== "visible") { return; }
    window.clearTimeout(readTimer);
    readTimer = window.setTimeout(function () { post(base + "/read"); }, 300);
  }

  function show(selector, seconds) {
    var note = document.querySelector(selector);
    if (!note) { return; }
    note.hidden = false;
    window.clearTimeout(note._timer);
    if (seconds) {
      note._timer = window.setTimeout(function () { note.hidden = true; }, seconds * 1000);
    }
  }

  document.addEventListener("rapport:push", function (event) {
    var push = event.detail || {};
    if (push.type === "typing" && push.author_type === "customer") {
      show("[data-customer-typing]", 6);
    } else if (push.type === "conversation.read" && push.by === "customer") {
      show("[data-customer-read]", 0);
    } else if (push.type === "message.created") {
      var typingNote = document.querySelector("[data-customer-typing]");
      if (typingNote) { typingNote.hidden = true; }
      if (push.author_type === "customer") { markRead(); }
      if (push.author_type === "agent" && !push.private) {
        var readNote = document.querySelector("[data-customer-read]");
        if (readNote) { readNote.hidden = true; }
      }
    }
  });
  document.addEventListener("visibilitychange", markRead);
  markRead();

  // ---- Keyboard shortcuts ----
  function typingInField(target) {
    if (!target || !target.tagName) { return false; }
    var name = target.tagName.toLowerCase();
    return name === "input" || name === "textarea" || name === "select" || target.isContentEditable;
  }

  function inboxItems() {
    return Array.prototype.slice.call(document.querySelectorAll(".conversation-item"));
  }

  function rememberOrder() {
    var ids = inboxItems().map(function (item) { return item.getAttribute("data-conversation-id"); });
    if (ids.length) {
      try { window.sessionStorage.setItem(INBOX_KEY, JSON.stringify(ids)); } catch (error) { /* private mode */ }
    }
  }

  function moveInInbox(step) {
    var items = inboxItems();
    if (!items.length) { return; }
    var at = items.findIndex(function (item) { return item.classList.contains("selected"); });
    var next = at === -1 ? (step > 0 ? 0 : items.length - 1) : Math.min(Math.max(at + step, 0), items.length - 1);
    items.forEach(function (item) { item.classList.remove("selected"); });
    items[next].classList.add("selected");
    items[next].querySelector("a").focus();
    rememberOrder();
  }

  function moveFromConversation(step) {
    var ids = [];
    try { ids = JSON.parse(window.sessionStorage.getItem(INBOX_KEY) || "[]"); } catch (error) { ids = []; }
    var at = ids.indexOf(conversationId);
    if (at !== -1 && ids[at + step]) {
      window.location.assign("/console/inbox/conversations/" + ids[at + step]);
    }
  }

  function submit(form) {
    if (!form) { return; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function resolve() {
    var form = document.querySelector('form[action$="/status"]');
    if (!form) { return; }
    form.querySelector('select[name="status"]').value = "resolved";
    submit(form);
  }

  var dialog = document.getElementById("shortcuts");
  var actions = {
    j: function () { if (conversationId) { moveFromConversation(1); } else { moveInInbox(1); } },
    k: function () { if (conversationId) { moveFromConversation(-1); } else { moveInInbox(-1); } },
    r: function () { if (composer) { composer.focus(); } },
    e: resolve,
    a: function () { submit(document.querySelector("form[data-take]")); },
    "?": function () { if (dialog && !dialog.open) { dialog.showModal(); } }
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typingInField(event.target) || (dialog && dialog.open)) { return; }
    var action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
  if (!conversationId) { rememberOrder(); }
  document.documentElement.setAttribute("data-shortcuts", "ready");
})();
