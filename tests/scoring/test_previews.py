"""The preview store pages read: sampled frames as small JPEGs, a bounded count, the sample nearest a time."""

import json

import pytest

from scoring.frames import NoFrameDecodedError
from scoring.previews import (
    INDEX_NAME,
    MAX_WIDTH,
    PACK_NAME,
    decode_preview,
    load_previews,
    make_previews,
    preview_size,
    writing_previews,
)
from scoring.reading import timed_frames
from tests import ingest_inputs as inputs
from tests.scoring.conftest import _made


@pytest.fixture(scope="module")
def index_mp4(tmp_path_factory):
    return _made(inputs.index_clip, tmp_path_factory.mktemp("previews") / "index.mp4", seconds=4.0)


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """Joined TS: no trustworthy length in any header, so only thinning can keep the store bounded."""
    return _made(inputs.joined_ts, tmp_path_factory.mktemp("joined"))


def test_the_store_holds_the_frame_nearest_each_sample_time(index_mp4, tmp_path):
    index = make_previews(index_mp4, tmp_path / "store", fps=5, max_frames=100)
    assert len(index) == 20 and index.times_ms[:3] == (0, 200, 400)
    assert (index.width, index.height) == (inputs.INDEX_W, inputs.INDEX_H)  # 320 px: no larger than that
    assert load_previews(tmp_path / "store") == index
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == [PACK_NAME, INDEX_NAME]
    assert index.times_ms[index.nearest(1.31)] == 1401  # samples at 1.2 and 1.4 s: 1.4 is nearer
    picture = decode_preview(index.jpeg_at(1.31))
    assert picture.shape == (inputs.INDEX_H, inputs.INDEX_W, 3)
    assert inputs.frame_number(picture) == round(1.401 * inputs.RATE)  # that very frame, not a neighbour
    assert index.nearest(-5) == 0 and index.nearest(99) == len(index) - 1
    assert (tmp_path / "store" / PACK_NAME).stat().st_size == index.offsets[-1]


@pytest.mark.parametrize("max_frames", [2, 7, 11])
def test_the_store_never_holds_more_than_its_bound(joined, tmp_path, max_frames):
    folder = tmp_path / "store"
    offered = []
    with writing_previews(folder, fps=30, max_frames=max_frames) as writer:
        for timed in timed_frames(joined):
            writer.offer(timed)
            offered.append(timed.t_s)
            writer.handle.flush()
            assert len(writer.times_ms) <= max_frames  # at every moment, not only at the end
            assert writer.pack.stat().st_size == writer.offsets[-1]  # the pack holds those JPEGs only
    index = load_previews(folder)
    assert 2 <= len(index) <= max_frames
    assert (folder / PACK_NAME).stat().st_size == index.offsets[-1]
    assert all(decode_preview(index.jpeg(i)).shape == (90, 160, 3) for i in range(len(index)))
    # After thinning the samples still spread over the whole 6 s, not just its beginning.
    assert index.times_ms[-1] >= 1000 * offered[-1] / 2, index.times_ms


def test_a_wide_picture_is_scaled_to_the_preview_width():
    assert preview_size(1920, 1080) == (MAX_WIDTH, 180)
    assert preview_size(48, 64) == (48, 64)  # never enlarged


def test_a_failed_pass_leaves_the_previous_store_alone(index_mp4, tmp_path):
    folder = tmp_path / "store"
    before = make_previews(index_mp4, folder, fps=1, max_frames=100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(Exception, match="empty"):
        make_previews(empty, folder, fps=1, max_frames=100)
    assert load_previews(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.mp4", "store"]  # no half-made folder left


def test_nothing_decoded_writes_no_store(tmp_path):
    folder = tmp_path / "store"
    with pytest.raises(NoFrameDecodedError), writing_previews(folder, fps=1, max_frames=10):
        raise NoFrameDecodedError("nothing", codec="h264")
    assert load_previews(folder) is None and not folder.exists()


def test_an_index_of_another_format_is_no_store(tmp_path):
    (tmp_path / INDEX_NAME).write_text(json.dumps({"format": "something/9", "times_ms": [0]}))
    assert load_previews(tmp_path) is None
    (tmp_path / INDEX_NAME).write_text("{not json")
    assert load_previews(tmp_path) is None
