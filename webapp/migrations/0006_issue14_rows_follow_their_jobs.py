"""Rows left behind by jobs that ended without them (before the job seam): a version or run whose job failed or
was cancelled, a video whose latest probe job did, become failed with the job's reason."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

ENDED = ("failed", "cancelled")


def reason(job) -> str:
    return job.error or "The job working on this was cancelled."


def fail_rows_of_ended_jobs(apps, schema_editor):
    Job = apps.get_model("webapp", "Job")
    for model_name, unfinished in (
        ("TrainedModel", ("queued", "training")),
        ("ScoringRun", ("queued", "running")),
    ):
        rows = apps.get_model("webapp", model_name).objects.filter(
            status__in=unfinished, job__status__in=ENDED
        )
        for row in rows.select_related("job"):
            type(row).objects.filter(pk=row.pk).update(status="failed", error=reason(row.job)[:2000])
    Video = apps.get_model("webapp", "Video")
    latest = Job.objects.filter(video=OuterRef("pk"), kind="probe_video").order_by("-pk").values("pk")[:1]
    videos = Video.objects.filter(status__in=("uploaded", "processing")).annotate(probe_id=Subquery(latest))
    for video in videos:
        job = Job.objects.filter(pk=video.probe_id, status__in=ENDED).first()
        if job is not None:
            Video.objects.filter(pk=video.pk).update(status="failed", error=reason(job)[:2000])


class Migration(migrations.Migration):
    dependencies = [("webapp", "0005_video_stream_facts")]

    operations = [migrations.RunPython(fail_rows_of_ended_jobs, migrations.RunPython.noop)]
