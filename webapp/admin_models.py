"""Admin for trained model versions: activation, archive, delete with files, export/import, comparison,
disk usage and orphaned-file clean-up. Staff only, like the rest of the admin site."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from webapp.deletion import version_deletion
from webapp.model_archive import ImportRefused, export_filename, export_zip, import_zip, model_card
from webapp.models import ApiToken, Category, TrainedModel
from webapp.models.training import directory_size
from webapp.orphans import find_orphans, remove_orphans

COMPARED_FIELDS = (
    "status", "is_active", "threshold", "auroc", "n_frames", "device", "duration_s", "trained_at",
    "size_bytes",
)  # fmt: skip


class ImportModelForm(forms.Form):
    category = forms.ModelChoiceField(queryset=Category.objects.select_related("owner").order_by("name"))
    archive = forms.FileField(help_text="A zip exported from Offside (weights, model.json, manifest).")


class RecalibrateForm(forms.Form):
    percentile = forms.FloatField(
        required=False, min_value=50.0, max_value=100.0,
        help_text="Percentile of the held-out losses (per held-out clip) that becomes the threshold. "
        "Leave empty to keep each version's own.",
    )  # fmt: skip
    method = forms.ChoiceField(
        choices=[("", "keep each version's method"), ("auto", "F1-optimal with negatives, else percentile"),
                 ("percentile", "percentile of held-out losses"), ("f1", "F1-optimal against negatives")],
        required=False,
    )  # fmt: skip
    use_negatives = forms.BooleanField(
        required=False, label="Score the category's current negative clips (ROC, AUROC, F1 threshold)"
    )


def zip_response(model: TrainedModel) -> HttpResponse:
    response = HttpResponse(export_zip(model), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(model)}"'
    return response


def card_response(model: TrainedModel) -> HttpResponse:
    body = json.dumps(model_card(model), indent=1, default=str)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(model)[:-4]}-card.json"'
    return response


def comparison_rows(first: TrainedModel, second: TrainedModel) -> list[tuple[str, object, object]]:
    rows = [(name, getattr(first, name), getattr(second, name)) for name in COMPARED_FIELDS]
    for key in ("method", "percentile", "best_f1", "f1_threshold"):
        rows.append((f"calibration {key}", first.calibration.get(key), second.calibration.get(key)))
    rows.append(("best epoch", first.curves.get("best_epoch"), second.curves.get("best_epoch")))
    first_net, second_net = first.config.get("model", {}), second.config.get("model", {})
    for key in ("latent_dim", "height", "width", "base_channels"):
        rows.append((f"model {key}", first_net.get(key), second_net.get(key)))
    return rows


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    # Short headers and a compact date: with the navigation and the filters beside it, the list must fit a
    # 1400 px window (tests/browser/test_admin_in_the_browser.py).
    # (the device is a filter and on each version's page).
    list_display = (
        "category", "version", "status", "active", "threshold", "auroc", "frames", "trained", "disk_usage"
    )  # fmt: skip
    list_display_links = ("category", "version")
    list_filter = ("status", "is_active", "device", "category__owner")
    search_fields = ("category__name", "category__owner__username", "device")
    list_select_related = ("category",)
    raw_id_fields = ("category", "job")
    readonly_fields = ("created_at", "trained_at", "weights_dir", "size_bytes", "is_active", "downloads")
    actions = (
        "make_active", "archive", "recalibrate", "delete_with_files", "download_zip", "download_card",
        "compare",
    )  # fmt: skip
    change_list_template = "admin/webapp/trainedmodel/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        extra = [
            path("<int:model_id>/export.zip", view(self.export_view), name="model_export"),
            path("<int:model_id>/card.json", view(self.card_view), name="model_card"),
            path("import/", view(self.import_view), name="model_import"),
            path("orphans/", view(self.orphans_view), name="model_orphans"),
        ]
        return extra + super().get_urls()

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, obj: TrainedModel) -> bool:
        return obj.is_active

    @admin.display(description="frames", ordering="n_frames")
    def frames(self, obj: TrainedModel) -> int | None:
        return obj.n_frames

    @admin.display(description="trained", ordering="trained_at")
    def trained(self, obj: TrainedModel) -> str:
        return obj.trained_at.strftime("%Y-%m-%d %H:%M") if obj.trained_at else "-"

    @admin.display(description="size")
    def disk_usage(self, obj: TrainedModel) -> str:
        return filesizeformat(directory_size(obj.directory))

    @admin.display(description="Downloads")
    def downloads(self, obj: TrainedModel) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">weights + config (zip)</a> · <a href="{}">model card (JSON)</a>',
            reverse("admin:model_export", args=[obj.pk]),
            reverse("admin:model_card", args=[obj.pk]),
        )

    # --- actions ------------------------------------------------------------------------------------------

    @admin.action(description="Make the selected version active (one per category)")
    def make_active(self, request, queryset):
        categories = [m.category_id for m in queryset]
        if len(categories) != len(set(categories)):
            messages.error(request, "Select at most one version per category: only one can be active.")
            return
        for model in queryset:
            try:
                model.activate()
            except ValueError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"{model.label} is now active.")

    @admin.action(description="Archive the selected versions")
    def archive(self, request, queryset):
        for model in queryset:
            model.archive()
        messages.success(request, f"{len(queryset)} version(s) archived.")

    @admin.action(description="Recalibrate the selected versions (new percentile or current negatives)")
    def recalibrate(self, request, queryset):
        models = list(queryset.select_related("category"))
        not_ready = [m.label for m in models if not m.is_ready]
        if not_ready:
            messages.error(request, f"Only ready versions can be recalibrated: {', '.join(not_ready)}.")
            return None
        form = RecalibrateForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            data = form.cleaned_data
            for model in models:
                job = model.start_recalibration(
                    request.user, data["percentile"], data["method"] or None, data["use_negatives"]
                )
                messages.success(request, format_html(
                    'Recalibration of {} queued: <a href="{}">follow the job</a>.',
                    model.label, reverse("job_detail", args=[job.pk]),
                ))  # fmt: skip
            return None
        context = {
            **self.admin_site.each_context(request), "title": "Recalibrate model versions",
            "models": models, "form": form, "opts": self.model._meta,
        }  # fmt: skip
        return TemplateResponse(request, "admin/webapp/trainedmodel/recalibrate.html", context)

    @admin.action(description="Delete the selected versions and their files")
    def delete_with_files(self, request, queryset):
        """First answer lists what each version takes with it (``webapp.deletion``); the confirmed post
        deletes."""
        models = list(queryset.select_related("category").order_by("category__name", "version"))
        if "confirm" not in request.POST:
            plans = [version_deletion(model) for model in models]
            context = {
                **self.admin_site.each_context(request), "title": "Delete model versions and their files",
                "models": models, "plans": plans, "total_bytes": sum(p.total_bytes for p in plans),
                "opts": self.model._meta,
            }  # fmt: skip
            return TemplateResponse(request, "admin/webapp/trainedmodel/delete_with_files.html", context)
        self.delete_queryset(request, queryset)
        messages.success(request, f"{len(models)} version(s) and their files deleted.")
        return None

    def delete_queryset(self, request, queryset):
        # One by one, so each version's post_delete takes its files (a bulk delete would too; this keeps
        # the admin's per-object hooks).
        for model in queryset:
            self.delete_model(request, model)

    def single(self, request, queryset) -> TrainedModel | None:
        if queryset.count() != 1:
            messages.error(request, "Select exactly one version.")
            return None
        return queryset.first()

    @admin.action(description="Download weights + config (zip) of one version")
    def download_zip(self, request, queryset):
        model = self.single(request, queryset)
        return self.export_view(request, model.pk) if model else None

    @admin.action(description="Download the model card (JSON) of one version")
    def download_card(self, request, queryset):
        model = self.single(request, queryset)
        return card_response(model) if model else None

    @admin.action(description="Compare two versions side by side")
    def compare(self, request, queryset):
        if queryset.count() != 2:
            messages.error(request, "Select exactly two versions to compare.")
            return None
        first, second = queryset.order_by("category_id", "version")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare {first.label} and {second.label}",
            "first": first,
            "second": second,
            "rows": comparison_rows(first, second),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/webapp/trainedmodel/compare.html", context)

    # --- views --------------------------------------------------------------------------------------------

    def export_view(self, request, model_id: int):
        model = get_object_or_404(TrainedModel, pk=model_id)
        try:
            return zip_response(model)
        except FileNotFoundError:
            messages.error(request, f"The files of {model.label} are missing; nothing to export.")
            return HttpResponseRedirect(reverse("admin:webapp_trainedmodel_changelist"))

    def card_view(self, request, model_id: int):
        return card_response(get_object_or_404(TrainedModel, pk=model_id))

    def import_view(self, request):
        form = ImportModelForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                model = import_zip(form.cleaned_data["archive"], form.cleaned_data["category"])
            except ImportRefused as exc:
                form.add_error("archive", f"Refused: {exc}")
            else:
                messages.success(request, f"Imported as {model.label}.")
                return HttpResponseRedirect(reverse("admin:webapp_trainedmodel_change", args=[model.pk]))
        context = {**self.admin_site.each_context(request), "title": "Import a model", "form": form}
        context["opts"] = self.model._meta
        return TemplateResponse(request, "admin/webapp/trainedmodel/import.html", context)

    def orphans_view(self, request):
        orphans = find_orphans()
        if request.method == "POST":
            freed = remove_orphans(orphans)
            freed_text = filesizeformat(freed)
            messages.success(request, f"Removed {len(orphans)} orphaned item(s), {freed_text} freed.")
            return HttpResponseRedirect(reverse("admin:webapp_trainedmodel_changelist"))
        context = {**self.admin_site.each_context(request), "title": "Orphaned files", "orphans": orphans}
        context["opts"] = self.model._meta
        context["total_bytes"] = sum(o.size_bytes for o in orphans)
        return TemplateResponse(request, "admin/webapp/trainedmodel/orphans.html", context)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with ``manage.py create_api_token`` (the raw token is shown once); here they are
    listed and revoked (deleted)."""

    list_display = ("prefix", "name", "owner", "created_at", "last_used_at")
    search_fields = ("name", "prefix", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = ("owner", "prefix", "key_hash", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
