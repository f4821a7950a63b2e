"""Probing uploaded files in-process: facts, poster and strip of a video; a clear reason for each bad file."""

import hashlib
from pathlib import Path

import pytest

from scoring.previews import load_previews
from tests.synthetic import write_not_a_video, write_truncated_video, write_video
from webapp.models import Job, Video
from workers.jobs import InputError, run_job
from workers.probing import probe_video_work, recognised_container, unreadable_reason

pytestmark = pytest.mark.django_db


def no_report(*args, **kwargs):
    return None


def write_undecodable_video(path: Path) -> None:
    """An MJPG .avi whose every JPEG frame is wiped: the container opens, no frame decodes."""
    write_video(path, [("field", 1.0)], fps=10, codec="MJPG")
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    for start in starts:
        data[start : start + 300] = bytes(300)
    path.write_bytes(bytes(data))


def video_from(owner, tmp_path: Path, name: str, make) -> tuple[Video, Job]:
    source = tmp_path / name
    make(source)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    video = Video.create_from_file(owner, source, name, digest)
    job = video.start_probe(enqueue=False)
    return video, job


def test_a_good_video_becomes_ready_with_its_facts_poster_and_strip(owner, tmp_path):
    video, job = video_from(
        owner, tmp_path, "match.mp4", lambda p: write_video(p, [("field", 2.0), ("studio", 1.0)], fps=10)
    )
    result = probe_video_work(job, no_report)
    video.refresh_from_db()
    assert video.status == "ready" and video.error == ""
    assert video.frame_count == 30 and video.fps == pytest.approx(10, rel=0.01)
    assert video.duration_s == pytest.approx(3.0, abs=0.11)
    assert (video.width, video.height) == (96, 64) and video.codec == "mpeg4"
    assert (video.directory / "poster.jpg").stat().st_size > 0
    assert (video.directory / "strip.jpg").stat().st_size > 0
    assert result["video_id"] == video.pk and result["frame_count"] == 30


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.mp4", lambda p: p.write_bytes(b""), "The file is empty"),
        ("list.mp4", write_not_a_video, "Not a video"),
        ("cut.mp4", write_truncated_video, "truncated or damaged"),
        ("broken.avi", write_undecodable_video, "No frame of this AVI file could be decoded"),
    ],
)
@pytest.mark.django_db(transaction=True)  # run_job closes stale connections, as a worker does
def test_a_bad_file_ends_failed_with_its_reason(owner, tmp_path, name, make, reason):
    video, job = video_from(owner, tmp_path, name, make)
    with pytest.raises(InputError, match=reason):
        probe_video_work(job, no_report)

    run_job(job.pk, probe_video_work)
    job.refresh_from_db()
    video.refresh_from_db()
    assert job.status == "failed" and reason in job.error
    assert video.status == "failed" and reason in video.error
    assert str(tmp_path) not in video.error and str(video.directory) not in video.error


def test_a_deleted_video_fails_the_job_clearly(owner, tmp_path):
    video, job = video_from(owner, tmp_path, "gone.mp4", lambda p: write_video(p, [("field", 1.0)]))
    video.delete()
    job.refresh_from_db()
    job.params = {"video_id": 123456}
    with pytest.raises(InputError, match="deleted"):
        probe_video_work(job, no_report)


def test_containers_are_recognised_by_their_first_bytes(tmp_path):
    mp4 = tmp_path / "a.bin"
    write_video(mp4.with_suffix(".mp4"), [("field", 0.5)])
    assert recognised_container(mp4.with_suffix(".mp4")) == "MP4/QuickTime"
    text = tmp_path / "b.mp4"
    write_not_a_video(text)
    assert recognised_container(text) is None
    assert "missing" in unreadable_reason(tmp_path / "nothing.mp4", ValueError(""))


