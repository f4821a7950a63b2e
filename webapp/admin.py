"""Django admin (staff only) for Offside's rows."""

from django.contrib import admin, messages

from webapp.models import Job

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
