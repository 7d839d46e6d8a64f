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

  // Select a one-time secret with one click, ready to copy.
  document.addEventListener("click", function (event) {
    var secret = event.target.closest("[data-secret]");
    if (secret) {
      window.getSelection().selectAllChildren(secret);
    }
  });
})();
