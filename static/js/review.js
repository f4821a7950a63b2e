// Review mode's segment edits, without the page: split, merge, move an edge, relabel, undo, and snapping a
// time to the nearest shot cut within a second. The page (review_ui.js) drives it with keys and the mouse;
// tests/webapp/test_review_js.py runs it under node. The server checks the result with
// scoring.review.check_tiling: segments tile [start, end] back to back, each at least one frame long.
// Also usable under node: module.exports = { Review, ReviewError }.
(function (root) {
  "use strict";

  const LABELS = ["in", "out"];

  class ReviewError extends Error {}

  function copy(segments) {
    return segments.map((s) => ({
      start_s: s.start_s, end_s: s.end_s, label: s.label, category: s.category || "", mean_score: s.mean_score || 0,
    }));
  }

  // options: cuts (sorted shot-cut times, s), snapS (how far a time jumps to a cut, default 1 s),
  // minS (shortest segment: one frame), categories (names a segment can be relabelled as).
  class Review {
    constructor(segments, options) {
      const opts = options || {};
      if (!segments.length) throw new ReviewError("Nothing to review: the run has no segments.");
      this.segments = copy(segments);
      this.cuts = Array.from(opts.cuts || []).sort((a, b) => a - b);
      this.snapS = opts.snapS === undefined ? 1.0 : opts.snapS;
      this.minS = opts.minS || 0.04;
      this.categories = opts.categories || [];
      this.selected = 0;
      this.history = [];
      this.savedDepth = 0;
    }

    get start() { return this.segments[0].start_s; }
    get end() { return this.segments[this.segments.length - 1].end_s; }
    get dirty() { return this.history.length !== this.savedDepth; }

    // The shot cut nearest t if one lies within snapS (and free is not set), else t; inside [start, end].
    snap(t, free) {
      let best = t;
      if (!free) {
        let distance = this.snapS;
        for (const cut of this.cuts) {
          if (Math.abs(cut - t) <= distance) { distance = Math.abs(cut - t); best = cut; }
        }
      }
      return Math.min(Math.max(best, this.start), this.end);
    }

    indexAt(t) {
      const i = this.segments.findIndex((s) => t >= s.start_s && t < s.end_s);
      return i >= 0 ? i : (t >= this.end ? this.segments.length - 1 : 0);
    }

    select(i) {
      this.selected = Math.min(Math.max(i, 0), this.segments.length - 1);
      return this.segments[this.selected];
    }

    next() { return this.select(this.selected + 1); }
    previous() { return this.select(this.selected - 1); }

    remember() { this.history.push({ segments: copy(this.segments), selected: this.selected }); }

    undo() {
      const last = this.history.pop();
      if (!last) return false;
      this.segments = last.segments;
      this.selected = Math.min(last.selected, this.segments.length - 1);
      if (this.savedDepth > this.history.length) this.savedDepth = -1;  // the saved state is gone
      return true;
    }

    markSaved() { this.savedDepth = this.history.length; }

    // Cut the segment under t in two at t (snapped); the second half becomes the selected one.
    split(t, free) {
      const at = this.snap(t, free);
      const i = this.indexAt(at);
      const s = this.segments[i];
      if (at - s.start_s < this.minS || s.end_s - at < this.minS) {
        throw new ReviewError("Too close to the segment's edge to split there.");
      }
      this.remember();
      this.segments.splice(i, 1, Object.assign({}, s, { end_s: at }), Object.assign({}, s, { start_s: at }));
      this.selected = i + 1;
    }

    // Join segment i and the one after it; the joined segment keeps segment i's label.
    merge(i) {
      if (i < 0 || i >= this.segments.length - 1) throw new ReviewError("There is no next segment to merge with.");
      this.remember();
      const [first, second] = this.segments.slice(i, i + 2);
      this.segments.splice(i, 2, Object.assign({}, first, { end_s: second.end_s }));
      this.selected = i;
    }

    // Move the edge between segments b - 1 and b to t (snapped), keeping both at least one frame long.
    moveBoundary(b, t, free) {
      if (b <= 0 || b >= this.segments.length) throw new ReviewError("The video's own start and end stay put.");
      const before = this.segments[b - 1];
      const after = this.segments[b];
      const lo = before.start_s + this.minS;
      const hi = after.end_s - this.minS;
      const at = Math.min(Math.max(this.snap(t, free), lo), hi);
      if (at === before.end_s) return false;
      this.remember();
      before.end_s = at;
      after.start_s = at;
      return true;
    }

    moveStart(i, t, free) { return this.moveBoundary(i, t, free); }
    moveEnd(i, t, free) { return this.moveBoundary(i + 1, t, free); }

    // label "in" or "out"; category names what the segment shows ("" for none).
    relabel(i, label, category) {
      if (!LABELS.includes(label)) throw new ReviewError("A segment is in or out.");
      const s = this.segments[i];
      const name = category === undefined ? (label === s.label ? s.category : "") : category;
      if (s.label === label && s.category === name) return false;
      this.remember();
      s.label = label;
      s.category = name;
      return true;
    }

    // The selected segment becomes "in" the next of the run's categories (cycling).
    nextCategory(i) {
      if (!this.categories.length) throw new ReviewError("This run has no categories to choose from.");
      const s = this.segments[i];
      const k = s.label === "in" ? this.categories.indexOf(s.category) : -1;
      return this.relabel(i, "in", this.categories[(k + 1) % this.categories.length]);
    }

    // Index of the edge (1..n-1) within tolerance of t, or -1.
    boundaryNear(t, tolerance) {
      let best = -1;
      let distance = tolerance;
      for (let b = 1; b < this.segments.length; b++) {
        const d = Math.abs(this.segments[b].start_s - t);
        if (d <= distance) { distance = d; best = b; }
      }
      return best;
    }

    toJSON() { return copy(this.segments); }
  }

  const api = { Review, ReviewError };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.OffsideReview = api;
})(this);
