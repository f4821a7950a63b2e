"""What the video report needs from a scoring run: its per-frame arrays, shot cuts, what-if segments, figures.

The page gets decimated figures at once and the full arrays from one compact JSON document (base64 typed
arrays) afterwards, for zooming and for the what-if control, which re-runs the port of
``scoring.segments.decide_segments`` in the browser.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from scoring.drift import drift_test
from scoring.files import write_atomic
from scoring.segments import TemporalParams, decide_segments
from webapp import charts
from webapp.media_layout import media_path
from webapp.models import FrameSet, ScoringRun, TrainedModel

PAGE_MAX_POINTS = 2000  # per timeline trace in the first view; the page re-decimates the full data on zoom
PARAM_NAMES = ("window_s", "low", "high", "min_segment_s", "snap_to_cuts_s")
# Upper bounds for parameters from a request: the median window's cost grows with its length in frames.
PARAM_LIMITS = {
    "window_s": 30.0,
    "low": 1000.0,
    "high": 1000.0,
    "min_segment_s": 3600.0,
    "snap_to_cuts_s": 10.0,
}


def b64(array: np.ndarray, dtype) -> str:
    """Little-endian typed-array bytes, base64: the page turns them into Float64Array / Float32Array."""
    return base64.b64encode(
        np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    ).decode()


def params_from_query(query, default: TemporalParams) -> TemporalParams:
    """TemporalParams from request parameters (each optional); ValueError for nonsense."""
    values = asdict(default)
    for name in PARAM_NAMES:
        if query.get(name) not in (None, ""):
            value = float(query[name])
            if not 0.0 <= value <= PARAM_LIMITS[name]:
                raise ValueError(f"{name} must be between 0 and {PARAM_LIMITS[name]:g}")
            values[name] = value
    return TemporalParams(**values)


@dataclass
class RunData:
    """A succeeded run's arrays, loaded once per request (only the keys the report needs)."""

    run: ScoringRun
    timestamps_s: np.ndarray  # (N,)
    scores: np.ndarray  # (K, N) normalised
    smoothed: np.ndarray  # (N,)
    stored_cuts: np.ndarray | None = None  # (C,) when the scoring job saved its shot cuts

    @classmethod
    def load(cls, run: ScoringRun) -> RunData:
        with np.load(media_path(run.arrays_path), allow_pickle=False) as data:
            cuts = data["cut_times_s"] if "cut_times_s" in data.files else None
            return cls(run, data["timestamps_s"], np.atleast_2d(data["scores"]), data["smoothed"], cuts)

    @property
    def categories(self) -> list[str]:
        return self.run.category_names

    @cached_property
    def best(self) -> np.ndarray:
        """(N,) lowest normalised score over categories: what decisions are made on."""
        return self.scores.min(axis=0)

    @property
    def params(self) -> TemporalParams:
        return TemporalParams(**{k: v for k, v in self.run.temporal_params.items() if k in PARAM_NAMES})

    def cut_times(self) -> np.ndarray | None:
        """Shot cuts the run's segments snapped to: stored with the run, else detected once and cached."""
        if self.stored_cuts is not None:
            return self.stored_cuts
        if self.params.snap_to_cuts_s <= 0:
            return None
        cache = self.run.directory / "cuts.json"
        if cache.is_file():
            return np.asarray(json.loads(cache.read_text()), dtype=np.float64)
        cuts = self._detect_cuts()
        if cuts is not None:
            write_atomic(cache, json.dumps(cuts.tolist()).encode())
        return cuts

    def _detect_cuts(self) -> np.ndarray | None:
        from scoring.shotcuts import detect_shot_cuts

        frameset = self.frameset()
        if frameset is None:
            return None
        frames = frameset.load()
        return np.asarray(detect_shot_cuts(frames.timestamps_s, frames.frames), dtype=np.float64)

    def frameset(self) -> FrameSet | None:
        from scoring.frames import SamplingSpec

        sampling = self.run.sampling
        spec = SamplingSpec(sampling.get("fps"), int(sampling["height"]), int(sampling["width"]))
        return FrameSet.existing(self.run.video, spec)

    def kept_ranges(self, params: TemporalParams, keep: str) -> list[tuple[float, float]]:
        """(start_s, end_s) of the segments labelled ``keep`` ("in" or "out") that a render keeps: the run's
        final (reviewed, else machine) segments at its own parameters, else the what-if ones."""
        segments = self.run.final_segments() if params == self.params else self.decide(params)[1]
        return [(s.start_s, s.end_s) for s in segments if s.label == keep and s.end_s > s.start_s]

    def decide(self, params: TemporalParams):
        """(decisions (N,), segments) for ``params``, exactly as the scoring job decides them."""
        cuts = self.cut_times() if params.snap_to_cuts_s > 0 else None
        return decide_segments(self.best, self.timestamps_s, params, cuts, end_s=self.run.video.duration_s)

    def colours(self) -> list[str]:
        return [m.get("colour") or charts.PALETTE[k % len(charts.PALETTE)]
                for k, m in enumerate(self.run.model_versions)]  # fmt: skip


