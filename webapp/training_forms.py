"""Forms that start training and scoring; they validate input and build the config the jobs read.

Defaults come from the scoring dataclasses (``VAEConfig``, ``TrainConfig``, ``CalibrationOptions``,
``TemporalParams``), so the form never disagrees with the command line.
"""

from django import forms
from django.conf import settings

from webapp.models import Category, TrainedModel, Video


def scoring_defaults():
    from scoring.model import VAEConfig
    from scoring.pipeline import CalibrationOptions
    from scoring.segments import TemporalParams
    from scoring.training import TrainConfig

    return VAEConfig(), TrainConfig(), CalibrationOptions(), TemporalParams()


class TrainForm(forms.Form):
    """Everything is optional: an empty form trains with the defaults ("Advanced options" are folded away)."""

    epochs = forms.IntegerField(min_value=1, max_value=1000, required=False)
    latent_dim = forms.IntegerField(min_value=2, max_value=512, required=False, label="Latent size")
    input_height = forms.IntegerField(min_value=16, max_value=512, required=False, label="Input height (px)")
    input_width = forms.IntegerField(min_value=16, max_value=512, required=False, label="Input width (px)")
    beta = forms.FloatField(min_value=0.0, max_value=100.0, required=False, label="β (weight of the KL term)")
    fps = forms.FloatField(min_value=0.05, max_value=60.0, required=False, label="Sampling fps")
    batch_size = forms.IntegerField(min_value=1, max_value=4096, required=False)
    lr = forms.FloatField(min_value=1e-6, max_value=1.0, required=False, label="Learning rate")
    percentile = forms.FloatField(
        min_value=50.0, max_value=100.0, required=False, label="Threshold percentile"
    )
    method = forms.ChoiceField(
        choices=[
            ("percentile", "Percentile of held-out losses"),
            ("auto", "Best F1 when there are negative clips, else the percentile"),
            ("f1", "Best F1 (needs negative clips)"),
        ],
        required=False,
        label="Threshold method",
    )
    holdout = forms.ChoiceField(
        choices=[("clips", "Leave one clip out"), ("blocks", "Held-out time blocks (faster)")],
        required=False,
        label="Calibration hold-out",
    )
    fold_epochs = forms.IntegerField(
        min_value=1, max_value=1000, required=False, label="Epochs per fold",
        help_text="Leave-one-clip-out calibration trains one extra model per reference clip for this many "
                  "epochs, whatever Epochs says: with few epochs it takes most of the training time.",
    )  # fmt: skip

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        model, train, calibration, _ = scoring_defaults()
        placeholders = {
            "epochs": train.epochs, "latent_dim": model.latent_dim, "input_height": model.height,
            "input_width": model.width, "beta": model.beta, "fps": settings.OFFSIDE_TRAIN_FPS,
            "batch_size": train.batch_size, "lr": train.lr, "percentile": calibration.percentile,
            "fold_epochs": calibration.fold_epochs,
        }  # fmt: skip
        for name, value in placeholders.items():
            self.fields[name].widget.attrs["placeholder"] = f"{value:g}"

    def clean(self):
        data = super().clean()
        if not self.category.clips.filter(is_negative=False).exists():
            raise forms.ValidationError("Add at least one reference clip before training.")
        if data.get("method") == "f1" and not self.category.clips.filter(is_negative=True).exists():
            self.add_error("method", "The F1 threshold needs at least one negative clip.")
        height, width = data.get("input_height"), data.get("input_width")
        if (height is None) != (width is None):
            self.add_error("input_width", "Give both the input height and width, or neither.")
        return data

    def config(self) -> dict:
        """The model row's config: only the options the user set, the dataclass defaults fill the rest."""
        d = self.cleaned_data
        pick = lambda mapping: {k: d[f] for k, f in mapping.items() if d.get(f) not in (None, "")}  # noqa: E731
        return {
            "model": pick({"latent_dim": "latent_dim", "height": "input_height", "width": "input_width",
                           "beta": "beta"}),
            "train": pick({"epochs": "epochs", "batch_size": "batch_size", "lr": "lr"}),
            "calibration": pick({"percentile": "percentile", "method": "method", "holdout": "holdout",
                                 "fold_epochs": "fold_epochs"}),
            "sampling": {"fps": d.get("fps") or settings.OFFSIDE_TRAIN_FPS},
        }  # fmt: skip


class ScoreForm(forms.Form):
    """Score one or more videos against chosen model versions (the categories' active versions by default)."""

    videos = forms.ModelMultipleChoiceField(
        queryset=Video.objects.none(),
        required=True,
        error_messages={
            "required": "Choose at least one video to score.",
            "invalid_choice": "Video %(value)s is not one of your ready videos (it may still be "
            "processing, have failed, or not exist).",
        },
    )
    models = forms.ModelMultipleChoiceField(
        queryset=TrainedModel.objects.none(), widget=forms.CheckboxSelectMultiple, required=True,
        error_messages={"required": "Choose at least one category to score against.",
                        "invalid_choice": "Model version %(value)s is not one of your ready versions."},
    )  # fmt: skip
    fps = forms.FloatField(min_value=0.05, max_value=60.0, required=False, label="Sampling fps")
    window_s = forms.FloatField(min_value=0.0, max_value=60.0, required=False, label="Smoothing window (s)")
    high = forms.FloatField(min_value=0.01, max_value=100.0, required=False, label="Enter “out” above")
    low = forms.FloatField(min_value=0.01, max_value=100.0, required=False, label="Back “in” at or below")
    min_segment_s = forms.FloatField(
        min_value=0.0, max_value=600.0, required=False, label="Minimum segment (s)"
    )
    snap_to_cuts_s = forms.FloatField(min_value=0.0, max_value=10.0, required=False, label="Snap to cuts (s)")

    TEMPORAL = ("window_s", "high", "low", "min_segment_s", "snap_to_cuts_s")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["videos"].queryset = Video.objects.filter(owner=owner, status=Video.Status.READY)
        self.fields["models"].queryset = (
            TrainedModel.objects.ready().filter(category__owner=owner).select_related("category")
        )
        self.fields["models"].label_from_instance = lambda m: f"{m.category.name} v{m.version}"
        _, _, _, temporal = scoring_defaults()
        for name in self.TEMPORAL:
            self.fields[name].widget.attrs["placeholder"] = f"{getattr(temporal, name):g}"
        self.fields["fps"].widget.attrs["placeholder"] = f"{settings.OFFSIDE_TRAIN_FPS:g}"

    def clean_models(self):
        chosen = list(self.cleaned_data["models"])
        categories = [m.category_id for m in chosen]
        if len(set(categories)) != len(categories):
            raise forms.ValidationError("Pick at most one version per category.")
        return chosen

    def clean(self):
        data = super().clean()
        _, _, _, temporal = scoring_defaults()
        low = data.get("low") if data.get("low") is not None else temporal.low
        high = data.get("high") if data.get("high") is not None else temporal.high
        if low > high:
            self.add_error("low", f"“Back in” ({low:g}) must not be above “enter out” ({high:g}).")
        return data

    def temporal_params(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.TEMPORAL if self.cleaned_data.get(k) is not None}

    def sampling_fps(self) -> float:
        return self.cleaned_data.get("fps") or settings.OFFSIDE_TRAIN_FPS