@pytest.mark.django_db(transaction=True)  # run_job closes stale connections, as a worker does
def test_audio_only_and_over_the_limit_files_fail_with_what_they_are(owner, tmp_path, settings):
    from tests.ingest_inputs import coloured_part
    from tests.scoring.conftest import _made
    from tests.synthetic import _ffmpeg

    def cover_m4a(path):
        _made(_ffmpeg, "-f", "lavfi", "-i", "sine=d=1", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.04",
              "-map", "0", "-map", "1", "-c:a", "aac", "-c:v", "mjpeg", "-disposition:v:0", "attached_pic",
              str(path))  # fmt: skip

    video, job = video_from(owner, tmp_path, "song.m4a", cover_m4a)
    with pytest.raises(InputError, match="Audio only: no video stream"):
        probe_video_work(job, no_report)
    settings.OFFSIDE_MAX_FRAME_PIXELS = 100 * 50
    video, job = video_from(owner, tmp_path, "big.ts", lambda p: _made(coloured_part, p, "green", 1.0))
    with pytest.raises(InputError, match="over the limit of 5,000 pixels per frame"):
        probe_video_work(job, no_report)
    run_job(job.pk, probe_video_work)  # the job seam fails the video with the job
    video.refresh_from_db()
    assert video.status == "failed" and "OFFSIDE_MAX_FRAME_PIXELS" in video.error


def test_a_joined_interlaced_recording_is_ready_with_its_stream_facts(owner, tmp_path, client):
    from tests.ingest_inputs import interlaced_576i
    from tests.scoring.conftest import _made

    def recording(path):
        made = _made(interlaced_576i, tmp_path)
        path.write_bytes(made.read_bytes() + made.read_bytes())  # two recordings joined with cat

    video, job = video_from(owner, tmp_path, "rec.ts", recording)
    probe_video_work(job, no_report)
    video.refresh_from_db()
    assert video.status == "ready" and video.duration_s == pytest.approx(8.0, abs=0.1)
    assert video.interlaced and video.discontinuities == 1 and video.sample_aspect_ratio == "16:15"
    assert (video.width, video.height) == (768, 576) and video.start_timecode == "00:00:00:00"
    client.force_login(owner)
    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert "00:00:00:00" in page and "interlaced (deinterlaced with bwdif)" in page and "1 restart" in page


def test_a_file_that_ends_early_is_ready_with_a_warning_on_the_page_and_in_the_api(owner, tmp_path, client):
    from tests.ingest_inputs import cut_faststart
    from tests.scoring.conftest import _made
    from tests.webapp.test_api import token_client

    video, job = video_from(owner, tmp_path, "cut.mp4", lambda p: _made(cut_faststart, p))
    result = probe_video_work(job, no_report)
    video.refresh_from_db()
    assert video.status == "ready" and 2.5 < video.duration_s < 6.0  # usable: the decoded part
    expected = f"file ends early: header says 8.0 s, decoded {video.duration_s:.1f} s"
    assert video.probe_warning.startswith(expected) and result["warning"] == video.probe_warning
    client.force_login(owner)
    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert 'id="video-warning"' in page and expected in page
    listed = client.get("/videos/").content.decode()  # the library row shows it too
    assert "data-probe-warning" in listed and "file ends early" in listed
    assert token_client(owner).get(f"/api/videos/{video.pk}").json()["probe_warning"].startswith(expected)
    assert load_previews(video.previews_directory).times_ms[-1] <= video.duration_s * 1000


def test_a_sound_file_has_no_warning_and_its_previews(owner, tmp_path):
    video, job = video_from(owner, tmp_path, "good.mp4", lambda p: write_video(p, [("field", 2.0)], fps=10))
    probe_video_work(job, no_report)
    video.refresh_from_db()
    assert video.probe_warning == ""
    index = load_previews(video.previews_directory)
    assert len(index) == 10 and (index.width, index.height) == (96, 64)  # 2 s at 5 fps, never enlarged


def test_the_reason_names_the_codec_the_error_carries(tmp_path):
    from scoring.frames import NoFrameDecodedError

    path = tmp_path / "clip.mp4"
    write_video(path, [("field", 0.5)])
    error = NoFrameDecodedError("nothing in here", codec="av1")  # the message need not name it
    assert "the av1 stream is damaged" in unreadable_reason(path, error)
    assert "the stream is damaged" in unreadable_reason(path, NoFrameDecodedError("nothing", codec=None))
