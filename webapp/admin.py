"""Django admin (staff only) for Offside's rows."""

from django.contrib import admin, messages

from webapp.models import Category, Job, ReferenceClip, Upload, Video

admin.site.site_header = "Offside administration"
admin.site.site_title = "Offside admin"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "title", "owner", "status", "progress", "stage", "attempts", "created_at")
    list_filter = ("status", "kind", "queue")
    search_fields = ("title", "stage", "error", "celery_task_id", "owner__username")
    readonly_fields = ("created_at", "started_at", "heartbeat_at", "finished_at", "celery_task_id")
    actions = ("cancel_jobs", "retry_jobs")

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request, queryset):
        for job in queryset.exclude(status__in=("succeeded", "failed", "cancelled")):
            job.request_cancel()
            job.publish()
        messages.success(request, "Cancellation requested.")

    @admin.action(description="Retry selected failed or cancelled jobs")
    def retry_jobs(self, request, queryset):
        retried = 0
        for job in queryset:
            if job.prepare_retry():
                job.enqueue()
                retried += 1
        messages.success(request, f"{retried} job(s) queued again.")


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "owner",
        "status",
        "duration_s",
        "width",
        "height",
        "size_bytes",
        "created_at",
    )
    list_filter = ("status", "codec")
    search_fields = ("title", "original_name", "sha256", "owner__username")
    readonly_fields = ("sha256", "size_bytes", "created_at", "probed_at", "poster_path", "strip_path")
    list_select_related = ("owner",)


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("id", "filename", "owner", "status", "offset", "size_bytes", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("filename", "owner__username", "sha256")


class ReferenceClipInline(admin.TabularInline):
    model = ReferenceClip
    extra = 0
    raw_id_fields = ("video",)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "colour", "updated_at")
    search_fields = ("name", "description", "owner__username")
    inlines = [ReferenceClipInline]


# --- training and scoring (issue 5; issue 7 extends these) ----------------------------------------------

from webapp import admin_models  # noqa: E402, F401  (registers TrainedModelAdmin)
from webapp.models import FrameSet, ScoringRun, Segment  # noqa: E402


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    fields = ("index", "start_s", "end_s", "label", "category", "mean_score")
    readonly_fields = fields


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ("id", "video", "owner", "status", "n_frames", "created_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("video__title", "owner__username")
    raw_id_fields = ("video", "owner", "job", "trained_models")
    inlines = [SegmentInline]


@admin.register(FrameSet)
class FrameSetAdmin(admin.ModelAdmin):
    list_display = ("id", "video", "spec_slug", "n_frames", "corrupt_frames", "size_bytes", "created_at")
    search_fields = ("video__title", "spec_slug")
    raw_id_fields = ("video",)
