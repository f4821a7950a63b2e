from django.db import migrations


class Migration(migrations.Migration):
    """Joins the job-event sequence number (issue 14) to the merged branches of 0007."""

    dependencies = [
        ("webapp", "0007_issue14_job_event_seq"),
        ("webapp", "0007_merge_issue14_issue15"),
    ]

    operations = []
