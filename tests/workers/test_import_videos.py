"""``manage.py import_videos``: files and folders (recursive), categories, duplicates, in-process probing."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.synthetic import write_not_a_video, write_video
from webapp.models import Category, Job, ReferenceClip, Video


@pytest.fixture
def footage(tmp_path) -> Path:
    root = tmp_path / "footage"
    (root / "day1" / "cam2").mkdir(parents=True)
    write_video(root / "day1" / "a.mp4", [("field", 1.0)])
    write_video(root / "day1" / "cam2" / "b.avi", [("studio", 1.0)], codec="MJPG")
    (root / "day1" / "notes.txt").write_text("not footage")
    return root


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_videos", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_it_imports_a_folder_recursively_into_a_category(owner, footage):
    out, err = run(str(footage), "--category", "Soccer", "--user", owner.username)
    videos = Video.objects.filter(owner=owner).order_by("title")
    assert [v.title for v in videos] == ["a", "b"]
    assert all(v.original_path.is_file() for v in videos)
    assert all(Path(settings.MEDIA_ROOT) in v.original_path.parents for v in videos)
    category = Category.objects.get(owner=owner, name="Soccer")
    assert ReferenceClip.objects.filter(category=category).count() == 2
    assert Job.objects.filter(kind=Job.Kind.PROBE_VIDEO, status="queued").count() == 2
    assert "2 imported, 0 already present, 0 failed into category 'Soccer'" in out
    assert "Importing" in err  # the progress bar


@pytest.mark.django_db
def test_a_second_import_skips_duplicates(owner, footage):
    run(str(footage), "--user", owner.username, "--no-progress")
    out, _ = run(
        str(footage / "day1" / "a.mp4"), "--user", owner.username, "--category", "Again", "--no-progress"
    )
    assert Video.objects.count() == 2
    assert "already in the library" in out and "0 imported, 1 already present" in out
    assert ReferenceClip.objects.get().category.name == "Again"


@pytest.mark.django_db
def test_the_owner_defaults_to_the_only_superuser(staff, footage):
    run(str(footage), "--no-progress")
    assert Video.objects.filter(owner=staff).count() == 2


@pytest.mark.django_db
def test_it_asks_whose_library_when_it_cannot_tell(owner, footage):
    with pytest.raises(CommandError, match="--user"):
        run(str(footage))
    with pytest.raises(CommandError, match="No user called"):
        run(str(footage), "--user", "nobody")
    with pytest.raises(CommandError, match="no such file or folder"):
        run(str(footage / "missing"), "--user", owner.username)


@pytest.mark.django_db(transaction=True)
def test_process_here_probes_without_a_worker(owner, tmp_path):
    good = tmp_path / "good.mp4"
    write_video(good, [("field", 2.0)])
    bad = tmp_path / "bad.mp4"
    write_not_a_video(bad)
    out, _ = run(str(good), str(bad), "--user", owner.username, "--process-here", "--no-progress")
    assert Video.objects.get(title="good").status == "ready"
    failed = Video.objects.get(title="bad")
    assert failed.status == "failed" and "Not a video" in failed.error
    assert "Imported" in out and "(failed): Not a video" in out
    assert set(Job.objects.values_list("status", flat=True)) == {"succeeded", "failed"}
