// The conversation page's "Suggested articles": Insert puts an article's title, snippet and
// help-center link into the reply composer, where the agent edits it before sending.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert-article]");
    if (!button) {
      return;
    }
    var composer = document.querySelector('.composer textarea[name="body"]');
    if (!composer) {
      return;
    }
    var link = new URL(button.getAttribute("data-url"), window.location.origin).href;
    var text = button.getAttribute("data-title") + "\n" + button.getAttribute("data-snippet") + "\n" + link;
    composer.value = composer.value ? composer.value.replace(/\s*$/, "\n\n") + text : text;
    composer.focus();
  });
})();
