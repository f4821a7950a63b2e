"""Leave-one-match-out protocol: clips, folds and broadcasts composed from them (seeded).

A fold holds one soccer match out: its model trains on the other matches, and it is tested on broadcasts
made of the held-out match, ads, American football and other sports. No clip is both a training clip and a
test clip of the same fold (``Fold.check``). Broadcasts are composed from frames decoded once per clip by
``scoring.frames`` at the broadcast rate, so nothing is re-encoded (the comskip peer renders its own copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scoring.frames import SamplingSpec, VideoDecodeError, extract_frames
from scoring.pipeline import ClipFrames

VIDEO_SUFFIXES = {".mp4", ".avi", ".gif", ".mkv", ".webm", ".mpg"}
MATCH_FOLDERS = ("soccer", "soccer_more")  # one clip = one match (see the MANIFEST)
CONFOUNDER_FOLDERS = ("american_football", "other_sports")
BROADCAST_FPS = 25.0
# seconds per piece: (shortest, longest); a clip shorter than the shortest is used whole
SOCCER_PIECE_S, CONFOUNDER_PIECE_S, AD_PIECE_S = (6.0, 12.0), (4.0, 8.0), (3.0, 8.0)
AD_BREAKS, ADS_PER_BREAK = 3, (2, 3)
# The soccer pieces of one broadcast come from disjoint ranges of the held-out match, at least this far
# apart in the source, so no frame of the match is shown twice and a method that compares a video with
# itself (scoring.selfref) cannot find a copy of a frame elsewhere in the broadcast. A short match gives
# fewer pieces (none under SOCCER_MIN_PIECE_S unless the whole match is shorter) and shorter ones.
SOCCER_MIN_PIECE_S, SOCCER_SOURCE_GAP_S = 3.0, 0.5


def video_files(folder: Path) -> list[Path]:
    """Videos of one folder, sorted by name (an absent folder has none)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def clip_name(path: Path) -> str:
    """ "folder/stem": how tables and ground truth name a clip."""
    return f"{path.parent.name}/{path.stem}"


class ClipCache:
    """Frames of each clip at one sampling spec, decoded once by ``scoring.frames`` and kept as .npz."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.failed: dict[str, str] = {}  # clip name -> decoding error

    def load(self, path: Path, spec: SamplingSpec) -> ClipFrames | None:
        """The clip's frames, or None (and the reason in ``failed``) when it does not decode."""
        cached = self.folder / f"{path.parent.name}__{path.stem}__{spec.slug}.npz"
        if not cached.exists():
            try:
                fs = extract_frames(path, spec)
            except (VideoDecodeError, ValueError, OSError) as exc:
                self.failed[clip_name(path)] = str(exc).splitlines()[0]
                return None
            np.savez(cached, frames=fs.frames, timestamps_s=fs.timestamps_s)
        data = np.load(cached)
        return ClipFrames(data["frames"], data["timestamps_s"], clip_name(path))


@dataclass(frozen=True)
class Fold:
    """One held-out match: train on ``train``, test on broadcasts of ``test_soccer`` and the others."""

    held_out: str
    train: tuple[str, ...]
    test_soccer: tuple[str, ...]
    test_other: tuple[str, ...]  # ads and confounders
    negatives: tuple[str, ...] = ()

    def check(self) -> None:
        """Raise when a clip would be both trained on (or a negative) and tested in this fold."""
        shared = (set(self.train) | set(self.negatives)) & (set(self.test_soccer) | set(self.test_other))
        if shared:
            raise ValueError(f"fold {self.held_out}: {sorted(shared)} both trained on and tested")


def make_folds(matches: list[str], others: list[str], negatives: tuple[str, ...] = ()) -> list[Fold]:
    """Leave one match out: one fold per match, its test clips all the non-soccer clips but the negatives."""
    test_other = tuple(c for c in others if c not in negatives)
    folds = [Fold(m, tuple(x for x in matches if x != m), (m,), test_other, negatives) for m in matches]
    for fold in folds:
        fold.check()
    return folds


@dataclass(frozen=True)
class Piece:
    """A time range [start_s, end_s) of one clip placed in a broadcast; ``label`` as in broadcast_dev.json."""

    source: str
    label: str  # "soccer", "ad" or "confounder"
    first: int  # frame indices into the clip's frames at the broadcast rate
    stop: int


@dataclass
class Broadcast:
    """Frames (N, H, W, 3) at BROADCAST_FPS, their times (N,), the source of each frame (N,) and the
    ground truth in broadcast_dev.json's shape."""

    name: str
    frames: np.ndarray
    timestamps_s: np.ndarray
    frame_source: np.ndarray
    truth: dict
    pieces: list[Piece] = field(default_factory=list)


def _piece(clip: ClipFrames, label: str, span_s: tuple[float, float], rng: np.random.Generator) -> Piece:
    n = len(clip.frames)
    want = int(round(rng.uniform(*span_s) * BROADCAST_FPS))
    length = min(n, want)
    first = int(rng.integers(0, n - length + 1))
    return Piece(clip.source, label, first, first + length)


