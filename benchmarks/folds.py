"""Train (or load from disk) the model of each leave-one-match-out fold, through ``scoring.pipeline``.

Models are cached under ``OUT/models/<key>/<held-out match>/`` where the key hashes the training options,
the sampling rate and the negatives, so a rerun with the same settings only scores.

    nice -n 19 .venv/bin/python -m benchmarks.folds --data ../shared/data [--only MATCH ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from benchmarks.protocol import MATCH_FOLDERS, ClipCache, Fold, clip_name, video_files
from scoring.frames import SamplingSpec
from scoring.pipeline import (
    DEFAULT_TRAIN_FPS,
    TrainedCategory,
    TrainingOptions,
    load_checkpoint,
    save_checkpoint,
    train_category,
)

# Settings the VAE never sees: those that only act with negatives, which fold models never train with, and
# the colour term's descriptors; the benchmark recomputes what they change (``quality.rebuilt_colours``), so
# they are left out of the key and models trained before such a setting existed stay valid
NOT_IN_KEY = ("negative_colours", "colour_hue_blur", "colour_power")


def model_key(options: TrainingOptions, fps: float | None, negatives: tuple[str, ...]) -> str:
    """Short hash of everything that makes a fold model what it is (but the clips, named by the fold)."""
    described = options.to_dict()
    described["model"] = {k: v for k, v in described["model"].items() if k not in NOT_IN_KEY}
    text = json.dumps({"options": described, "fps": fps, "negatives": sorted(negatives)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def add_fold_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fold-epochs",
        type=int,
        default=None,
        help="epochs of each leave-one-clip-out calibration model (default: the product's); fewer is a "
        "cheaper fold model on a busy machine, cached under its own key",
    )
    parser.add_argument(
        "--train-option",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="train the fold models with this setting instead of the product's (e.g. train.zoom_max=1.5, "
        "model.error_quantile=0.3); repeatable, cached under its own key",
    )


def fold_options(args: argparse.Namespace) -> TrainingOptions:
    """Default training options, but for ``--fold-epochs`` and ``--train-option`` when given."""
    options = TrainingOptions().to_dict()
    if getattr(args, "fold_epochs", None) is not None:
        options["calibration"]["fold_epochs"] = args.fold_epochs
    for setting in getattr(args, "train_option", None) or []:
        name, _, value = setting.partition("=")
        section, _, field = name.partition(".")
        if section not in options or field not in options[section] or not value:
            raise SystemExit(f"--train-option {setting}: expected SECTION.FIELD=VALUE with an existing field")
        options[section][field] = json.loads(value)
    return TrainingOptions.from_dict(options)


def match_paths(data: Path) -> dict[str, Path]:
    """Clip name -> path of every soccer match (one clip per match)."""
    return {clip_name(p): p for folder in MATCH_FOLDERS for p in video_files(data / "videos" / folder)}


def train_spec(options: TrainingOptions, fps: float | None) -> SamplingSpec:
    return SamplingSpec(fps, options.model.height, options.model.width)


def fold_model(
    fold: Fold,
    data: Path,
    out: Path,
    cache: ClipCache,
    options: TrainingOptions,
    fps: float | None = DEFAULT_TRAIN_FPS,
) -> TrainedCategory:
    """The fold's model from disk, or trained with ``train_category`` (default settings) and saved."""
    directory = out / "models" / model_key(options, fps, fold.negatives) / fold.held_out.replace("/", "__")
    if (directory / "model.json").exists():
        return load_checkpoint(directory)
    paths = {**match_paths(data), **{n: data / "videos" / n for n in fold.negatives}}
    spec = train_spec(options, fps)
    clips = [c for c in (cache.load(paths[n], spec) for n in fold.train) if c is not None]
    negatives = [c for c in (cache.load(_resolve(paths[n]), spec) for n in fold.negatives) if c is not None]
    trained = train_category("soccer", clips, negatives, options)
    save_checkpoint(trained, directory)
    return trained


def _resolve(path: Path) -> Path:
    """A negative is named without its suffix: find the file."""
    if path.exists():
        return path
    return next(p for p in video_files(path.parent) if p.stem == path.name)


def main() -> None:
    from benchmarks.protocol import make_folds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data", type=Path)
    parser.add_argument("--out", default="benchmarks/out", type=Path)
    parser.add_argument("--only", nargs="*", default=None, help="held-out matches to train (default all)")
    add_fold_options(parser)
    args = parser.parse_args()
    cache = ClipCache(args.out / "frames")
    options = fold_options(args)
    spec = train_spec(options, DEFAULT_TRAIN_FPS)
    matches = [n for n, p in match_paths(args.data).items() if cache.load(p, spec) is not None]
    for name, error in cache.failed.items():
        print(f"skipped {name}: {error}")
    for fold in make_folds(matches, []):
        if args.only and fold.held_out not in args.only:
            continue
        trained = fold_model(fold, args.data, args.out, cache, options)
        print(f"{fold.held_out}: threshold {trained.threshold:.4f}, {trained.metadata['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
