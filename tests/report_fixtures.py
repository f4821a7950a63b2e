"""A scored run built the way the workers build it (tiny model, synthetic match with a studio break), for the
report page tests and the browser test. Building one takes seconds of training, so suites build it once
(``built_once``) and share it."""

from contextlib import contextmanager
from pathlib import Path

from tests.training_fixtures import TINY_CONFIG, category_with_clip, ready_video
from webapp.models import ReferenceClip, ScoringRun, TrainedModel


def ignore_progress(*args, **kwargs) -> None:
    return None


def trained_model(owner, folder: Path, negatives: bool = False) -> TrainedModel:
    """A ready "soccer" version trained on a pitch; with ``negatives`` a studio clip is its negative."""
    from workers.training import train_category_work

    pitch = ready_video(owner, folder, "pitch.mp4", [("field", 6.0)])
    category = category_with_clip(owner, pitch, "soccer")
    if negatives:
        studio = ready_video(owner, folder, "studio.mp4", [("studio", 3.0)])
        ReferenceClip.objects.create(category=category, video=studio, is_negative=True)
    model = TrainedModel.start_training(category, owner, TINY_CONFIG, enqueue=False)
    train_category_work(model.job, ignore_progress)
    model.refresh_from_db()
    return model


def scored_run(owner, folder: Path, model: TrainedModel | None = None, name: str = "match.mp4") -> ScoringRun:
    """A succeeded run of a match (field 4 s, studio 3 s, field 4 s) against the soccer model; ``name``'s
    extension picks the codec (".webm" for one Chromium plays)."""
    from workers.score_runs import score_video_work

    model = model or trained_model(owner, folder)
    match = ready_video(owner, folder, name, [("field", 4.0), ("studio", 3.0), ("field", 4.0)])
    run = ScoringRun.start(
        match, [model], owner, {"min_segment_s": 1.0, "high": 2.0, "low": 1.5}, fps=5.0, enqueue=False
    )
    score_video_work(run.job, ignore_progress)
    run.refresh_from_db()
    return run


@contextmanager
def built_once(django_db_blocker, media_root: Path, username: str = "rita"):
    """(owner, run) committed to the test database for a whole module or session, deleted afterwards."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from tests.conftest import PASSWORD

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        owner = get_user_model().objects.create_user(username, password=PASSWORD)
        sources = media_root / "sources"
        sources.mkdir(parents=True, exist_ok=True)
        try:
            yield owner, scored_run(owner, sources)
        finally:
            owner.delete()
