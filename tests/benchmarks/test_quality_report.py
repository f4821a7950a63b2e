import math

from benchmarks.quality_report import fold_figures, markdown, summary

FIGURES = {
    "auroc": 0.9,
    "fpr_at_tpr95": 0.1,
    "tpr": 0.8,
    "fpr": 0.0,
    "break_precision": 1.0,
    "break_recall": 0.5,
    "break_f1": 2 / 3,
    "ad_break_recall": 1.0,
    "boundary_error_s": 0.2,
}


def broadcast(auroc: float, af_out: float, prefix: str = "") -> dict:
    sources = {
        f"{prefix}american_football/a": [af_out * 10, 10],
        f"{prefix}soccer/m": [1, 100],
        f"{prefix}ads/x": [5, 5],
    }
    return {"separation": {**FIGURES, "auroc": auroc}, "sources": sources, "scoring_fps": 100.0}


def test_figures_are_averaged_over_broadcasts_then_folds_and_the_worst_fold_is_kept():
    rows = {
        "soccer/m": {
            "broadcasts": [broadcast(0.9, 0.2), broadcast(1.0, 0.4)],
            "dev": broadcast(0.99, 0, "dev:"),
            "train_s": 9,
        },
        "soccer/n": {"broadcasts": [broadcast(0.7, 1.0)], "dev": None, "train_s": 9},
    }
    first = fold_figures(rows["soccer/m"])
    assert math.isclose(first["auroc"], 0.95) and math.isclose(first["american_football"], 0.3)
    assert math.isclose(first["soccer"], 0.01) and first["ads"] == 1.0
    s = summary(rows)
    assert math.isclose(s["auroc"], 0.825) and s["worst_auroc"] == 0.7
    assert math.isclose(s["american_football"], 0.65) and math.isclose(s["dev_auroc"], 0.99)
    result = {
        "variants": {"defaults": rows},
        "matches": ["soccer/m", "soccer/n"],
        "skipped": {},
        "wall_s": 60,
        "date": "today",
        "command": "cmd",
        "broadcasts": 2,
        "seed": 0,
    }
    text = markdown(result)
    assert "- mean frame AUROC: 0.825 (target >= 0.98): **not met**" in text
    assert "| american_football/a | 0.65 / 0.30 |" in text  # mean over folds / worst fold
    assert "| dev:american_football/a | 0.00 / 0.00 |" in text  # broadcast_dev's pieces on their own rows
