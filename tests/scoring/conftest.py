"""Synthetic videos for the scoring suite, written once per session (they are read-only inputs)."""

from __future__ import annotations

import pytest

from tests import synthetic


def _made(write, *args, **kwargs):
    """Call a writer from tests.synthetic; skip the test when this machine cannot write that format."""
    try:
        return write(*args, **kwargs)
    except synthetic.CodecUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def field_studio_clip(video_dir):
    """3 s at 10 fps, 96x64: 2 s of "field" then 1 s of "studio". Yields (path, ground-truth scenes)."""
    path = video_dir / "two_scenes.mp4"
    truth = _made(synthetic.write_video, path, [("field", 2.0), ("studio", 1.0)], fps=10)
    return path, truth


@pytest.fixture(scope="session")
def corrupt_video(video_dir):
    path = video_dir / "corrupt.avi"
    frames = _made(synthetic.write_corrupt_video, path, frames=30, bad_frame=15)
    return path, frames


@pytest.fixture(scope="session")
def gif_video(video_dir):
    path = video_dir / "clip.gif"
    return path, _made(synthetic.write_gif, path, [("bars", 1.0), ("studio", 1.0)], fps=10)


@pytest.fixture
def make_video(tmp_path):
    """Write a one-off video: make_video("name.ext", scenes, **write_video options) -> path."""

    def make(name, scenes=(("field", 1.0),), **options):
        path = tmp_path / name
        _made(synthetic.write_video, path, list(scenes), **options)
        return path

    return make


@pytest.fixture
def made():
    """The skip-if-unsupported wrapper, for tests that call other writers directly."""
    return _made
