"""The model continuing windows of its own training rows, as a completion would: what the
level calibration (:mod:`.calibration`) fits on and the draw check (:mod:`.draw_check`)
measures, without ever reading the rows to complete."""

from __future__ import annotations

import numpy as np
import torch

from ..drawing import Drawing
from ..sampler import many_to_many

CONTEXT = 16  # true rows a window's draw starts from
DRAWN = 32  # rows drawn after them
MAX_WIDTH = 128  # a window's width at most: the cost stays small on large images
WINDOWS = 8  # random windows of the training rows
SAMPLES = 4  # draws of each


def training_windows(crops, pick: np.random.Generator):
    """``WINDOWS`` random windows of the training rows, each ``SAMPLES`` times, as rows
    ``(WINDOWS * SAMPLES, height, width * C)``, and how many of their rows are read;
    ``(None, 0)`` when the training rows are too short to draw after some."""
    height = min(CONTEXT + DRAWN, *crops.train_heights)
    context = min(CONTEXT, height // 2)
    if height - context < 2:
        return None, 0
    width = min(MAX_WIDTH, *(s.shape[1] for s in crops.slices))
    windows = []
    for index in pick.choice(len(crops.slices), WINDOWS, p=crops.weights):
        image = crops.slices[index]
        top = pick.integers(crops.train_heights[index] - height + 1)
        left = pick.integers(image.shape[1] - width + 1)
        windows.append(image[top:top + height, left:left + width].reshape(height, -1))
    return torch.stack(windows).repeat_interleave(SAMPLES, 0), context


def continue_windows(model, windows: torch.Tensor, context: int, generator) -> torch.Tensor:
    """The rows after the first ``context`` of each window, drawn by ``model``, each
    new row fed back in, as a completion draws them (the sampler's own loop)."""
    sample_row = model.row_sampler(Drawing(model.value_model, True, 1.0, generator))
    rows = []
    with torch.no_grad():
        state = many_to_many(model, windows, context)
        features = next(state)
        for t in range(context, windows.shape[1]):
            row, _ = sample_row(features)
            rows.append(row)
            if t + 1 < windows.shape[1]:
                features = state.send(row)
    return torch.stack(rows, 1)
