from django.db import migrations


class Migration(migrations.Migration):
    """Joins the two branches of 0006 (rows that follow their jobs; reviews, upload heads, learning)."""

    dependencies = [
        ("webapp", "0006_issue14_rows_follow_their_jobs"),
        ("webapp", "0006_issue15_reviews_uploads_learning"),
    ]

    operations = []
