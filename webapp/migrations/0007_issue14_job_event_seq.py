"""A job numbers its events (``event_seq``), so a page that sees a gap asks its socket for a new snapshot."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webapp", "0006_issue14_rows_follow_their_jobs")]

    operations = [
        migrations.AddField(model_name="job", name="event_seq", field=models.PositiveIntegerField(default=0)),
    ]
