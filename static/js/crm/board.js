// The pipeline board: cards move between stage columns by drag and drop (SortableJS). A drop
// posts the move with htmx's ajax helper; closing asks for the amount won or the lost reason
// first. The board reloads after every answer, so its counts and totals stay the server's.
(function () {
  "use strict";

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function showError(message) {
    var box = document.getElementById("board-error");
    box.textContent = message;
    box.hidden = false;
  }

  function move(card, stage) {
    var values = { stage: stage };
    if (stage === "closed_won") {
      var amount = window.prompt("Amount won?", card.dataset.amount || "");
      if (amount === null) { window.location.reload(); return; }
      values.amount = amount;
    }
    if (stage === "closed_lost") {
      var reason = window.prompt("Why was it lost?", "");
      if (reason === null) { window.location.reload(); return; }
      values.lost_reason = reason;
    }
    htmx.ajax("POST", card.dataset.moveUrl, {
      values: values,
      headers: { "X-CSRFToken": csrfToken() },
      swap: "none",
    }).then(function () {
      window.location.reload();
    });
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(event.detail.xhr.responseText || "The move was refused.");
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".board-cards").forEach(function (list) {
      Sortable.create(list, {
        group: "pipeline",
        animation: 150,
        filter: ".board-empty",
        onAdd: function (event) { move(event.item, event.to.dataset.stage); },
      });
    });
  });
})();
