// Dark/light theme: applied before first paint from the saved choice or the system
// setting, switched by any .theme-toggle button. Loaded as a file so the CSP holds.
(function () {
  var KEY = "leadnexus-theme";
  var root = document.documentElement;

  function preferred() {
    var saved = null;
    try { saved = localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    if (saved === "dark" || saved === "light") return saved;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function apply(theme) {
    root.setAttribute("data-theme", theme);
  }

  apply(preferred());

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".theme-toggle");
    if (!button) return;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    apply(next);
    try { localStorage.setItem(KEY, next); } catch (e) { /* storage blocked */ }
  });
})();
