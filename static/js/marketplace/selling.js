// Selling pages: the review queue's bulk bar (select all, count, a reason before rejecting)
// and the listing form (an exclusive listing sells once, so its max sales is 1). The pages
// work without it; the server checks everything again.
(function () {
  "use strict";

  // --- Review queue ----------------------------------------------------------------------
  function boxesOf(form) {
    return document.querySelectorAll('input[name="ids"][form="' + form.id + '"]');
  }

  function refresh(form) {
    var boxes = boxesOf(form);
    var checked = 0;
    boxes.forEach(function (box) {
      if (box.checked) checked += 1;
    });
    var counter = form.querySelector("[data-selected-count]");
    if (counter) counter.textContent = checked ? checked + " selected" : "";
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    form.querySelectorAll('button[name="decision"]').forEach(function (button) {
      button.disabled = checked === 0;
    });
  }

  function setUpBulk(form) {
    refresh(form);
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        boxesOf(form).forEach(function (box) {
          box.checked = all.checked;
        });
        refresh(form);
      });
    }
    boxesOf(form).forEach(function (box) {
      box.addEventListener("change", function () {
        refresh(form);
      });
    });
    form.addEventListener("submit", function (event) {
      var reason = form.querySelector('input[name="reason"]');
      var rejecting = event.submitter && event.submitter.value === "reject";
      if (rejecting && reason && !reason.value.trim()) {
        event.preventDefault();
        reason.setCustomValidity("Say why the selected listings are rejected.");
        reason.reportValidity();
      }
    });
    var reason = form.querySelector('input[name="reason"]');
    if (reason) {
      reason.addEventListener("input", function () {
        reason.setCustomValidity("");
      });
    }
  }

  // --- Listing form ----------------------------------------------------------------------
  function setUpTerms(form) {
    var exclusive = form.querySelector('input[name="exclusive"]');
    var maxSales = form.querySelector('input[name="max_sales"]');
    if (!exclusive || !maxSales) return;
    function sync() {
      // Read-only rather than disabled: a disabled field would not be sent.
      maxSales.readOnly = exclusive.checked;
      if (exclusive.checked) maxSales.value = "1";
    }
    exclusive.addEventListener("change", sync);
    sync();
  }

  function start() {
    document.querySelectorAll("[data-review-bulk]").forEach(setUpBulk);
    document.querySelectorAll("form.listing-form").forEach(setUpTerms);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
