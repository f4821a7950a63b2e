"""Files follow their rows: one layout under MEDIA_ROOT, one atomic writer, deletion with the row."""

import threading

import pytest

from scoring.files import replacing, replacing_directory, write_atomic
from tests.webapp.model_helpers import ready_model
from tests.webapp.videos_helpers import make_row
from webapp.media_layout import media_path, render_file
from webapp.models import Category, ScoringRun
from webapp.orphans import find_orphans

pytestmark = pytest.mark.django_db


def test_deleting_a_category_deletes_its_versions_weights(owner, django_capture_on_commit_callbacks):
    category = Category.objects.create(owner=owner, name="soccer")
    first, second = ready_model(category), ready_model(category)
    assert (first.directory / "weights.safetensors").is_file() and second.directory.is_dir()
    folder = first.directory.parent

    with django_capture_on_commit_callbacks(execute=True):
        category.delete()

    assert not folder.exists()
    assert find_orphans(min_age_s=0) == []


def test_a_rolled_back_deletion_keeps_the_files(owner, django_capture_on_commit_callbacks):
    model = ready_model(Category.objects.create(owner=owner, name="soccer"))
    with django_capture_on_commit_callbacks(execute=False):
        model.delete()  # the test's transaction never commits: the row comes back, so must its files
    assert (model.directory / "weights.safetensors").is_file()


def test_deleting_a_video_deletes_its_runs_with_their_renders(owner, django_capture_on_commit_callbacks):
    video = make_row(owner, "match")
    video.directory.mkdir(parents=True)
    (video.directory / "original.mp4").write_bytes(b"video")
    runs = [ScoringRun.objects.create(video=video, owner=owner) for _ in range(2)]
    for run in runs:
        write_atomic(run.directory / "scores.npz", b"scores")
        write_atomic(media_path(render_file(run.pk, 7)), b"render")
    folders = [video.directory] + [run.directory for run in runs]

    with django_capture_on_commit_callbacks(execute=True):
        video.delete()

    assert not any(folder.exists() for folder in folders)
    assert find_orphans(min_age_s=0) == []


def test_the_orphan_sweep_finds_a_run_folder_without_its_row_and_keeps_live_ones(owner):
    video = make_row(owner, "match")
    live = ScoringRun.objects.create(video=video, owner=owner)
    write_atomic(live.directory / "scores.npz", b"scores")
    stray = media_path("runs/999999")
    write_atomic(stray / "scores.npz", b"left behind")

    assert [orphan.path for orphan in find_orphans(min_age_s=0)] == [stray]


def test_concurrent_writers_of_one_file_use_their_own_temporary_names(tmp_path):
    target = tmp_path / "cache" / "frame.png"
    with replacing(target) as first, replacing(target) as second:
        assert first != second and first.parent == second.parent == target.parent
        first.write_bytes(b"first")
        second.write_bytes(b"second")
    assert target.read_bytes() == b"first"  # the last rename wins; neither is ever half written
    assert [p.name for p in target.parent.iterdir()] == ["frame.png"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = write_atomic(tmp_path / "scores.npz", b"old")
    with pytest.raises(RuntimeError), replacing(target, suffix=".npz") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["scores.npz"]


def test_a_failed_folder_write_keeps_the_old_folder(tmp_path):
    folder = tmp_path / "v1"
    with replacing_directory(folder) as tmp:
        (tmp / "weights.safetensors").write_bytes(b"v1 weights")
    with pytest.raises(RuntimeError), replacing_directory(folder) as tmp:
        (tmp / "weights.safetensors").write_bytes(b"half")
        raise RuntimeError("killed")
    assert (folder / "weights.safetensors").read_bytes() == b"v1 weights"
    assert [p.name for p in tmp_path.iterdir()] == ["v1"]


def test_threads_replacing_one_file_never_collide(tmp_path):
    target = tmp_path / "model.json"
    errors = []

    def write(n: int) -> None:
        try:
            for _ in range(20):
                write_atomic(target, f"writer {n}".encode())
        except OSError as exc:  # a shared temporary name shows up as a missing file on rename
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and target.read_bytes().startswith(b"writer ")
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
