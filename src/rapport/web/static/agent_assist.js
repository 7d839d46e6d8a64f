// The conversation page's "Suggested replies": Insert puts a suggestion's text into the reply
// composer (after what is there), where the agent edits it and sends it themselves.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert-reply]");
    if (!button) {
      return;
    }
    var composer = document.querySelector('.composer textarea[name="body"]');
    if (!composer) {
      return;
    }
    var text = button.getAttribute("data-text");
    composer.value = composer.value.trim() ? composer.value.replace(/\s*$/, "\n\n") + text : text;
    composer.focus();
  });
})();
