// Renders every Plotly figure a report page embeds: <div data-figure="ID"> + <script type="application/json"
// id="ID">figure</script>. OffsideReports.plotted resolves once all are drawn, for page scripts that add
// interaction (the video report's timeline).
(function () {
  "use strict";

  const CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function plot(el) {
    const source = document.getElementById(el.dataset.figure);
    if (!source) return Promise.resolve(el);
    const figure = JSON.parse(source.textContent);
    return window.Plotly.newPlot(el, figure.data, figure.layout, CONFIG).then(() => {
      el.dataset.rendered = "1";
      performance.mark("offside-drawn-" + el.id);  // read by benchmarks/report_speed.py
      return el;
    });
  }

  let resolvePlotted;
  const plotted = new Promise((resolve) => { resolvePlotted = resolve; });

  // One chart at a time, in page order, yielding between them so the first one paints as soon as it can.
  function plotAll() {
    const charts = Array.from(document.querySelectorAll("[data-figure]"));
    charts.reduce(
      (previous, el) => previous.then(() => new Promise((resolve) => setTimeout(() => plot(el).then(resolve), 0))),
      Promise.resolve(),
    ).then(resolvePlotted);
  }

  // "00:01:02.345" like scoring.segments.format_timecode.
  function timecode(seconds) {
    const totalMs = Math.round(seconds * 1000);
    const pad = (n, w) => String(n).padStart(w, "0");
    const hours = Math.floor(totalMs / 3600000);
    const minutes = Math.floor((totalMs % 3600000) / 60000);
    const secs = Math.floor((totalMs % 60000) / 1000);
    return pad(hours, 2) + ":" + pad(minutes, 2) + ":" + pad(secs, 2) + "." + pad(totalMs % 1000, 3);
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  window.OffsideReports = { plotted, timecode, csrfToken, CONFIG };
  document.addEventListener("DOMContentLoaded", plotAll);
})();
