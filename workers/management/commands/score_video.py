import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from webapp.models import ScoringRun, TrainedModel, Video
from webapp.training_forms import ScoreForm
from workers.inline import run_inline
from workers.score_runs import score_video_work

TEMPORAL_FIELDS = ("fps", "window_s", "high", "low", "min_segment_s", "snap_to_cuts_s")


def pick_model(video: Video, name: str) -> TrainedModel:
    """``NAME`` (the active version) or ``NAME:vN`` of one of the video owner's categories."""
    name, _, version = name.partition(":")
    models = TrainedModel.objects.ready().filter(category__owner=video.owner_id, category__name__iexact=name)
    model = models.filter(version=int(version.lstrip("v"))).first() if version else models.active().first()
    if model is None:
        wanted = f"version {version} of" if version else "active model of"
        raise CommandError(f"There is no {wanted} category {name!r} for the owner of video {video.pk}.")
    return model


class Command(BaseCommand):
    help = "Score a video against one or more categories here, with a progress bar; prints the segments."

    def add_arguments(self, parser):
        parser.add_argument("video_id", type=int)
        parser.add_argument(
            "--category",
            action="append",
            required=True,
            help="NAME or NAME:vN; repeat for several categories",
        )
        parser.add_argument("--fps", type=float, help="sampling rate (default OFFSIDE_TRAIN_FPS)")
        parser.add_argument("--window-s", type=float, dest="window_s")
        parser.add_argument("--high", type=float)
        parser.add_argument("--low", type=float)
        parser.add_argument("--min-segment-s", type=float, dest="min_segment_s")
        parser.add_argument("--snap-to-cuts-s", type=float, dest="snap_to_cuts_s")
        parser.add_argument("--json", dest="json_path", help="also write the segments to this JSON file")

    def handle(self, *args, **options):
        video = Video.objects.filter(pk=options["video_id"]).select_related("owner").first()
        if video is None:
            raise CommandError(f"No video with id {options['video_id']}.")
        models = [pick_model(video, name) for name in options["category"]]
        data = {k: options[k] for k in TEMPORAL_FIELDS if options.get(k) is not None}
        form = ScoreForm({**data, "videos": [video.pk], "models": [m.pk for m in models]}, owner=video.owner)
        if not form.is_valid():
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        run = ScoringRun.start(video, models, video.owner, form.temporal_params(), form.sampling_fps(), False)
        bar = tqdm(
            total=100, unit="%", desc="Queued", file=self.stderr._out, disable=options["verbosity"] == 0
        )
        job = run_inline(run.job, score_video_work, bar)
        if job.status != "succeeded":
            raise CommandError(f"Scoring video {video.pk} {job.status}: {job.error}")
        segments = list(run.segments.all())
        for s in segments:
            self.stdout.write(f"{s.start_tc}  {s.end_tc}  {s.label:<4} {s.category:<16} {s.mean_score:.3f}")
        self.stdout.write(f"Run #{run.pk}: {len(segments)} segments, {run.n_frames} frames.")
        if options.get("json_path"):
            rows = [{"start_s": s.start_s, "end_s": s.end_s, "label": s.label, "category": s.category,
                     "mean_score": s.mean_score} for s in segments]  # fmt: skip
            with open(options["json_path"], "w") as handle:
                json.dump({"run_id": run.pk, "video_id": video.pk, "segments": rows}, handle, indent=1)
