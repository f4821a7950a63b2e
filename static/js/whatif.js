// A line-by-line port of scoring/segments.py (decide_segments and its helpers) so the video report can
// re-decide frames and segments instantly while the user moves the threshold and smoothing controls.
// tests/webapp/test_whatif_js.py runs this file under node and checks it against the Python for the same
// parameters; change both together. Also usable under node: module.exports = the same object.
(function (root) {
  "use strict";

  // First index i with times[i] >= value (side="left") or times[i] > value (side="right"), like numpy.
  function searchSorted(times, value, right) {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (right ? times[mid] <= value : times[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // Centred rolling median over the frames within windowS / 2 seconds of each frame (smooth_scores).
  function smoothScores(scores, times, windowS) {
    const n = scores.length;
    const out = Float64Array.from(scores);
    if (windowS <= 0 || n < 2) return out;
    const eps = 1e-9;
    const buffer = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const lo = searchSorted(times, times[i] - windowS / 2 - eps, false);
      const hi = searchSorted(times, times[i] + windowS / 2 + eps, true);
      const count = hi - lo;
      const window = buffer.subarray(0, count);
      window.set(scores.subarray ? scores.subarray(lo, hi) : scores.slice(lo, hi));
      window.sort();
      out[i] = 0.5 * (window[(count - 1) >> 1] + window[count >> 1]);
    }
    return out;
  }

  // true = out. Enter "out" above high, go back "in" at or below low; before the first decisive frame take
  // its state; with no decisive frame at all compare with the midpoint (hysteresis_decisions).
  function hysteresisDecisions(scores, high, low) {
    if (low > high) throw new Error("low must not exceed high");
    const n = scores.length;
    const out = new Uint8Array(n);
    let first = -1;
    for (let i = 0; i < n; i++) {
      if (scores[i] <= low || scores[i] > high) { first = i; break; }
    }
    if (first < 0) {
      for (let i = 0; i < n; i++) out[i] = scores[i] > (low + high) / 2 ? 1 : 0;
      return out;
    }
    let state = scores[first] > high ? 1 : 0;
    for (let i = 0; i < n; i++) {
      if (scores[i] <= low) state = 0;
      else if (scores[i] > high) state = 1;
      out[i] = i < first ? (scores[first] > high ? 1 : 0) : state;
    }
    return out;
  }

  function runStarts(decisions) {
    const starts = [];
    for (let i = 0; i < decisions.length; i++) {
      if (i === 0 || decisions[i] !== decisions[i - 1]) starts.push(i);
    }
    return starts;
  }

  // np.median(np.diff(times)): the middle value, or the mean of the two middle ones.
  function frameInterval(times) {
    const n = times.length;
    if (n < 2) return 0;
    const diffs = new Float64Array(n - 1);
    for (let i = 1; i < n; i++) diffs[i - 1] = times[i] - times[i - 1];
    diffs.sort();
    const m = diffs.length;
    return m % 2 ? diffs[(m - 1) / 2] : 0.5 * (diffs[m / 2 - 1] + diffs[m / 2]);
  }

  // Flip the shortest run under minSegmentS into its neighbours until all are long enough (enforce_min_length).
  function enforceMinLength(decisions, times, minSegmentS) {
    const out = Uint8Array.from(decisions);
    if (out.length === 0 || minSegmentS <= 0) return out;
    const videoEnd = times[times.length - 1] + frameInterval(times);
    for (;;) {
      const starts = runStarts(out);
      if (starts.length < 2) return out;
      let shortest = 0;
      let shortestS = Infinity;
      for (let k = 0; k < starts.length; k++) {
        const end = k + 1 < starts.length ? times[starts[k + 1]] : videoEnd;
        const duration = end - times[starts[k]];
        if (duration < shortestS) { shortestS = duration; shortest = k; }
      }
      if (shortestS >= minSegmentS) return out;
      const stop = shortest + 1 < starts.length ? starts[shortest + 1] : out.length;
      const flipped = out[starts[shortest]] ? 0 : 1;
      out.fill(flipped, starts[shortest], stop);
    }
  }

  // Contiguous segments; the last ends one frame interval after the last frame (segments_from_decisions).
  function segmentsFromDecisions(decisions, scores, times) {
    const n = times.length;
    if (n === 0) return [];
    const starts = runStarts(decisions);
    const videoEnd = times[n - 1] + frameInterval(times);
    return starts.map((start, k) => {
      const stop = k + 1 < starts.length ? starts[k + 1] : n;
      let sum = 0;
      for (let i = start; i < stop; i++) sum += scores[i];
      return {
        start_s: times[start],
        end_s: k + 1 < starts.length ? times[stop] : videoEnd,
        label: decisions[start] ? "out" : "in",
        mean_score: sum / (stop - start),
      };
    });
  }

  // Move inner boundaries to the nearest shot cut within maxShiftS if both sides stay positive (snap_boundaries).
  function snapBoundaries(segments, cuts, maxShiftS) {
    if (segments.length < 2 || cuts.length === 0 || maxShiftS <= 0) return segments.slice();
    const bounds = segments.map((s) => s.start_s).concat([segments[segments.length - 1].end_s]);
    for (let k = 1; k < segments.length; k++) {
      const j = searchSorted(cuts, bounds[k], false);
      let best = null;
      for (let c = Math.max(j - 1, 0); c < Math.min(j + 1, cuts.length); c++) {
        const distance = Math.abs(cuts[c] - bounds[k]);
        if (distance <= maxShiftS && (best === null || distance < Math.abs(best - bounds[k]))) best = cuts[c];
      }
      if (best !== null && bounds[k - 1] < best && best < bounds[k + 1]) bounds[k] = best;
    }
    return segments.map((s, k) => ({ ...s, start_s: bounds[k], end_s: bounds[k + 1] }));
  }

  function decisionsFromSegments(segments, times) {
    const out = new Uint8Array(times.length);
    segments.forEach((s) => {
      if (s.label !== "out") return;
      for (let i = 0; i < times.length; i++) if (times[i] >= s.start_s && times[i] < s.end_s) out[i] = 1;
    });
    return out;
  }

  // decide_segments: smooth, hysteresis, minimum length, then snap to cuts when cuts are given.
  function decideSegments(scores, times, params, cuts) {
    const smoothed = smoothScores(scores, times, params.window_s);
    let decisions = hysteresisDecisions(smoothed, params.high, params.low);
    decisions = enforceMinLength(decisions, times, params.min_segment_s);
    let segments = segmentsFromDecisions(decisions, scores, times);
    if (cuts && params.snap_to_cuts_s > 0) {
      const snapped = snapBoundaries(segments, cuts, params.snap_to_cuts_s);
      decisions = decisionsFromSegments(snapped, times);
      segments = segmentsFromDecisions(decisions, scores, times);
    }
    return { decisions, segments, smoothed };
  }

  const api = {
    searchSorted, smoothScores, hysteresisDecisions, enforceMinLength, segmentsFromDecisions,
    snapBoundaries, decideSegments, frameInterval,
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.OffsideWhatIf = api;
})(typeof window !== "undefined" ? window : globalThis);
