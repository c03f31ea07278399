// Merge page: the Result column follows the radio chosen in each row, so the merged lead
// can be read before it is saved. Without JavaScript the column shows the suggestion.
(function () {
  "use strict";

  function update(radio) {
    var row = radio.closest("[data-merge-row]");
    var result = row && row.querySelector("[data-merge-result]");
    if (result && radio.checked) {
      result.textContent = radio.getAttribute("data-merge-value") || "—";
    }
  }

  function init() {
    document.addEventListener("change", function (event) {
      if (event.target.matches("[data-merge-row] input[type=radio]")) {
        update(event.target);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
