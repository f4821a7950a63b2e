"""Second pass: a video's own confidently-in frames join the category's colour reference, and it is re-scored.

The reference frames of a category come from a few matches; an unseen broadcast has its own stadium, kits and
grading. Frames the first pass finds clearly in the category (smoothed normalised score at most
``confident_below``) are the best example of what the category looks like *in this video*; their HSV
histograms are added to the model's colour reference and every frame's colour distance is measured again.
The reconstruction term is unchanged, so the combined score only moves through its colour factor:
``score_2 = score_1 * (colour_2 / colour_1) ** w`` (``scoring.colour.combine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from scoring.colour import colour_distances, hsv_histograms, reference_subset
from scoring.model import ConvVAE
from scoring.scorer import resize_frames


@dataclass(frozen=True)
class SelfReference:
    """When and how much of a video's own footage joins the colour reference."""

    confident_below: float = 0.7  # smoothed normalised score at or under which a frame is confidently in
    min_frames: int = 25  # fewer confident frames than this: no second pass (nothing reliable to add)
    max_frames: int = 256  # at most this many of them, spread evenly over the video


def rescored(
    model: ConvVAE, frames: np.ndarray, scores: np.ndarray, confident: np.ndarray, options: SelfReference
) -> np.ndarray:
    """(N,) scores of ``frames`` (N, H, W, 3) after the second pass; ``scores`` (N,) are the first pass's
    normalised scores under ``model`` and ``confident`` (N,) bool marks the frames to add. Returns
    ``scores`` unchanged when the model has no colour term or too few frames are confident."""
    cfg = model.config
    if cfg.colour_weight <= 0 or int(confident.sum()) < options.min_frames:
        return scores
    histograms = hsv_histograms(resize_frames(frames, cfg.height, cfg.width), cfg.colour_grid)  # (N, D)
    reference = model.colour_reference.cpu()
    own = torch.from_numpy(reference_subset(histograms[confident], options.max_frames))
    before = colour_distances(histograms, reference, cfg.colour_neighbours)
    after = colour_distances(histograms, torch.cat([reference, own]), cfg.colour_neighbours)
    ratio = np.maximum(after, 1e-12) / np.maximum(before, 1e-12)
    return scores * ratio**cfg.colour_weight
