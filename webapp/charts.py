"""Plotly figure builders for the reports. Pure: numbers in, ``plotly.graph_objects.Figure`` out.

No Django, no HTTP, no files: views load rows and arrays, call these, and hand ``fig.to_json()`` to the page,
which renders it with our own static plotly.js. Tests call them directly on known data.

Scores are normalised (1.0 = the category's threshold, higher = less like the category), so every score chart
draws its threshold at 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

THRESHOLD_COLOUR = "#b3261e"
OUT_FILL = "rgba(179, 38, 30, 0.13)"
REFERENCE_COLOUR = "#1f7a4d"
NEGATIVE_COLOUR = "#b3261e"
VIDEO_COLOUR = "#2457a6"
PALETTE = ("#2457a6", "#1f7a4d", "#a86b00", "#7b3fa0", "#0f7c8c", "#b3261e", "#5d6b7a")
DEFAULT_MAX_POINTS = 4000  # per trace in the first view of a timeline; zooming re-decimates the full data
_MARGIN = {"l": 56, "r": 16, "t": 64, "b": 44}
# Under the chart, in the figure's own margin (which grows to fit it): rows of a long legend never reach the
# title, as they did when the legend sat above the plot.
_LEGEND = {"orientation": "h", "x": 0, "y": 0, "yref": "container", "yanchor": "bottom"}


@dataclass(frozen=True)
class Shading:
    """A time range to shade on a timeline (an "out" segment)."""

    start_s: float
    end_s: float


# --- decimation ---------------------------------------------------------------------------------------------


def minmax_indices(n: int, values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices (sorted, unique) of at most ``max_points`` samples that keep each bucket's min and max.

    The N samples are cut into ``max_points // 2`` equal buckets; each contributes the index of its minimum
    and of its maximum, and the first and last samples are always kept. A spike one frame wide therefore
    survives at any zoom level, unlike with plain striding. ``values`` may be (N,) or (K, N): with several
    rows the extremes of every row are kept (the budget is then per row).
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))  # (K, N)
    if n <= max_points or max_points < 4:
        return np.arange(n)
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)  # (B + 1,)
    starts, sizes = edges[:-1], np.diff(edges)
    width = int(sizes.max())
    idx = np.minimum(starts[:, None] + np.arange(width)[None, :], n - 1)  # (B, width)
    valid = np.arange(width)[None, :] < sizes[:, None]  # (B, width)
    keep = [np.array([0, n - 1])]
    for row in values:
        windows = row[idx]  # (B, width)
        lo = np.where(valid, windows, np.inf).argmin(axis=1)
        hi = np.where(valid, windows, -np.inf).argmax(axis=1)
        keep += [idx[np.arange(buckets), lo], idx[np.arange(buckets), hi]]
    return np.unique(np.concatenate(keep))


# --- video report -------------------------------------------------------------------------------------------


def line_marks(
    orientation: str = "h",
    value: float = 1.0,
    text: str = "threshold",
    colour: str = THRESHOLD_COLOUR,
    dash: str = "dash",
) -> tuple[dict, dict]:
    """(shape, annotation) of a full-width ("h") or full-height ("v") line at ``value`` and its label, as
    plain layout dicts: plotly's add_hline/add_vline cost ~10x more server time for the same picture."""
    line = {"color": colour, "dash": dash, "width": 1.5}
    if orientation == "h":
        shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": value, "y1": value}
        label = {"xref": "paper", "x": 0, "yref": "y", "y": value, "xanchor": "left", "yanchor": "bottom"}
    else:
        shape = {"type": "line", "yref": "paper", "y0": 0, "y1": 1, "xref": "x", "x0": value, "x1": value}
        label = {"yref": "paper", "y": 1, "xref": "x", "x": value, "xanchor": "left", "yanchor": "top"}
    return {**shape, "line": line}, {**label, "text": text, "showarrow": False}


def _threshold_line(fig: go.Figure, orientation: str = "h", value: float = 1.0, text: str = "threshold",
                    colour: str = THRESHOLD_COLOUR, dash: str = "dash") -> None:  # fmt: skip
    shape, label = line_marks(orientation, value, text, colour, dash)
    fig.add_shape(shape)
    fig.add_annotation(label)


