// The video report: timeline zoom on the full data, click -> frame / reconstruction / heatmap + seek, the
// what-if control (static/js/whatif.js), occlusion maps and renders as jobs followed over the WebSocket.
(function () {
  "use strict";

  const MAX_POINTS = 2000;  // per trace, like webapp/report_data.PAGE_MAX_POINTS
  const PARAMS = ["high", "low", "window_s", "min_segment_s", "snap_to_cuts_s"];
  const OUT_FILL = "rgba(179, 38, 30, 0.13)";
  const state = { data: null, params: null, runParams: null, frame: null, segments: null };

  // base64 -> typed array through the browser's own decoder (a data: URL), much faster than atob loops.
  function decode(base64, Type) {
    return fetch("data:application/octet-stream;base64," + base64)
      .then((response) => response.arrayBuffer())
      .then((buffer) => new Type(buffer));
  }

  // Per-bucket min and max of each row over [lo, hi), like webapp.charts.minmax_indices (one row).
  function minmaxIndices(values, lo, hi, maxPoints) {
    const n = hi - lo;
    const keep = new Set([lo, Math.max(hi - 1, lo)]);
    if (n <= maxPoints) { for (let i = lo; i < hi; i++) keep.add(i); return Array.from(keep).sort((a, b) => a - b); }
    const buckets = Math.floor(maxPoints / 2);
    for (let b = 0; b < buckets; b++) {
      const start = lo + Math.floor((b * n) / buckets);
      const stop = lo + Math.floor(((b + 1) * n) / buckets);
      let min = start;
      let max = start;
      for (let i = start; i < stop; i++) {
        if (values[i] < values[min]) min = i;
        if (values[i] > values[max]) max = i;
      }
      keep.add(min); keep.add(max);
    }
    return Array.from(keep).sort((a, b) => a - b);
  }

  function traceRows() {
    const d = state.data;
    const rows = d.categories.map((_, k) => d.scores.subarray(k * d.n, (k + 1) * d.n));
    rows.push(state.smoothed || d.best);
    return rows;
  }

  function redraw(timeline, range) {
    const d = state.data;
    if (!d) return;
    let lo = 0;
    let hi = d.n;
    if (range) {
      lo = Math.max(0, window.OffsideWhatIf.searchSorted(d.times, range[0], false) - 1);
      hi = Math.min(d.n, window.OffsideWhatIf.searchSorted(d.times, range[1], true) + 1);
    }
    const update = { x: [], y: [], customdata: [] };
    traceRows().forEach((values) => {
      const keep = minmaxIndices(values, lo, hi, MAX_POINTS);
      update.x.push(keep.map((i) => d.times[i]));
      update.y.push(keep.map((i) => values[i]));
      update.customdata.push(keep);
    });
    window.Plotly.restyle(timeline, update, update.x.map((_, i) => i));
  }

  function visibleRange(timeline) {
    const axis = timeline.layout.xaxis;
    return axis.autorange ? null : axis.range.map(Number);
  }

  // --- what-if -----------------------------------------------------------------------------------------

  function readParams(form) {
    const params = {};
    PARAMS.forEach((name) => { params[name] = parseFloat(form.elements[name].value); });
    const tooBig = (name) => params[name] > parseFloat(form.elements[name].max);
    if (PARAMS.some((name) => !isFinite(params[name]) || params[name] < 0 || tooBig(name))) return null;
    if (params.low > params.high) return null;
    return params;
  }

  function sameParams(a, b) { return PARAMS.every((name) => Math.abs(a[name] - b[name]) < 1e-12); }

  function shapesFor(timeline, segments) {
    const kept = (timeline.layout.shapes || []).filter((s) => s.name !== "out" && s.name !== "cursor");
    const outs = segments.filter((s) => s.label === "out").map((s) => ({
      type: "rect", xref: "x", yref: "paper", x0: s.start_s, x1: s.end_s, y0: 0, y1: 1,
      fillcolor: OUT_FILL, line: { width: 0 }, layer: "below", name: "out",
    }));
    const cursor = (timeline.layout.shapes || []).filter((s) => s.name === "cursor");
    return kept.concat(outs, cursor);
  }

  function renderTable(segments) {
    const body = document.querySelector("#segment-table tbody");
    const tc = window.OffsideReports.timecode;
    body.replaceChildren(...segments.map((s, k) => {
      const row = document.createElement("tr");
      row.className = "seg-row-" + s.label;
      row.dataset.start = s.start_s;
      [k + 1, tc(s.start_s), tc(s.end_s), (s.end_s - s.start_s).toFixed(3) + " s", s.label, s.mean_score.toFixed(3)]
        .forEach((text) => { const cell = document.createElement("td"); cell.textContent = text; row.appendChild(cell); });
      return row;
    }));
  }

  function updateSummary(segments) {
    const outs = segments.filter((s) => s.label === "out");
    const total = outs.reduce((sum, s) => sum + s.end_s - s.start_s, 0);
    document.querySelector('[data-summary="out-segments"]').textContent = outs.length;
    document.querySelector('[data-summary="out-duration"]').textContent = total.toFixed(1) + " s";
  }

  function updateExports(params, isRun) {
    document.querySelectorAll("a[data-export]").forEach((link) => {
      const url = new URL(link.href, window.location.href);
      PARAMS.forEach((name) => { if (isRun) url.searchParams.delete(name); else url.searchParams.set(name, params[name]); });
      link.href = url.pathname + url.search;
    });
    const note = document.querySelector("[data-whatif-note]");
    if (note) note.hidden = isRun;
  }

  function recompute(timeline, form) {
    const params = readParams(form);
    const status = document.querySelector("[data-whatif-status]");
    if (!params) { status.textContent = "Use numbers from 0 to each field's maximum, with “back in” no higher than “enter out”.";
      return;
    }
    const started = performance.now();
    const d = state.data;
    const result = window.OffsideWhatIf.decideSegments(d.best, d.times, params, d.cuts);
    state.params = params;
    state.segments = result.segments;
    state.smoothed = result.smoothed;
    window.Plotly.relayout(timeline, { shapes: shapesFor(timeline, result.segments) });
    redraw(timeline, visibleRange(timeline));
    renderTable(result.segments);
    updateSummary(result.segments);
    updateExports(params, sameParams(params, state.runParams));
    const ms = Math.round(performance.now() - started);
    status.textContent = result.segments.length + " segments, recomputed in " + ms + " ms";
  }

  function enableWhatIf(timeline) {
    const form = document.getElementById("whatif");
    form.querySelectorAll("input, button").forEach((el) => { el.disabled = false; });
    form.addEventListener("input", () => recompute(timeline, form));
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", (event) => {
      event.preventDefault();
      PARAMS.forEach((name) => { form.elements[name].value = state.runParams[name]; });
      recompute(timeline, form);
    });
    document.querySelector("[data-whatif-status]").textContent = "Change a value to re-decide every frame.";
  }

  // --- frames --------------------------------------------------------------------------------------------

  function frameUrl(index, kind, model) { return "/runs/" + state.run + "/frames/" + index + "/" + kind + ".png?m=" + model; }

  function markCursor(timeline, t) {
    const shapes = (timeline.layout.shapes || []).filter((s) => s.name !== "cursor");
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1, name: "cursor",
      line: { color: "#1d2330", width: 1 } });
    window.Plotly.relayout(timeline, { shapes });
  }

  function showFrame(timeline, index) {
    fetch("/runs/" + state.run + "/frames/" + index + "/", { credentials: "same-origin" })
      .then((response) => { if (!response.ok) throw new Error(response.statusText); return response.json(); })
      .then((info) => {
        state.frame = info;
        const panel = document.getElementById("frame-panel");
        panel.hidden = false;
        panel.querySelector('[data-frame="timecode"]').textContent = info.timecode;
        panel.querySelector('[data-frame="scores"]').textContent = Object.entries(info.scores)
          .map(([name, score]) => name + " " + score.toFixed(3)).join(" · ");
        panel.querySelector('[data-frame="model"]').textContent = Object.keys(info.scores)[info.model_index];
        showFramePictures(info);
        const occlusion = document.getElementById("frame-occlusion");
        occlusion.hidden = !info.occlusion_ready;
        if (info.occlusion_ready) occlusion.src = frameUrl(index, "occlusion", info.model_index);
        document.getElementById("occlusion-button").disabled = info.occlusion_ready;
        // A run kept after its model version was deleted: the frame only, and why the rest is gone.
        ["frame-recon", "frame-heatmap"].forEach((id) => {
          document.getElementById(id).closest("figure").hidden = !info.model_available;
        });
        document.getElementById("occlusion-figure").hidden = !info.model_available && !info.occlusion_ready;
        const gone = document.getElementById("frame-model-gone");
        gone.textContent = info.model_message;
        gone.hidden = info.model_available;
        const player = document.getElementById("player");
        if (player) player.currentTime = info.t_s;
        markCursor(timeline, info.t_s);
      })
      .catch((error) => { document.querySelector("[data-whatif-status]").textContent = "Frame: " + error.message; });
  }

  // The pictures come from the video's preview store; a video probed before the store existed gets it from
  // a worker job, which this follows before asking for them.
  function showFramePictures(info) {
    const ids = { frame: "frame-original", recon: "frame-recon", error: "frame-heatmap" };
    const note = document.getElementById("frame-previews-note");
    const stage = note.querySelector('[data-field="stage"]');
    const load = () => {
      note.hidden = true;
      Object.entries(ids).forEach(([kind, id]) => {
        if (kind === "frame" || info.model_available) document.getElementById(id).src = frameUrl(info.index, kind, info.model_index);
      });
    };
    if (info.images_ready) { load(); return; }
    Object.values(ids).forEach((id) => document.getElementById(id).removeAttribute("src"));
    stage.textContent = info.previews_message;
    note.hidden = false;
    if (!info.previews_job_id) return;
    followJob(info.previews_job_id, note, (event) => {
      if (event.status === "succeeded" && state.frame === info) load();
    });
  }

  function followJob(jobId, root, onDone) {
    const bar = root.querySelector('[data-field="bar"]');
    const stage = root.querySelector('[data-field="stage"]');
    const state = root.querySelector('[data-field="job-status"]');
    const connection = window.OffsideJobs.connect("/ws/jobs/" + jobId + "/", (event) => {
      if (bar) bar.style.width = Math.round(event.progress * 100) + "%";
      if (stage) stage.textContent = event.status === "failed" ? event.error : event.stage;
      if (state) state.textContent = event.status;
      if (["succeeded", "failed", "cancelled"].includes(event.status)) { connection.stop(); onDone(event); }
    });
  }

  function startOcclusion() {
    const info = state.frame;
    const button = document.getElementById("occlusion-button");
    const figure = document.getElementById("occlusion-figure");
    const body = new URLSearchParams({ m: info.model_index });
    button.disabled = true;
    figure.querySelector(".occlusion-progress").hidden = false;
    fetch("/runs/" + state.run + "/frames/" + info.index + "/occlusion/", {
      method: "POST", credentials: "same-origin", body,
      headers: { "X-CSRFToken": window.OffsideReports.csrfToken() },
    }).then((response) => response.json()).then((job) => {
      const show = () => {
        const image = document.getElementById("frame-occlusion");
        image.src = job.image_url; image.hidden = false;
        figure.querySelector(".occlusion-progress").hidden = true;
      };
      if (job.status === "succeeded") { show(); return; }
      followJob(job.job_id, figure, (event) => { if (event.status === "succeeded") show(); else button.disabled = false; });
    });
  }

  function startRender(event) {
    event.preventDefault();
    const form = event.target;
    const body = new URLSearchParams(new FormData(form));
    body.set("keep", event.submitter ? event.submitter.value : "in");
    if (state.params) PARAMS.forEach((name) => body.set(name, state.params[name]));
    const status = form.querySelector("[data-render-status]");
    fetch(form.action, { method: "POST", credentials: "same-origin", body })
      .then((response) => response.json())
      .then((job) => {
        if (job.error) { status.textContent = job.error; return; }  // refused up front (nothing to keep)
        status.replaceChildren();
        const link = document.createElement("a");
        link.href = job.url; link.textContent = "render job #" + job.job_id;
        const state = document.createElement("span");  // queued, running, then how it ended
        state.dataset.field = "job-status"; state.textContent = "queued";
        status.append(link, " · ", state);
        followJob(job.job_id, form, (done) => {
          if (done.status !== "succeeded") { status.append(" " + (done.error || "")); return; }
          const download = document.createElement("a");
          download.href = done.result.url + "?download=1"; download.textContent = "download";
          status.append(" · ", download);
        });
      });
  }

  // --- start -------------------------------------------------------------------------------------------------

  // Starts at once, while the charts draw; resolves to the decoded arrays.
  function fetchData(root) {
    return fetch(root.dataset.dataUrl, { credentials: "same-origin" })
      .then((response) => { if (!response.ok) throw new Error(response.statusText); return response.json(); })
      .then((raw) => Promise.all([
        decode(raw.times, Float64Array), decode(raw.best, Float64Array), decode(raw.scores, Float32Array),
      ]).then(([times, best, scores]) => ({
        n: raw.n, categories: raw.categories, cuts: raw.cuts ? Float64Array.from(raw.cuts) : null,
        params: raw.params, times, best, scores,
      })));
  }

  function loadData(dataPromise, timeline) {
    return dataPromise
      .then((data) => {
        state.data = data;
        const raw = data;
        state.runParams = raw.params;
        state.smoothed = window.OffsideWhatIf.smoothScores(state.data.best, state.data.times, raw.params.window_s);
        timeline.on("plotly_relayout", (change) => {
          if ("xaxis.range[0]" in change || "xaxis.range" in change || "xaxis.autorange" in change) {
            redraw(timeline, visibleRange(timeline));
          }
        });
        enableWhatIf(timeline);
        document.dispatchEvent(new CustomEvent("offside:report-data", { detail: state.data }));
      });
  }

  function start() {
    const root = document.getElementById("video-report");
    if (!root) return;
    state.run = root.dataset.run;
    const dataPromise = fetchData(root);
    window.OffsideReports.plotted.then(() => {
      const timeline = document.getElementById("timeline");
      timeline.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (point && point.customdata !== undefined) showFrame(timeline, point.customdata);
      });
      document.getElementById("occlusion-button").addEventListener("click", startOcclusion);
      document.getElementById("render-form").addEventListener("submit", startRender);
      const player = document.getElementById("player");
      // A container the browser cannot play (MPEG-TS): say so rather than show a blank player.
      const cannotPlay = () => { document.getElementById("player-error").hidden = false; };
      if (player) { player.addEventListener("error", cannotPlay); if (player.error) cannotPlay(); }
      document.getElementById("segment-table").addEventListener("click", (event) => {
        const row = event.target.closest("tr[data-start]");
        const player = document.getElementById("player");
        if (row && player) player.currentTime = parseFloat(row.dataset.start);
      });
      loadData(dataPromise, timeline).catch((error) => {
        document.querySelector("[data-whatif-status]").textContent = "Could not load the frames: " + error.message;
      });
    });
  }

  // For review mode (review_ui.js): the same table and summary, and the what-if segments when they differ
  // from the run's.
  window.OffsideVideoReport = {
    renderTable, updateSummary,
    whatIfSegments: () => (state.params && !sameParams(state.params, state.runParams) ? state.segments : null),
  };
  document.addEventListener("DOMContentLoaded", start);
})();
