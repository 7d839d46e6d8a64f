// The console's only script: progressive enhancements on server-rendered pages.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // HTMX requests carry the CSRF token from the page's <meta> tag as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Copy through a hidden text area where the Clipboard API is missing (plain-http hosts).
  function copyByCommand(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(area);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyByCommand(text);
      });
    }
    return copyByCommand(text);
  }

  function copyFrom(button) {
    var scope = button.closest("[data-copy-scope]") || document;
    var parts = Array.prototype.map.call(
      scope.querySelectorAll(button.getAttribute("data-copy")),
      function (element) { return element.textContent.trim(); }
    );
    var status = button.nextElementSibling;
    function tell(message) {
      button.textContent = message;
      if (status && status.hasAttribute("data-copy-status")) {
        status.textContent = message;
      }
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }
    copyText(parts.join("\n")).then(
      function () { tell("Copied"); },
      function () { tell("Select and copy"); }
    );
  }

  // The phone layout's menu button opens and closes the navigation.
  function toggleMenu(button) {
    var sidebar = button.closest(".sidebar");
    var open = sidebar.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  // A preset ticks its scopes; ticking a scope by hand makes the key custom again.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("[data-scope-form]");
    if (!form) {
      return;
    }
    if (event.target.name === "preset") {
      var wanted = (event.target.getAttribute("data-scopes") || "").split(" ");
      if (event.target.value === "custom") {
        return;
      }
      form.querySelectorAll('input[name="scopes"]').forEach(function (box) {
        box.checked = wanted.indexOf(box.value) !== -1;
      });
    } else if (event.target.name === "scopes") {
      form.querySelector('input[name="preset"][value="custom"]').checked = true;
    }
  });

  document.addEventListener("click", function (event) {
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      copyFrom(copy);
      return;
    }
    var menu = event.target.closest("[data-menu-toggle]");
    if (menu) {
      toggleMenu(menu);
      return;
    }
    // Select a one-time secret with one click, ready to copy.
    var secret = event.target.closest("[data-secret]");
    if (secret) {
      window.getSelection().selectAllChildren(secret);
    }
  });
})();