def segment_shapes(shadings: Sequence[Shading]) -> list[dict]:
    """Layout shapes (full-height rectangles behind the traces) for out-segments; the page swaps them when
    the what-if control recomputes the segments, so they are plain dicts in the same shape it builds."""
    return [
        {
            "type": "rect", "xref": "x", "yref": "paper", "x0": float(s.start_s), "x1": float(s.end_s),
            "y0": 0, "y1": 1, "fillcolor": OUT_FILL, "line": {"width": 0}, "layer": "below",
            "name": "out",
        }
        for s in shadings
    ]  # fmt: skip


def score_timeline(
    timestamps_s: np.ndarray,
    scores: np.ndarray,
    categories: Sequence[str],
    out_segments: Sequence[Shading] = (),
    smoothed: np.ndarray | None = None,
    colours: Sequence[str] | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
) -> go.Figure:
    """Per-category normalised scores (K, N) over time, threshold at 1.0, out-segments shaded.

    Traces are min/max-decimated to about ``max_points`` points; the page holds the full arrays and
    re-decimates the visible range on zoom. SVG traces, not WebGL: a few thousand points draw fast either
    way, and SVG works on machines without a GPU. ``customdata`` of every point is its frame index, so a click
    can ask the server for exactly that frame.
    """
    times = np.asarray(timestamps_s, dtype=np.float64)
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))  # (K, N)
    if scores.shape != (len(categories), len(times)):
        raise ValueError(
            f"scores {scores.shape} do not match {len(categories)} categories x {len(times)} frames"
        )
    colours = list(colours or PALETTE)
    rows = [(name, scores[k], colours[k % len(colours)]) for k, name in enumerate(categories)]
    if smoothed is not None:
        rows.append(("smoothed (best)", np.asarray(smoothed, dtype=np.float64), "#1d2330"))
    traces = []
    for name, values, colour in rows:
        keep = minmax_indices(len(times), values, max_points)
        traces.append({
            "type": "scatter", "mode": "lines", "name": name, "line": {"color": colour, "width": 1.2},
            # float32 and int32 halve the page (a click sends the exact frame index, not x)
            "x": times[keep].astype(np.float32), "y": values[keep].astype(np.float32),
            "customdata": keep.astype(np.int32),
            "hovertemplate": "%{x:.3f} s<br>score %{y:.3f}<extra>" + name + "</extra>",
        })  # fmt: skip
    threshold, label = line_marks()
    # One Figure(data, layout) call: update_layout/add_trace validate again on every call (slow).
    return go.Figure(data=traces, layout={
        "shapes": [threshold, *segment_shapes(out_segments)], "annotations": [label],
        "xaxis": {"title": {"text": "time (s)"}, "rangeslider": {"visible": False}},
        "yaxis": {"title": {"text": "normalised score"}, "rangemode": "tozero"},
        "hovermode": "closest", "margin": _MARGIN, "legend": _LEGEND,
        "title": {"text": "Score per frame (1.0 = threshold; shaded = out)", "font": {"size": 14}},
    })  # fmt: skip


def density_bars(values: np.ndarray, edges: np.ndarray, name: str, colour: str) -> dict:
    """A bar trace of a histogram binned here (a few dozen bars travel to the page, not every value)."""
    counts, _ = np.histogram(np.asarray(values, dtype=np.float64), bins=edges, density=True)
    return {
        "type": "bar", "x": (edges[:-1] + edges[1:]) / 2, "y": counts, "width": np.diff(edges), "name": name,
        "marker": {"color": colour}, "opacity": 0.55,
        "hovertemplate": "%{x:.3f}: %{y:.3f}<extra>" + name + "</extra>",
    }  # fmt: skip