def compose(
    name: str, soccer: list[ClipFrames], ads: list[ClipFrames], confounders: list[ClipFrames], seed: int
) -> Broadcast:
    """A broadcast: every confounder clip once and ``AD_BREAKS`` ad breaks, in a seeded order, with one or
    two soccer pieces of the held-out match(es) before each of them and at the end; the soccer pieces never
    share a frame of their match (``_disjoint_soccer``), so a short match gives fewer, shorter pieces and
    some events follow each other directly."""
    rng = np.random.default_rng(seed)
    events: list[list[Piece]] = [[_piece(c, "confounder", CONFOUNDER_PIECE_S, rng)] for c in confounders]
    for _ in range(AD_BREAKS):
        chosen = rng.choice(len(ads), size=int(rng.integers(*ADS_PER_BREAK, endpoint=True)), replace=False)
        events.append([_piece(ads[i], "ad", AD_PIECE_S, rng) for i in chosen])
    order = rng.permutation(len(events))
    # the soccer slots: one or two pieces before each event and at the end, each naming its match
    slots = [[int(rng.integers(len(soccer))) for _ in range(int(rng.integers(1, 3)))] for _ in [*order, None]]
    placed = _disjoint_soccer(soccer, slots, rng)
    pieces: list[Piece] = []
    for slot, k in enumerate([*order, None]):
        pieces.extend(placed.get(slot, []))
        if k is not None:
            pieces.extend(events[k])
    return assemble(name, pieces, {c.source: c for c in [*soccer, *ads, *confounders]})


def _disjoint_soccer(
    soccer: list[ClipFrames], slots: list[list[int]], rng: np.random.Generator
) -> dict[int, list[Piece]]:
    """Slot index -> its soccer pieces, cut from non-overlapping source ranges of each match (at least
    SOCCER_SOURCE_GAP_S apart): the pieces a short match cannot give SOCCER_MIN_PIECE_S each are dropped at
    random, the others shrink to share the match, and which slot shows which range is shuffled."""
    placed: dict[int, list[Piece]] = {}
    min_len, gap = round(SOCCER_MIN_PIECE_S * BROADCAST_FPS), round(SOCCER_SOURCE_GAP_S * BROADCAST_FPS)
    for m, clip in enumerate(soccer):
        wanted = [slot for slot, matches in enumerate(slots) for x in matches if x == m]
        n = len(clip.frames)
        if not wanted or n == 0:
            continue
        fits = max(1, (n + gap) // (min_len + gap))
        if len(wanted) > fits:
            wanted = [wanted[i] for i in np.sort(rng.choice(len(wanted), size=fits, replace=False))]
        lengths = np.round(rng.uniform(*SOCCER_PIECE_S, size=len(wanted)) * BROADCAST_FPS).astype(np.int64)
        budget = n - gap * (len(wanted) - 1)  # frames the pieces may use between them
        if lengths.sum() > budget:  # shrink what exceeds the minimum, proportionally
            floor = min(min_len, budget // len(wanted))
            extra = (lengths - floor) * (budget - floor * len(wanted)) / max(int((lengths - floor).sum()), 1)
            lengths = floor + np.floor(extra).astype(np.int64)
        # the spare frames fall at random before, between and after the ranges (in source order)
        spare = budget - int(lengths.sum())
        offsets = np.sort(rng.integers(0, spare + 1, size=len(wanted)))
        starts = offsets + np.concatenate([[0], np.cumsum(lengths[:-1] + gap)])
        for slot, rank in zip(wanted, rng.permutation(len(wanted)), strict=True):
            first, stop = int(starts[rank]), int(starts[rank] + lengths[rank])
            placed.setdefault(slot, []).append(Piece(clip.source, "soccer", first, stop))
    return placed


def assemble(name: str, pieces: list[Piece], clips: dict[str, ClipFrames]) -> Broadcast:
    """Concatenate the pieces' frames; times are a regular BROADCAST_FPS grid from 0."""
    frames = np.concatenate([clips[p.source].frames[p.first : p.stop] for p in pieces])
    sources = np.concatenate([np.full(p.stop - p.first, p.source, dtype=object) for p in pieces])
    times = np.arange(len(frames)) / BROADCAST_FPS
    segments, start = [], 0
    for p in pieces:
        stop = start + p.stop - p.first
        segments.append(
            {
                "start_s": start / BROADCAST_FPS,
                "end_s": stop / BROADCAST_FPS,
                "label": p.label,
                "source": p.source,
            }
        )
        start = stop
    truth = {"fps": BROADCAST_FPS, "segments": segments}
    return Broadcast(name, frames, times, sources, truth, pieces)


def dev_broadcast(data: Path, spec: SamplingSpec, cache: ClipCache) -> Broadcast | None:
    """broadcast_dev.mp4 with its ground truth, each frame's source named from it."""
    clip = cache.load(data / "broadcast_dev.mp4", spec)
    if clip is None:
        return None
    import json

    truth = json.loads((data / "broadcast_dev.json").read_text())
    sources = np.full(len(clip.frames), "", dtype=object)
    for seg in truth["segments"]:
        inside = (clip.timestamps_s >= seg["start_s"]) & (clip.timestamps_s < seg["end_s"])
        sources[inside] = "dev:" + Path(seg["source_path"]).with_suffix("").as_posix()
    return Broadcast("broadcast_dev", clip.frames, clip.timestamps_s, sources, truth)
