"""The figure builders on known data: traces, threshold positions, shaded ranges, decimation."""

import numpy as np
import pytest

from webapp import charts


def _shapes(fig, kind="rect"):
    return [s for s in fig.layout.shapes if s.type == kind]


def test_minmax_decimation_keeps_every_extreme():
    rng = np.random.default_rng(0)
    values = rng.normal(size=36_000)
    values[12_345] = 50.0  # a one-frame spike
    values[30_001] = -40.0
    keep = charts.minmax_indices(len(values), values, 2000)
    assert len(keep) <= 2002
    assert {0, 12_345, 30_001, 35_999} <= set(keep.tolist())
    assert np.all(np.diff(keep) > 0)
    # every bucket's max survives: the decimated envelope equals the full one per bucket
    edges = np.linspace(0, len(values), 1001).astype(int)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        inside = keep[(keep >= a) & (keep < b)]
        assert values[inside].max() == values[a:b].max()
        assert values[inside].min() == values[a:b].min()


def test_minmax_decimation_leaves_short_series_alone():
    assert charts.minmax_indices(10, np.arange(10.0), 4000).tolist() == list(range(10))


def test_timeline_has_one_trace_per_category_threshold_at_one_and_shaded_out_segments():
    times = np.arange(36_000) / 5.0
    scores = np.vstack([np.sin(times / 100) + 1, np.cos(times / 50) + 1])
    segments = [charts.Shading(10.0, 25.5), charts.Shading(3000.0, 3600.2)]
    fig = charts.score_timeline(times, scores, ["soccer", "ads"], segments, smoothed=scores.min(axis=0))
    assert [t.name for t in fig.data] == ["soccer", "ads", "smoothed (best)"]
    assert all(len(t.x) <= charts.DEFAULT_MAX_POINTS + 2 for t in fig.data)
    lines = _shapes(fig, "line")
    assert len(lines) == 1 and lines[0].y0 == lines[0].y1 == 1.0
    rects = _shapes(fig)
    assert [(r.x0, r.x1) for r in rects] == [(10.0, 25.5), (3000.0, 3600.2)]
    assert all(r.yref == "paper" and r.y0 == 0 and r.y1 == 1 for r in rects)
    # customdata carries frame indices, so a click finds the exact frame
    trace = fig.data[0]
    assert np.allclose(np.asarray(trace.x), times[np.asarray(trace.customdata)])


def test_timeline_rejects_scores_that_do_not_match_the_categories():
    with pytest.raises(ValueError, match="do not match"):
        charts.score_timeline(np.arange(5.0), np.ones((2, 5)), ["only one"])


def test_histogram_overlays_video_on_calibration_with_threshold_at_one():
    fig = charts.score_histogram(np.full(100, 0.5), np.full(50, 0.8), np.full(20, 3.0))
    assert [t.name for t in fig.data] == ["this video", "calibration (held-out reference)", "negative clips"]
    for trace in fig.data:  # pre-binned densities: each integrates to 1
        assert np.sum(np.asarray(trace.y) * np.asarray(trace.width)) == pytest.approx(1.0)
    assert fig.layout.barmode == "overlay"
    (line,) = _shapes(fig, "line")
    assert line.x0 == line.x1 == 1.0


def test_training_curves_draw_train_and_validation_and_mark_the_kept_epoch():
    history = [
        {"epoch": e, "train_loss": 10.0 / e, "train_recon": 9.0 / e, "train_kl": 1.0, "val_loss": 11.0 / e}
        for e in range(1, 6)
    ]
    fig = charts.training_curves(history, best_epoch=4)
    assert [t.name for t in fig.data] == [
        "train total",
        "train reconstruction",
        "train KL",
        "validation total",
    ]
    assert fig.data[2].yaxis == "y2"
    assert list(fig.data[3].y) == pytest.approx([11.0 / e for e in range(1, 6)])
    (line,) = _shapes(fig, "line")
    assert line.x0 == 4


def test_calibration_histogram_marks_threshold_and_f1_threshold():
    fig = charts.calibration_histogram(np.linspace(0, 1, 50), 0.9, np.linspace(1, 2, 30), f1_threshold=1.05)
    assert [t.name for t in fig.data] == ["held-out reference", "negative clips"]
    assert sorted(s.x0 for s in _shapes(fig, "line")) == [0.9, 1.05]


