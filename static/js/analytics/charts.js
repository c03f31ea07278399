// Dashboard charts: every <canvas data-chart="ID"> draws the chart described by the JSON of
// the <script type="application/json" id="ID"> beside it: {kind: line|bar|donut, labels,
// datasets: [{label, data}]}. Colours follow the page's theme, and charts redraw when it
// changes. The same numbers are in the table under each chart.
(function () {
  "use strict";

  var PALETTE = ["#0172ad", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
  var charts = [];

  function textColor() {
    return getComputedStyle(document.documentElement).getPropertyValue("--pico-color").trim() || "#373c44";
  }

  function gridColor() {
    return getComputedStyle(document.documentElement).getPropertyValue("--pico-muted-border-color").trim() || "#e7eaf0";
  }

  function shortLabel(value) {
    var label = String(this.getLabelForValue(value));
    return label.length > 20 ? label.slice(0, 19) + "\u2026" : label;
  }

  function config(spec) {
    var donut = spec.kind === "donut";
    var datasets = spec.datasets.map(function (dataset, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: donut ? spec.labels.map(function (_, i) { return PALETTE[i % PALETTE.length]; }) : colour,
        borderColor: donut ? "transparent" : colour,
        tension: 0.25,
        pointRadius: spec.labels.length > 45 ? 0 : 3,
        fill: false
      };
    });
    var text = textColor();
    // Dates may skip a label; a bar of categories never goes unnamed: its labels tilt, and
    // long ones are cut (the table under the chart has them in full).
    var categories = spec.kind === "bar";
    var xTicks = categories
      ? { color: text, autoSkip: false, maxRotation: 50, callback: shortLabel }
      : { color: text, maxRotation: 0, autoSkip: true };
    var scales = donut ? {} : {
      x: { ticks: xTicks, grid: { color: gridColor() } },
      y: { beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: gridColor() } }
    };
    return {
      type: donut ? "doughnut" : spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { display: donut || datasets.length > 1, labels: { color: text } } }
      }
    };
  }

  function draw() {
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || typeof Chart === "undefined") { return; }
      charts.push(new Chart(canvas, config(JSON.parse(source.textContent))));
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
