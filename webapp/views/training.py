"""Training pages: start a training (defaults, advanced options folded away), a model version's live page
(progress bar, stage, ETA and loss curves over the WebSocket), making a version active, and setting its
threshold from the false alarms per hour someone accepts."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from scoring.checkpoint import CheckpointError
from webapp import charts, thresholds
from webapp.access import visible_or_404
from webapp.models import TrainedModel
from webapp.training_forms import TrainForm
from webapp.views.categories import visible_category_or_404


def visible_model_or_404(request, model_id: int) -> TrainedModel:
    models = TrainedModel.objects.select_related("category", "job")
    return visible_or_404(models, request.user, model_id, "model")


@require_http_methods(["GET", "POST"])
def train_start(request, category_id: int):
    """GET: the full training form; POST (from here or the category page): queue a new version."""
    category = visible_category_or_404(request, category_id)
    form = TrainForm(request.POST if request.method == "POST" else None, category=category)
    if request.method == "POST" and form.is_valid():
        model = TrainedModel.start_training(category, request.user, form.config())
        messages.success(request, f"Training {model.label} queued.")
        return redirect("model_detail", model_id=model.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "training/start.html", {"category": category, "form": form}, status=status)


def model_detail(request, model_id: int):
    model = visible_model_or_404(request, model_id)
    epochs = model.curves.get("epochs", [])
    final = [p for p in epochs if p.get("fold", 0) == 0]
    context = {
        "model": model,
        "job": model.job,
        "live_epochs": epochs,
        "curves_json": charts.training_curves(final, model.curves.get("best_epoch")).to_json()
        if model.is_ready and final
        else None,
        "calibration_json": calibration_figure(model),
        "threshold_caption": charts.threshold_caption(
            model.calibration, model.threshold, model.calibration_losses()
        )
        if model.is_ready and model.threshold
        else "",
        "versions": model.category.models.order_by("-version")[:20],
        "false_alarms": thresholds.false_alarms(model),
    }
    return render(request, "training/model_detail.html", context)


def calibration_figure(model: TrainedModel) -> str | None:
    losses = model.calibration_losses()
    if not model.is_ready or not len(losses) or not model.threshold:
        return None
    negatives = model.calibration.get("negative_losses")
    caption = charts.threshold_caption(model.calibration, model.threshold, losses)
    fig = charts.calibration_histogram(losses, model.threshold, negatives, caption=caption)
    return fig.to_json()


@require_POST
def model_activate(request, model_id: int):
    model = visible_model_or_404(request, model_id)
    try:
        model.activate()
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{model.label} is now the active version of {model.category.name}.")
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("model_detail", model_id=model.pk)


@require_POST
def model_threshold(request, model_id: int):
    """Set the threshold for at most ``false_alarms_per_hour`` false alarms per hour of in-category video."""
    model = visible_model_or_404(request, model_id)
    try:
        per_hour = float(request.POST.get("false_alarms_per_hour", ""))
        threshold = thresholds.set_threshold_for_false_alarms(model, per_hour, request.user)
    except (ValueError, CheckpointError) as exc:
        messages.error(request, f"The threshold stays: {exc}")
    else:
        promise = f"at most {per_hour:g} false alarms per hour"
        messages.success(request, f"{model.label}: threshold {threshold:.5g}, for {promise}.")
    return redirect("model_detail", model_id=model.pk)
