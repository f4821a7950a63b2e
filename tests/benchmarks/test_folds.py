"""Fold models are cached under a key of their training options: the product's defaults keep theirs, and a
setting given on the command line trains (and caches) other models."""

import argparse

import pytest

from benchmarks.folds import add_fold_options, fold_options, model_key
from scoring.pipeline import TrainingOptions


def options(*argv: str) -> TrainingOptions:
    parser = argparse.ArgumentParser()
    add_fold_options(parser)
    return fold_options(parser.parse_args(list(argv)))


def test_without_settings_the_fold_models_are_the_products():
    assert options() == TrainingOptions()
    assert model_key(options(), 5.0, ()) == model_key(TrainingOptions(), 5.0, ())


def test_a_training_option_changes_that_setting_and_the_cache_key():
    zoomed = options("--train-option", "train.zoom_max=1.5", "--train-option", "model.error_quantile=0.3")
    assert zoomed.train.zoom_max == 1.5 and zoomed.model.error_quantile == 0.3
    assert zoomed.model.colour_hue_blur == TrainingOptions().model.colour_hue_blur  # the rest stay defaults
    assert model_key(zoomed, 5.0, ()) != model_key(TrainingOptions(), 5.0, ())
    assert options("--fold-epochs", "4").calibration.fold_epochs == 4


@pytest.mark.parametrize("setting", ["train.zoom", "zoom_max=1.5", "train.no_such_field=1", "model.beta="])
def test_a_setting_that_names_no_field_is_refused(setting):
    with pytest.raises(SystemExit, match="SECTION.FIELD=VALUE"):
        options("--train-option", setting)