def test_roc_and_pr_show_their_summary_numbers():
    roc = charts.roc_figure([0, 0.1, 1], [0, 0.9, 1], 0.945)
    assert "0.945" in roc.layout.title.text and list(roc.data[0].x) == [0, 0.1, 1]
    pr = charts.pr_figure([0, 0.5, 1], [1, 0.9, 0.5], 0.8)
    assert "0.800" in pr.layout.title.text


def test_pca_finds_the_direction_that_separates_two_clusters():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=(100, 8)) * 0.1
    neg = ref + np.r_[5.0, np.zeros(7)]
    projected, ratio = charts.pca_2d(np.vstack([ref, neg]))
    assert ratio[0] > 0.9
    assert np.all(np.sign(projected[:100, 0]) != np.sign(projected[100:, 0])[0])
    fig = charts.latent_scatter(ref, neg)
    assert [t.name for t in fig.data] == ["reference", "negative"] and len(fig.data[1].x) == 100


def test_clip_boxes_colour_reference_and_negative_clips_apart():
    fig = charts.clip_loss_boxes([("match", "reference", [1, 2, 3]), ("ad", "negative", [7, 8])], threshold=4)
    assert [t.name for t in fig.data] == ["match", "ad"]
    assert fig.data[0].marker.color != fig.data[1].marker.color
    assert _shapes(fig, "line")[0].y0 == 4


def test_acceptance_matrix_puts_models_on_rows_and_categories_on_columns():
    rates = np.array([[0.95, 0.40], [0.10, np.nan]])
    fig = charts.acceptance_matrix(["soccer v1", "football v2"], ["soccer", "football"], rates)
    heat = fig.data[0]
    assert list(heat.y) == ["soccer v1", "football v2"] and list(heat.x) == ["soccer", "football"]
    assert heat.text[0][0] == "95%" and heat.text[1][1] == "–"
    with pytest.raises(ValueError):
        charts.acceptance_matrix(["a"], ["b", "c"], np.ones((2, 2)))


def test_version_trends_draw_four_measures_and_star_the_active_version():
    versions = [
        {"version": 1, "trained_at": "2026-11-01T10:00:00", "active": False, "auroc": 0.9, "threshold": 0.05,
         "false_alarms_per_hour": 3.0, "frames": 400},
        {"version": 2, "trained_at": "2026-11-02T10:00:00", "active": True, "auroc": None, "threshold": 0.04,
         "false_alarms_per_hour": 1.5, "frames": 800},
    ]  # fmt: skip
    fig = charts.version_trends(versions)
    assert [list(t.y) for t in fig.data] == [[0.9, None], [0.05, 0.04], [3.0, 1.5], [400, 800]]
    assert list(fig.data[0].marker.symbol) == ["circle", "star"] and fig.data[0].text == ("v1", "v2 (active)")
    assert [a.text for a in fig.layout.annotations][2].startswith("false alarms per hour")


def test_the_threshold_caption_says_how_several_held_out_clips_make_the_threshold():
    losses = np.linspace(0.0, 1.0, 200)
    calibration = {"method": "percentile", "percentile": 95.0, "held_out_clips": 3}
    caption = charts.threshold_caption(calibration, 0.725, losses)
    assert "geometric mean over 3 held-out clips of each clip's 95th-percentile loss" in caption
    assert "27.5% of the 200 held-out frames shown lie above it" in caption
    fig = charts.calibration_histogram(losses, 0.725, caption=caption)
    assert caption in fig.layout.title.text


def test_the_threshold_caption_of_a_single_held_out_set_and_of_f1():
    one = charts.threshold_caption({"method": "percentile", "percentile": 99.0}, 0.5, np.linspace(0, 1, 10))
    assert "the 99th percentile of the held-out losses" in one and "50.0% of the 10" in one
    f1 = charts.threshold_caption({"method": "f1", "percentile": 95.0}, 0.5, np.zeros(4))
    assert "maximises F1" in f1 and "0.0% of the 4" in f1
