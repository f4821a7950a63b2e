"""Ready-made library rows for webapp tests: a probed synthetic video owned by a user."""

import hashlib
from pathlib import Path

from tests.synthetic import write_video
from webapp.models import Video
from workers.probing import probe_video_work


def make_ready_video(owner, folder: Path, name: str = "match.mp4", scenes=None, fps: float = 10) -> Video:
    source = folder / name
    write_video(source, scenes or [("field", 2.0), ("studio", 1.0)], fps=fps)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    video = Video.create_from_file(owner, source, name, digest)
    job = video.start_probe(enqueue=False)
    probe_video_work(job, lambda *args, **kwargs: None)
    video.refresh_from_db()
    return video


def refuse_to_decode(monkeypatch) -> None:
    """Any decoding (PyAV or OpenCV) fails the test: pages read their pictures from the preview store only."""
    import av
    import cv2

    def refuse(*args, **kwargs):
        raise AssertionError("a page image request opened the video")

    monkeypatch.setattr(av, "open", refuse)
    monkeypatch.setattr(cv2, "VideoCapture", refuse)


def make_row(owner, title: str, **fields) -> Video:
    """A library row without a file, for list and pagination tests."""
    defaults = {"sha256": hashlib.sha256(title.encode()).hexdigest(), "size_bytes": 1000, "status": "ready"}
    return Video.objects.create(
        owner=owner, title=title, original_name=f"{title}.mp4", **{**defaults, **fields}
    )
