"""Markdown tables of the leave-one-match-out quality benchmark (``benchmarks.quality``'s JSON result)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import torch

from benchmarks.docs import replace_section

START, END = "<!-- quality:start -->", "<!-- quality:end -->"
FIELDS = (
    "auroc",
    "fpr_at_tpr95",
    "tpr",
    "fpr",
    "break_precision",
    "break_recall",
    "break_f1",
    "boundary_error_s",
)
HIGHER_IS_BETTER = {"auroc", "tpr", "break_precision", "break_recall", "break_f1"}
# (label, figure, goal, higher is better): the targets on the protocol, smoothed decisions
TARGETS = (
    ("mean frame AUROC", "auroc", 0.98, True),
    ("worst-fold frame AUROC", "worst_auroc", 0.95, True),
    ("TPR of the out decisions", "tpr", 0.95, True),
    ("FPR of the out decisions", "fpr", 0.03, False),
    ("break F1", "break_f1", 0.95, True),
    ("boundary error (s)", "boundary_error_s", 0.5, False),
    ("American football out", "american_football", 0.9, True),
    ("unseen soccer out", "soccer", 0.05, False),
)
GROUPS = ("american_football", "other_sports", "ads", "soccer")


def _group(source: str) -> str:
    folder = source.split("/")[0].removeprefix("dev:")
    return "soccer" if folder in ("soccer", "soccer_more") else folder


def fold_figures(row: dict) -> dict[str, float]:
    """Mean over a fold's broadcasts of each figure, and the fraction out of each group of sources."""
    figures = {f: float(np.nanmean([b["separation"][f] for b in row["broadcasts"]])) for f in FIELDS}
    counts: dict[str, list[float]] = {}
    for b in row["broadcasts"]:
        for source, (out, n) in b["sources"].items():
            c = counts.setdefault(_group(source), [0.0, 0.0])
            c[0], c[1] = c[0] + out, c[1] + n
    figures.update({g: c[0] / c[1] for g, c in counts.items() if c[1]})
    return figures


def summary(rows: dict) -> dict[str, float]:
    """Mean over folds, the worst fold's AUROC and break F1, broadcast_dev's figures (mean over models)."""
    per_fold = [fold_figures(r) for r in rows.values()]
    keys = [*FIELDS, *GROUPS]
    out = {k: float(np.nanmean([f.get(k, np.nan) for f in per_fold])) for k in keys}
    out["worst_auroc"] = min(f["auroc"] for f in per_fold)
    out["worst_break_f1"] = min(f["break_f1"] for f in per_fold)
    devs = [r["dev"]["separation"] for r in rows.values() if r.get("dev")]
    for f in ("auroc", "tpr", "fpr", "break_f1", "boundary_error_s"):
        out[f"dev_{f}"] = float(np.nanmean([d[f] for d in devs])) if devs else float("nan")
    return out


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def summary_table(result: dict) -> list[str]:
    lines = [
        "| variant | AUROC mean / worst | FPR @ TPR .95 | TPR | FPR | break P / R / F1 (worst F1) "
        "| boundary (s) "
        "| AF out | other sports out | ads out | soccer out | broadcast_dev AUROC / TPR / FPR / F1 |",
        "| --- " * 12 + "|",
    ]
    for name, rows in result["variants"].items():
        s = summary(rows)
        lines.append(
            f"| {name} | {_f(s['auroc'])} / {_f(s['worst_auroc'])} | {_f(s['fpr_at_tpr95'])} "
            f"| {_f(s['tpr'])} "
            f"| {_f(s['fpr'])} | {_f(s['break_precision'], 2)} / {_f(s['break_recall'], 2)} / "
            f"{_f(s['break_f1'], 2)} ({_f(s['worst_break_f1'], 2)}) | {_f(s['boundary_error_s'], 2)} "
            f"| {_f(s['american_football'], 2)} | {_f(s['other_sports'], 2)} | {_f(s['ads'], 2)} "
            f"| {_f(s['soccer'], 3)} | {_f(s['dev_auroc'])} / {_f(s['dev_tpr'])} / {_f(s['dev_fpr'])} / "
            f"{_f(s['dev_break_f1'], 2)} |"
        )
    return lines


