from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webapp", "0004_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="video", name="pix_fmt", field=models.CharField(blank=True, max_length=32)
        ),
        migrations.AddField(
            model_name="video",
            name="sample_aspect_ratio",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(model_name="video", name="interlaced", field=models.BooleanField(default=False)),
        migrations.AddField(
            model_name="video", name="variable_frame_rate", field=models.BooleanField(default=False)
        ),
        migrations.AddField(model_name="video", name="has_audio", field=models.BooleanField(default=False)),
        migrations.AddField(
            model_name="video", name="discontinuities", field=models.PositiveIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="video", name="start_timecode", field=models.CharField(blank=True, max_length=16)
        ),
    ]
