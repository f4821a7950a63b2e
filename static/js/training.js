// Model version page: a loss chart that grows one point per epoch from the job's WebSocket events
// ("offside:job" DOM events from jobs.js carry epoch, fold, train_loss, val_loss), and finished figures.
(function () {
  "use strict";

  const LAYOUT = {
    // automargin keeps the axis titles clear of the tick labels (without it "epoch" sat on the "10")
    margin: { l: 56, r: 16, t: 16, b: 72 },
    xaxis: { title: { text: "epoch", standoff: 8 }, automargin: true },
    yaxis: { title: { text: "loss (per frame)" }, automargin: true },
    legend: { orientation: "h", x: 0, y: 0, yref: "container", yanchor: "bottom" }, height: 320,
  };

  function readJson(id) {
    const el = document.getElementById(id);
    if (!el) return null;
    const value = JSON.parse(el.textContent);
    return typeof value === "string" ? JSON.parse(value) : value;  // figures arrive as Plotly JSON strings
  }

  // One trace per (fold, train|validation); fold 0 is the final model, folds >= 1 the calibration models.
  function LiveChart(el) {
    this.el = el;
    this.traces = [];
    this.index = {};
    this.drawn = false;
    this.revision = 0;
  }

  LiveChart.prototype.trace = function (fold, kind) {
    const key = fold + ":" + kind;
    if (!(key in this.index)) {
      const name = (fold === 0 ? "" : "calibration fold " + fold + " ") + kind;
      const dash = kind === "validation" ? "dash" : "solid";
      const colour = fold === 0 ? (kind === "train" ? "#2457a6" : "#1f7a4d") : "#b9c0cc";
      this.index[key] = this.traces.length;
      this.traces.push({ x: [], y: [], name: name, mode: "lines+markers", line: { dash: dash, color: colour } });
    }
    return this.traces[this.index[key]];
  };

  LiveChart.prototype.reset = function (points) {
    this.traces = [];
    this.index = {};
    points.forEach((p) => this.add(p));
  };

  LiveChart.prototype.add = function (point) {
    const fold = Number(point.fold || 0);
    if (point.train_loss !== undefined) {
      const t = this.trace(fold, "train");
      t.x.push(point.epoch); t.y.push(point.train_loss);
    }
    if (point.val_loss !== undefined) {
      const v = this.trace(fold, "validation");
      v.x.push(point.epoch); v.y.push(point.val_loss);
    }
  };

  LiveChart.prototype.draw = function () {
    if (!window.Plotly || !this.traces.length) return;
    // The traces' arrays grow in place, so Plotly.react sees the same objects: a new datarevision tells it
    // to draw them again. data-points counts the markers Plotly really drew (tests read it).
    const layout = Object.assign({}, LAYOUT, { datarevision: ++this.revision });
    Promise.resolve(Plotly.react(this.el, this.traces, layout, { responsive: true, displaylogo: false }))
      .then(() => { this.el.dataset.points = String(this.el.querySelectorAll(".scatterlayer .point").length); });
    const note = document.getElementById("loss-chart-note");
    if (note) note.textContent = "";
  };

  function drawFigure(elementId, figure) {
    const el = document.getElementById(elementId);
    if (el && figure && window.Plotly) {
      Plotly.newPlot(el, figure.data, figure.layout, { responsive: true, displaylogo: false });
    }
  }

  function start() {
    const el = document.getElementById("loss-chart");
    if (!el) return;
    const finished = readJson("curves-figure");
    drawFigure("calibration-chart", readJson("calibration-figure"));
    if (finished) { drawFigure("loss-chart", finished); return; }
    const chart = new LiveChart(el);
    (readJson("live-epochs") || []).forEach((p) => chart.add(p));
    chart.draw();
    const jobId = Number(el.dataset.jobId);
    // A snapshot (on connect, reconnect or after a gap) holds the whole loss history: redraw from it. Once the
    // job succeeds, jobs.js reloads the page (data-reload-when-succeeded) to show the calibration.
    document.addEventListener("offside:snapshot", (e) => {
      if (e.detail.id !== jobId || !e.detail.epochs) return;
      chart.reset(e.detail.epochs);
      chart.draw();
    });
    document.addEventListener("offside:job", (e) => {
      const event = e.detail;
      if (event.id !== jobId) return;
      if (event.val_loss !== undefined) { chart.add(event); chart.draw(); }
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