def timeline_figure(data: RunData, segments) -> dict:
    shading = [charts.Shading(s.start_s, s.end_s) for s in segments if s.label == "out"]
    fig = charts.score_timeline(
        data.timestamps_s, data.scores, data.categories, shading, smoothed=data.smoothed,
        colours=data.colours(), max_points=PAGE_MAX_POINTS,
    )  # fmt: skip
    return fig.to_plotly_json()


def drift_warnings(data: RunData, segments) -> list[dict]:
    """The run's models whose scores on this video's in-category frames (frames in "in" segments that look
    most like that model's category) are distributed unlike its calibration: ``scoring.drift.drift_test``
    against its held-out scores, both normalised by the threshold the run was scored with."""
    times = data.timestamps_s
    inside = np.zeros(len(times), dtype=bool)
    for segment in segments:
        if segment.label == "in":
            inside |= (times >= segment.start_s) & (times < segment.end_s)
    nearest = np.argmin(data.scores, axis=0)
    warnings = []
    for k, snapshot in enumerate(data.run.model_versions):
        model = TrainedModel.objects.filter(pk=snapshot["model_id"]).first()
        if model is None or not snapshot.get("threshold"):
            continue
        mask = inside & (nearest == k)
        calibration = model.calibration_losses() / snapshot["threshold"]
        test = drift_test(data.scores[k, mask], times[mask], calibration)
        if test is not None and test.drifted:
            warnings.append({"index": k, "category": snapshot["category"], "version": snapshot["version"],
                             "test": test})  # fmt: skip
    return warnings


def histogram_figure(data: RunData, models) -> dict:
    """This video's best scores over the calibration scores of its models (each divided by its threshold)."""
    calibration, negatives = [], []
    for model in models:
        threshold = model.threshold or model.calibration.get("threshold") or 1.0
        calibration.append(model.calibration_losses() / threshold)
        neg = model.calibration.get("negative_losses")
        if neg:
            negatives.append(np.asarray(neg, dtype=np.float64) / threshold)
    fig = charts.score_histogram(
        data.best, np.concatenate(calibration) if calibration else np.array([]),
        np.concatenate(negatives) if negatives else None,
    )  # fmt: skip
    return fig.to_plotly_json()


def full_arrays(data: RunData) -> dict:
    """Everything the page's zoom and what-if need, compact: float64 where decisions depend on exact values
    (times, best score), float32 for the per-category display traces."""
    cuts = data.cut_times()
    return {
        "n": int(len(data.timestamps_s)),
        "categories": data.categories,
        "times": b64(data.timestamps_s, np.float64),
        "best": b64(data.best, np.float64),
        "scores": b64(data.scores, np.float32),
        "cuts": None if cuts is None else [float(c) for c in cuts],
        "params": asdict(data.params),
    }


def plotly_json(figure: dict) -> str:
    """A figure dict as JSON for a ``<script type="application/json">`` block; numpy arrays go as typed
    arrays (plotly's base64 "bdata"), which keeps a 2,000-point trace small."""
    import plotly.io as pio

    return pio.to_json(figure, validate=False).replace("</", "<\\/")