def fold_table(result: dict, name: str) -> list[str]:
    """One row per held-out match, then broadcast_dev scored by each fold's model."""
    rows = result["variants"][name]
    lines = [
        f"Per fold, variant *{name}* (mean of the fold's broadcasts):",
        "",
        "| held-out match | AUROC | TPR | FPR | break F1 | boundary (s) | AF out | soccer out | train s |",
        "| --- " * 9 + "|",
    ]
    for match, row in rows.items():
        f = fold_figures(row)
        lines.append(
            f"| {match} | {_f(f['auroc'])} | {_f(f['tpr'])} | {_f(f['fpr'])} | {_f(f['break_f1'], 2)} "
            f"| {_f(f['boundary_error_s'], 2)} | {_f(f.get('american_football'), 2)} "
            f"| {_f(f.get('soccer'), 3)} | {_f(row.get('train_s'), 0)} |"
        )
    devs = [r["dev"]["separation"] for r in rows.values() if r.get("dev")]
    if devs:
        d = {k: float(np.nanmean([x[k] for x in devs])) for k in FIELDS}
        lines.append(
            f"| broadcast_dev.mp4 (mean over the fold models) | {_f(d['auroc'])} | {_f(d['tpr'])} "
            f"| {_f(d['fpr'])} | {_f(d['break_f1'], 2)} | {_f(d['boundary_error_s'], 2)} | – | – | – |"
        )
    return lines


def source_table(result: dict) -> list[str]:
    """Fraction of each clip's frames out (smoothed), mean over the folds that tested it / worst fold."""
    names = list(result["variants"])
    table: dict[str, dict[str, list[float]]] = {}
    for name, rows in result["variants"].items():
        for row in rows.values():
            per_source: dict[str, list[float]] = {}
            for b in [*row["broadcasts"], *([row["dev"]] if row.get("dev") else [])]:
                for source, (out, n) in b["sources"].items():
                    c = per_source.setdefault(source, [0.0, 0.0])
                    c[0], c[1] = c[0] + out, c[1] + n
            for source, (out, n) in per_source.items():
                table.setdefault(source, {}).setdefault(name, []).append(out / n)
    lines = ["| clip | " + " | ".join(names) + " |", "| --- " * (len(names) + 1) + "|"]
    for source in sorted(table, key=lambda s: (s.startswith("dev:"), _group(s), s)):
        cells = []
        for name in names:
            values = table[source].get(name)
            worst = max(values) if _group(source) == "soccer" else min(values or [np.nan])
            cells.append("–" if not values else f"{np.mean(values):.2f} / {worst:.2f}")
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return lines


def verdict(result: dict, name: str) -> list[str]:
    s = summary(result["variants"][name])
    lines = [f"Targets (variant *{name}*, smoothed decisions, no negatives):", ""]
    for label, key, goal, higher in TARGETS:
        value = s.get(key, float("nan"))
        met = value >= goal if higher else value <= goal
        lines.append(
            f"- {label}: {_f(value)} (target {'>=' if higher else '<='} {goal}): "
            f"{'met' if met else '**not met**'}"
        )
    return lines


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _folds_run(result: dict) -> list[str]:
    return list(next(iter(result["variants"].values()), {}))


def markdown(result: dict, default: str = "defaults") -> str:
    """The whole "Quality" section between its markers."""
    skipped = ", ".join(f"{k} ({v})" for k, v in result.get("skipped", {}).items()) or "none"
    lines = [
        START,
        "## Quality: leave one match out",
        "",
        f"Command: `{result['command']}`  ",
        f"Date: {result['date']}; machine: {_cpu_model()}, {os.cpu_count()} cores shared with other jobs, "
        f"torch {torch.__version__}; wall time {result['wall_s'] / 60:.1f} min (fold models cached).  ",
        f"Matches: {len(result['matches'])} ({', '.join(result['matches'])}); clips that did not decode: "
        f"{skipped}. Folds run (held-out match): {', '.join(_folds_run(result))}; {result['broadcasts']} "
        f"broadcasts per fold, seed {result['seed']}. Negatives of the negative variants (never tested): "
        f"{', '.join(result.get('negatives', [])) or 'none'}.",
        "",
        *summary_table(result),
        "",
    ]
    if default in result["variants"]:
        lines += [*verdict(result, default), "", *fold_table(result, default), ""]
    lines += [
        "Fraction of each clip's frames out (smoothed decisions), mean over folds / worst fold (soccer: "
        "should be 0, the rest 1; *dev:* = the pieces of broadcast_dev.mp4):",
        "",
        *source_table(result),
        END,
    ]
    return "\n".join(lines)


def write_docs(path: Path, section: str) -> None:
    replace_section(path, section, START, END)
