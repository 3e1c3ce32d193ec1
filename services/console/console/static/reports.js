// The reports' charts: each <canvas data-chart> is drawn with Chart.js from the JSON the page carries beside it
// (the same numbers as the table next to the chart). Runs again on the sections htmx swaps in.
(function () {
  "use strict";
  var palette = ["#1f4e79", "#d17a00", "#2e7d32", "#8e3a9d", "#b3261e", "#00838f", "#5d4037", "#546e7a"];

  function tick(unit) {
    return function (value) {
      return unit === "percent" ? value + "%" : value;
    };
  }

  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || canvas.dataset.drawn) return;
      var figure = JSON.parse(source.textContent);
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: figure.labels,
          datasets: figure.series.map(function (series, index) {
            return { label: series.name, data: series.values, backgroundColor: palette[index % palette.length] };
          }),
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          scales: {
            y: {
              beginAtZero: true,
              max: figure.unit === "percent" ? 100 : undefined,
              ticks: { precision: figure.unit === "count" ? 0 : undefined, callback: tick(figure.unit) },
            },
          },
        },
      });
      canvas.dataset.drawn = "true";
    });
  }

  if (window.htmx) {
    window.htmx.onLoad(draw);
  } else {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  }
})();
