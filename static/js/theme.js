// Dark/light theme, applied before first paint. Loaded as a file so the CSP holds.
//
// Signed in: the page arrives with the user's choice (<html data-theme-choice>, plus
// data-theme for light or dark); "system" follows the device. The header's toggle switches at
// once and saves the choice to the account in the background (its form posts without scripts).
// Anonymous: the last toggle is kept in localStorage, else the device's setting.
(function () {
  var KEY = "leadnexus-theme";
  var root = document.documentElement;
  var choice = root.getAttribute("data-theme-choice"); // null when anonymous
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function system() {
    return dark && dark.matches ? "dark" : "light";
  }

  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; /* storage blocked */ }
  }

  function remember(theme) {
    try {
      if (theme === "dark" || theme === "light") localStorage.setItem(KEY, theme);
      else localStorage.removeItem(KEY);
    } catch (e) { /* storage blocked */ }
  }

  function preferred() {
    if (choice === "dark" || choice === "light") return choice;
    if (choice === "system") return system();
    var saved = stored();
    return saved === "dark" || saved === "light" ? saved : system();
  }

  function apply(theme) {
    root.setAttribute("data-theme", theme);
  }

  apply(preferred());
  // Pages that know no user (error pages, after signing out) show the account's last choice.
  if (choice) remember(choice);

  if (dark && dark.addEventListener) {
    dark.addEventListener("change", function () {
      if (choice === "system" || (!choice && !stored())) apply(system());
    });
  }

  function save(form, theme) {
    form.elements.theme.value = theme;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (response) {
      // Signed out meanwhile, or refused: let the server answer the plain way.
      if (!response.ok || response.redirected) form.submit();
    }, function () {
      form.submit();
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".theme-toggle");
    if (!button) return;
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    apply(next);
    var form = button.closest("form.theme-form");
    if (form) {
      event.preventDefault();
      choice = next;
      root.setAttribute("data-theme-choice", next);
      remember(next);
      save(form, next);
    } else {
      remember(next);
    }
  });
})();