def score_histogram(
    video_scores: np.ndarray,
    calibration_scores: np.ndarray,
    negative_scores: np.ndarray | None = None,
    bins: int = 60,
) -> go.Figure:
    """This video's normalised frame scores over the model's held-out (calibration) scores, as densities so
    the shapes compare whatever the counts; the threshold is at 1.0. Values past the last bin are counted
    in it, so long tails stay visible."""
    series = [("this video", video_scores, VIDEO_COLOUR), ("calibration (held-out reference)",
              calibration_scores, REFERENCE_COLOUR)]  # fmt: skip
    if negative_scores is not None and len(negative_scores):
        series.append(("negative clips", negative_scores, NEGATIVE_COLOUR))
    series = [(n, np.asarray(v, dtype=np.float64).ravel(), c) for n, v, c in series if len(v)]
    everything = np.concatenate([v for _, v, _ in series] + [np.array([1.0])])
    end = max(float(np.percentile(everything, 99.5)) * 1.05, 1.1)  # the threshold stays in view
    edges = np.linspace(0.0, end, bins + 1)
    traces = [density_bars(np.clip(values, 0.0, end), edges, name, colour) for name, values, colour in series]
    threshold, label = line_marks("v")
    return go.Figure(data=traces, layout={
        "shapes": [threshold], "annotations": [label], "barmode": "overlay", "bargap": 0,
        "xaxis": {"title": {"text": "normalised score"}}, "yaxis": {"title": {"text": "density"}},
        "margin": _MARGIN, "legend": _LEGEND,
        "title": {"text": "Frame scores vs. the calibration distribution", "font": {"size": 14}},
    })  # fmt: skip


# --- model report -------------------------------------------------------------------------------------------

_CURVES = (
    ("train_loss", "train total", "solid"), ("train_recon", "train reconstruction", "solid"),
    ("train_kl", "train KL", "solid"), ("val_loss", "validation total", "dash"),
    ("val_recon", "validation reconstruction", "dash"), ("val_kl", "validation KL", "dash"),
)  # fmt: skip


def training_curves(history: Sequence[dict], best_epoch: int | None = None) -> go.Figure:
    """Loss per epoch: total, reconstruction and KL for training (and validation where recorded). The KL term
    is on a second axis: it is orders of magnitude smaller than the summed reconstruction error."""
    epochs = [float(h.get("epoch", i + 1)) for i, h in enumerate(history)]
    fig = go.Figure()
    for key, name, dash in _CURVES:
        if not any(key in h for h in history):
            continue
        colour = PALETTE[["loss", "recon", "kl"].index(key.split("_")[1])]
        fig.add_trace(
            go.Scatter(
                x=epochs, y=[h.get(key) for h in history], name=name, mode="lines+markers",
                line={"color": colour, "dash": dash}, yaxis="y2" if key.endswith("_kl") else "y",
            )
        )  # fmt: skip
    if best_epoch:
        _threshold_line(fig, "v", best_epoch, "kept", colour="#6b7385", dash="dot")
    fig.update_layout(
        xaxis_title="epoch", yaxis={"title": "loss (per frame)"},
        yaxis2={"title": "KL", "overlaying": "y", "side": "right", "showgrid": False},
        margin={**_MARGIN, "r": 56}, legend=_LEGEND,
        title={"text": "Training curves", "font": {"size": 14}},
    )  # fmt: skip
    return fig


def threshold_caption(calibration: dict, threshold: float, held_out_losses: np.ndarray) -> str:
    """What the threshold is, exactly (``calibration``: a TrainedModel's calibration dict), and the share of
    the ``held_out_losses`` (N,) shown that lie above it: with several held-out clips the percentile is taken
    per clip and combined, so that share need not be 100 minus the percentile."""
    percentile, clips = float(calibration.get("percentile") or 0), calibration.get("held_out_clips")
    if calibration.get("method") == "f1":
        rule = "the loss that maximises F1 between held-out reference frames and negative-clip frames"
    elif clips and clips > 1:
        rule = (
            f"the geometric mean over {clips} held-out clips of each clip's {percentile:g}th-percentile loss"
        )
    else:
        rule = f"the {percentile:g}th percentile of the held-out losses"
    losses = np.asarray(held_out_losses, dtype=np.float64)
    above = float(np.mean(losses > threshold)) if len(losses) else 0.0
    shown = f"{above:.1%} of the {len(losses)} held-out frames shown lie above it"
    return f"Threshold {threshold:.4g} = {rule}; {shown}."


