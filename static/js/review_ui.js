// Review mode on the video report: the player and the score timeline in sync (a playhead line follows the
// player; a click on the chart seeks), and the edits of review.js on keys, buttons and edge drags on the
// timeline. "Save review" stores the result as the run's reviewed segments (POST /runs/<id>/review/).
(function () {
  "use strict";

  const OUT_FILL = "rgba(179, 38, 30, 0.13)";
  const OWN_SHAPES = ["out", "review-selected", "playhead", "review-drag"];
  const DRAG_PX = 6;  // how close to an edge a mouse press grabs it
  const KEYS = {
    KeyN: "next", KeyP: "previous", KeyS: "split", KeyM: "merge", KeyI: "in", KeyO: "out", KeyC: "category",
    KeyU: "undo", BracketLeft: "start", BracketRight: "end", Space: "play", ArrowLeft: "back", ArrowRight: "forward",
    Comma: "frameBack", Period: "frameForward",
  };
  const ui = { review: null, data: null, drag: null, timeline: null, player: null, frameS: 0.04 };

  const $ = (selector) => document.querySelector(selector);
  const playhead = () => (ui.player ? ui.player.currentTime : 0);

  function status(text) { $("[data-review-status]").textContent = text; }

  function seek(t) {
    if (ui.player) ui.player.currentTime = Math.max(0, t);
    drawShapes();
  }

  // --- drawing ---------------------------------------------------------------------------------------------

  function segmentShapes() {
    if (!ui.review) return [];
    const shapes = ui.review.segments.filter((s) => s.label === "out").map((s) => ({
      type: "rect", xref: "x", yref: "paper", x0: s.start_s, x1: s.end_s, y0: 0, y1: 1,
      fillcolor: OUT_FILL, line: { width: 0 }, layer: "below", name: "out",
    }));
    const selected = ui.review.segments[ui.review.selected];
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: selected.start_s, x1: selected.end_s, y0: 0, y1: 1,
      fillcolor: "rgba(0,0,0,0)", line: { color: "#1d2330", width: 2 }, name: "review-selected" });
    if (ui.drag && ui.drag.t !== undefined) {
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: ui.drag.t, x1: ui.drag.t, y0: 0, y1: 1,
        line: { color: "#a86b00", width: 2, dash: "dot" }, name: "review-drag" });
    }
    return shapes;
  }

  function drawShapes() {
    const timeline = ui.timeline;
    if (!timeline || !timeline.layout) return;
    const mine = ui.review ? OWN_SHAPES : OWN_SHAPES.slice(2);  // outside review mode the page owns "out"
    const kept = (timeline.layout.shapes || []).filter((s) => !mine.includes(s.name));
    const t = playhead();
    const line = { type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1, name: "playhead",
      line: { color: "#2457a6", width: 2 } };
    window.Plotly.relayout(timeline, { shapes: kept.concat(segmentShapes(), [line]) });
  }

  function meanScore(start, end) {
    const d = ui.data;
    const lo = window.OffsideWhatIf.searchSorted(d.times, start, false);
    const hi = window.OffsideWhatIf.searchSorted(d.times, end, false);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += d.best[i];
    return hi > lo ? sum / (hi - lo) : 0;
  }

  function render() {
    const review = ui.review;
    review.segments.forEach((s) => { s.mean_score = meanScore(s.start_s, s.end_s); });
    window.OffsideVideoReport.renderTable(review.segments);
    window.OffsideVideoReport.updateSummary(review.segments);
    const rows = document.querySelectorAll("#segment-table tbody tr");
    rows.forEach((row, k) => {
      row.classList.toggle("selected", k === review.selected);
      const category = review.segments[k].category;
      if (category) row.cells[4].textContent += " · " + category;
    });
    if (rows[review.selected]) rows[review.selected].scrollIntoView({ block: "nearest" });
    drawShapes();
    $('[data-review-action="save"]').textContent = review.dirty ? "Save review *" : "Save review";
  }

  // --- actions ---------------------------------------------------------------------------------------------

  function defaultCategory(segment) {
    if (segment.label === "in" && segment.category) return segment.category;
    return ui.review.categories.length === 1 ? ui.review.categories[0] : "";
  }

  const ACTIONS = {
    next: () => seek(ui.review.next().start_s),
    previous: () => seek(ui.review.previous().start_s),
    split: (free) => ui.review.split(playhead(), free),
    merge: () => ui.review.merge(ui.review.selected),
    in: () => ui.review.relabel(ui.review.selected, "in", defaultCategory(ui.review.segments[ui.review.selected])),
    out: () => ui.review.relabel(ui.review.selected, "out", ""),
    category: () => ui.review.nextCategory(ui.review.selected),
    start: (free) => ui.review.moveStart(ui.review.selected, playhead(), free),
    end: (free) => ui.review.moveEnd(ui.review.selected, playhead(), free),
    undo: () => { if (!ui.review.undo()) status("Nothing to undo."); },
    play: () => { if (ui.player) { if (ui.player.paused) ui.player.play(); else ui.player.pause(); } },
    back: () => seek(playhead() - 1),
    forward: () => seek(playhead() + 1),
    frameBack: () => seek(playhead() - ui.frameS),
    frameForward: () => seek(playhead() + ui.frameS),
    drag: (free, edge, clientX) => ui.review.moveBoundary(edge, timeAt(clientX), free),
    save: () => save(),
  };
  const EDITS = ["next", "previous", "split", "merge", "in", "out", "category", "start", "end", "undo", "drag"];

  function act(name, free, ...args) {
    if (!ui.review) return;
    try {
      ACTIONS[name](free, ...args);
      if (EDITS.includes(name)) { status(""); render(); }
    } catch (error) {
      if (!(error instanceof window.OffsideReview.ReviewError)) throw error;
      status(error.message);
    }
  }

  function save() {
    const review = ui.review;
    status("Saving…");
    fetch($("#review-bar").dataset.reviewUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify({ segments: review.toJSON() }),
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.OffsideReports.csrfToken() },
    }).then((response) => response.json().then((body) => ({ ok: response.ok, body })))
      .then(({ ok, body }) => {
        if (!ok) { status(body.error || "The review could not be saved."); return; }
        review.markSaved();
        render();
        status("Saved: every export and render now uses your review.");
        document.getElementById("review-bar").dataset.saved = body.reviewed_at;
      })
      .catch((error) => status("Could not save: " + error.message));
  }

  function discard() {
    fetch($("#review-bar").dataset.reviewUrl, {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": window.OffsideReports.csrfToken() },
    }).then(() => window.location.reload());
  }

  function toggleHelp(show) {
    const help = document.getElementById("review-help");
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  function begin() {
    const saved = JSON.parse(document.getElementById("review-segments").textContent);
    const whatIf = window.OffsideVideoReport.whatIfSegments();
    const d = ui.data;
    ui.frameS = d.n > 1 ? (d.times[d.n - 1] - d.times[0]) / (d.n - 1) : 0.04;
    ui.review = new window.OffsideReview.Review(whatIf || saved, {
      cuts: d.cuts ? Array.from(d.cuts) : [], minS: ui.frameS, categories: d.categories, snapS: 1.0,
    });
    document.querySelectorAll("#whatif input, #whatif button").forEach((el) => { el.disabled = true; });
    $("[data-review-controls]").hidden = false;
    $("#review-start").hidden = true;
    status(whatIf ? "Reviewing the what-if segments." : "Press ? for the keys.");
    render();
  }

  // --- mouse: drag an edge on the timeline -----------------------------------------------------------------

  function timeAt(clientX) {
    const box = ui.timeline.querySelector(".nsewdrag").getBoundingClientRect();
    return ui.timeline._fullLayout.xaxis.p2l(clientX - box.left);
  }

  function edgeUnder(event) {
    if (!ui.review || !event.target.closest(".nsewdrag")) return -1;
    const axis = ui.timeline._fullLayout.xaxis;
    return ui.review.boundaryNear(timeAt(event.clientX), Math.abs(axis.p2l(DRAG_PX) - axis.p2l(0)));
  }

  function enableDrag(timeline) {
    // Capture phase: this runs before Plotly's own drag-to-zoom on the same press, and stops it.
    timeline.addEventListener("mousedown", (event) => {
      const edge = event.button === 0 ? edgeUnder(event) : -1;
      if (edge < 0) return;
      event.stopPropagation();
      event.preventDefault();
      ui.drag = { edge };
      const move = (e) => { ui.drag.t = ui.review.snap(timeAt(e.clientX), e.altKey); drawShapes(); };
      const up = (e) => {
        window.removeEventListener("mousemove", move);
        ui.drag = null;
        act("drag", e.altKey, edge, e.clientX);
      };
      window.addEventListener("mousemove", move);
      window.addEventListener("mouseup", up, { once: true });
    }, true);
    timeline.addEventListener("mousemove", (event) => {
      const layer = timeline.querySelector(".nsewdrag");
      if (layer && !ui.drag) layer.style.cursor = edgeUnder(event) >= 0 ? "col-resize" : "";
    }, true);
  }

  // --- wiring ----------------------------------------------------------------------------------------------

  function onKey(event) {
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    if (event.key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (event.key === "Escape") { toggleHelp(false); return; }
    const undoKey = (event.ctrlKey || event.metaKey) && event.code === "KeyZ";
    if (!ui.review || ((event.ctrlKey || event.metaKey) && !undoKey)) return;
    const name = undoKey ? "undo" : KEYS[event.code];
    if (!name || (name === "play" && event.target === ui.player)) return;
    event.preventDefault();
    act(name, event.altKey);
  }

  function start() {
    const bar = document.getElementById("review-bar");
    if (!bar) return;
    ui.player = document.getElementById("player");
    document.addEventListener("keydown", onKey);
    bar.addEventListener("click", (event) => {
      const button = event.target.closest("[data-review-action]");
      if (!button) return;
      const name = button.dataset.reviewAction;
      if (name === "help") toggleHelp();
      else if (name === "discard") discard();
      else act(name, false);
    });
    document.querySelector('#review-help [data-review-action="help"]').addEventListener("click", () => toggleHelp(false));
    $("#review-start").addEventListener("click", begin);
    $("#segment-table").addEventListener("click", (event) => {
      const row = event.target.closest("tr");
      if (ui.review && row && row.parentElement.tagName === "TBODY") { ui.review.select(row.sectionRowIndex); render(); }
    });
    ["timeupdate", "seeked"].forEach((name) => ui.player && ui.player.addEventListener(name, drawShapes));
    window.addEventListener("beforeunload", (event) => {
      if (ui.review && ui.review.dirty) { event.preventDefault(); event.returnValue = ""; }
    });
    window.OffsideReports.plotted.then(() => {
      ui.timeline = document.getElementById("timeline");
      enableDrag(ui.timeline);
    });
    document.addEventListener("offside:report-data", (event) => {
      ui.data = event.detail;
      $("#review-start").disabled = false;
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
