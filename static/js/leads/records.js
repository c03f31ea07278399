// The lead list's bulk bar: select all on the page, show only the value the chosen action
// needs, count the selection, confirm a delete. Delegated from the document, so it keeps
// working after htmx swaps the results in.
(function () {
  "use strict";

  function formOf(element) {
    return element.closest("[data-bulk-form]");
  }

  function refresh(form) {
    if (!form) return;
    var action = form.querySelector("[data-bulk-action]");
    form.querySelectorAll("[data-bulk-value]").forEach(function (field) {
      field.hidden = !action || field.getAttribute("data-bulk-value") !== action.value;
    });
    var boxes = form.querySelectorAll('input[name="ids"]');
    var checked = form.querySelectorAll('input[name="ids"]:checked').length;
    var counter = form.querySelector("[data-selected-count]");
    if (counter) counter.textContent = checked ? checked + " selected" : "";
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }

  function refreshAll() {
    document.querySelectorAll("[data-bulk-form]").forEach(refresh);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = formOf(target);
    if (!form) return;
    if (target.matches("[data-select-all]")) {
      form.querySelectorAll('input[name="ids"]').forEach(function (box) {
        box.checked = target.checked;
      });
    }
    refresh(form);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-bulk-form]")) return;
    var checked = form.querySelectorAll('input[name="ids"]:checked').length;
    if (!checked) {
      event.preventDefault();
      window.alert("Select at least one lead first.");
      return;
    }
    var action = form.querySelector("[data-bulk-action]");
    if (action && action.value === "delete" &&
        !window.confirm("Delete " + checked + " lead" + (checked === 1 ? "" : "s") + "? You can restore them for a while.")) {
      event.preventDefault();
    }
  });

  document.addEventListener("DOMContentLoaded", refreshAll);
  document.addEventListener("htmx:afterSwap", refreshAll);
})();