def calibration_histogram(
    held_out_losses: np.ndarray,
    threshold: float,
    negative_losses: np.ndarray | None = None,
    f1_threshold: float | None = None,
    bins: int = 50,
    caption: str = "",
) -> go.Figure:
    """Raw reconstruction losses of held-out reference frames (and negatives) with the decision threshold;
    ``caption`` (``threshold_caption``) says under the title what the threshold is."""
    fig = go.Figure()
    fig.add_trace(go.Histogram(x=np.asarray(held_out_losses, dtype=np.float64), name="held-out reference",
                               nbinsx=bins, marker_color=REFERENCE_COLOUR, opacity=0.6))  # fmt: skip
    if negative_losses is not None and len(negative_losses):
        fig.add_trace(go.Histogram(x=np.asarray(negative_losses, dtype=np.float64), name="negative clips",
                                   nbinsx=bins, marker_color=NEGATIVE_COLOUR, opacity=0.6))  # fmt: skip
    _threshold_line(fig, "v", float(threshold))
    if f1_threshold is not None and not np.isclose(f1_threshold, threshold):
        _threshold_line(fig, "v", float(f1_threshold), "best F1", colour="#a86b00", dash="dot")
    fig.update_layout(
        barmode="overlay", xaxis_title="reconstruction loss", yaxis_title="frames", margin=_MARGIN,
        legend=_LEGEND,
        title={"text": "Calibration losses and threshold" + (f"<br><sup>{caption}</sup>" if caption else ""),
               "font": {"size": 14}},
    )  # fmt: skip
    return fig


def roc_figure(fpr: Sequence[float], tpr: Sequence[float], auroc: float | None) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=list(fpr), y=list(tpr), name="ROC", mode="lines", line={"color": VIDEO_COLOUR})
    )
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="chance", mode="lines",
                             line={"color": "#b9c0cc", "dash": "dash"}))  # fmt: skip
    label = f"ROC (AUROC {auroc:.3f})" if auroc is not None else "ROC"
    fig.update_layout(
        xaxis={"title": "false positive rate (reference flagged)", "range": [0, 1]},
        yaxis={"title": "true positive rate (negatives flagged)", "range": [0, 1.02]},
        margin=_MARGIN, showlegend=False, title={"text": label, "font": {"size": 14}},
    )  # fmt: skip
    return fig


def pr_figure(recall: Sequence[float], precision: Sequence[float], best_f1: float | None = None) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=list(recall), y=list(precision), name="PR", mode="lines",
                             line={"color": NEGATIVE_COLOUR}))  # fmt: skip
    label = f"Precision-recall (best F1 {best_f1:.3f})" if best_f1 is not None else "Precision-recall"
    fig.update_layout(
        xaxis={"title": "recall", "range": [0, 1]}, yaxis={"title": "precision", "range": [0, 1.02]},
        margin=_MARGIN, showlegend=False, title={"text": label, "font": {"size": 14}},
    )  # fmt: skip
    return fig


