// Lead forms page: a "Copy snippet" button beside the embed code (shown only where the
// clipboard can be written; the text stays selectable either way).
(function () {
  "use strict";

  function setUp(button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(target.value || target.textContent).then(
        function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy snippet"; }, 2000);
        },
        function () {
          target.select();
        }
      );
    });
  }

  function init() {
    document.querySelectorAll("[data-copy-target]").forEach(setUp);
    document.querySelectorAll("textarea.embed-snippet").forEach(function (area) {
      area.addEventListener("focus", function () { area.select(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
