// The catalog's filter form: empty filters stay out of the address, so links, history and
// saved searches carry only what was chosen. Works for htmx requests and plain submits.
(function () {
  "use strict";

  var FORM = "[data-catalog-filters]";

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.target.closest && event.target.closest(FORM);
    var data = event.detail && event.detail.formData;
    if (!form || !data) return;
    Array.from(new Set(data.keys())).forEach(function (name) {
      var values = data.getAll(name).filter(function (value) {
        return typeof value !== "string" || value.trim() !== "";
      });
      data.delete(name);
      values.forEach(function (value) {
        data.append(name, value);
      });
    });
  });

  // Without htmx the form submits as a plain GET: leave the empty fields out of it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(FORM) || event.defaultPrevented) return;
    var emptied = [];
    form.querySelectorAll("input, select").forEach(function (field) {
      if (!field.disabled && field.name && field.value.trim() === "") {
        field.disabled = true;
        emptied.push(field);
      }
    });
    window.setTimeout(function () {
      emptied.forEach(function (field) {
        field.disabled = false;
      });
    }, 0);
  });
})();