def pca_2d(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) -> ((N, 2) projections on the first two principal components, (2,) explained variance ratio)."""
    points = np.asarray(points, dtype=np.float64)
    centred = points - points.mean(axis=0)
    if len(points) < 2:
        return np.zeros((len(points), 2)), np.zeros(2)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, points.shape[1]))
    components[: min(2, len(vt))] = vt[:2]
    variance = s**2
    ratio = np.zeros(2)
    ratio[: min(2, len(s))] = (variance / max(variance.sum(), 1e-12))[:2]
    return centred @ components.T, ratio


def latent_scatter(reference_mu: np.ndarray, negative_mu: np.ndarray | None = None) -> go.Figure:
    """Latent means of reference (and negative) frames projected together onto their first two PCs."""
    parts = [("reference", np.asarray(reference_mu), REFERENCE_COLOUR)]
    if negative_mu is not None and len(negative_mu):
        parts.append(("negative", np.asarray(negative_mu), NEGATIVE_COLOUR))
    projected, ratio = pca_2d(np.concatenate([p for _, p, _ in parts]))
    fig = go.Figure()
    start = 0
    for name, pts, colour in parts:
        xy = projected[start : start + len(pts)]
        start += len(pts)
        fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], name=name, mode="markers",
                                   marker={"color": colour, "size": 5, "opacity": 0.7}))  # fmt: skip
    fig.update_layout(
        xaxis_title=f"PC1 ({ratio[0]:.0%} of variance)", yaxis_title=f"PC2 ({ratio[1]:.0%})", margin=_MARGIN,
        legend=_LEGEND, title={"text": "Latent means (PCA)", "font": {"size": 14}},
    )  # fmt: skip
    return fig


def clip_loss_boxes(
    clips: Sequence[tuple[str, str, np.ndarray]], threshold: float | None = None
) -> go.Figure:
    """One box of per-frame losses per source clip; ``clips`` holds (name, "reference"/"negative", losses)."""
    fig = go.Figure()
    for name, kind, losses in clips:
        colour = NEGATIVE_COLOUR if kind == "negative" else REFERENCE_COLOUR
        fig.add_trace(go.Box(y=np.asarray(losses, dtype=np.float64), name=name, marker_color=colour,
                             boxpoints="outliers", legendgroup=kind))  # fmt: skip
    if threshold is not None:
        _threshold_line(fig, "h", float(threshold))
    fig.update_layout(
        yaxis_title="reconstruction loss", margin=_MARGIN, showlegend=False,
        title={"text": "Loss per source clip (green = reference, red = negative)", "font": {"size": 14}},
    )  # fmt: skip
    return fig


# --- category overview --------------------------------------------------------------------------------------


def acceptance_matrix(
    model_names: Sequence[str], category_names: Sequence[str], rates: np.ndarray
) -> go.Figure:
    """Rows = models, columns = categories' reference frames, cell = share of frames the model accepts
    (normalised score <= 1). A good set of models is bright on the diagonal and dark elsewhere."""
    rates = np.asarray(rates, dtype=np.float64)
    if rates.shape != (len(model_names), len(category_names)):
        raise ValueError(f"rates {rates.shape} do not match {len(model_names)} x {len(category_names)}")
    text = [[("–" if np.isnan(v) else f"{v:.0%}") for v in row] for row in rates]
    fig = go.Figure(
        go.Heatmap(
            z=rates, x=list(category_names), y=list(model_names), zmin=0, zmax=1, colorscale="Greens",
            text=text, texttemplate="%{text}", colorbar={"title": "accepted"},
            hovertemplate="model %{y}<br>frames of %{x}<br>accepted %{z:.1%}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        xaxis={"title": "reference frames of category", "side": "bottom"},
        yaxis={"title": "model", "autorange": "reversed"}, margin={**_MARGIN, "l": 120},
        title={"text": "Acceptance rate of each model on each category", "font": {"size": 14}},
    )  # fmt: skip
    return fig


# --- category page ------------------------------------------------------------------------------------------

_TRENDS = (
    ("auroc", "AUROC (reference vs. negatives)"), ("threshold", "threshold"),
    ("false_alarms_per_hour", "false alarms per hour of in-category video"), ("frames", "training frames"),
)  # fmt: skip


def version_trends(versions: Sequence[dict]) -> go.Figure:
    """One panel per measure of each ready version over training time: AUROC, threshold, false alarms per hour
    and training frames. ``versions``: dicts with "version", "trained_at", "active" and those four keys (None
    where unknown), oldest first; the active version is drawn as a star."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=len(_TRENDS), cols=1, shared_xaxes=True, vertical_spacing=0.07,
        subplot_titles=[title for _, title in _TRENDS],
    )  # fmt: skip
    x = [v["trained_at"] for v in versions]
    names = [f"v{v['version']}{' (active)' if v['active'] else ''}" for v in versions]
    symbols = ["star" if v["active"] else "circle" for v in versions]
    sizes = [14 if v["active"] else 8 for v in versions]
    for row, (key, title) in enumerate(_TRENDS, start=1):
        fig.add_trace(
            go.Scatter(
                x=x, y=[v[key] for v in versions], mode="lines+markers", name=title, text=names,
                marker={"symbol": symbols, "size": sizes, "color": PALETTE[row - 1]}, connectgaps=True,
                hovertemplate="%{text}: %{y:.4g}<extra>" + title + "</extra>",
            ),
            row=row, col=1,
        )  # fmt: skip
    fig.update_layout(
        height=140 * len(_TRENDS) + 60, showlegend=False, margin={**_MARGIN, "t": 48},
        title={"text": "Versions over time", "font": {"size": 14}},
    )  # fmt: skip
    fig.update_annotations(font={"size": 12})
    return fig
