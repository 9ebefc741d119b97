"""The Row LSTM's training set: random crops of the kept rows, and rows held out to
validate on.

A model trained on whole images of one half-image sees one sequence per slice and learns
it by heart; crops give it many shorter, shifted sequences (rows *and* columns: the Row
LSTM works at any width), optionally mirrored and turned. The last rows of every kept
image are held out: the model never trains on them, and their likelihood, given the rows
above, says when training stops helping the rows below.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..data import DataSpec, to_rows
from ..errors import PixelRNNError

MIN_TRAIN_ROWS = 2  # a crop needs a row to read and a row to predict
MIN_VALIDATION_ROWS = 2


class CropSet:
    """Slices ``(H, W, C)`` in [0, 1], split into training rows (top) and validation rows
    (bottom), with the crop size and what crops may be: mirrored (``flip``, left to
    right) and turned by a multiple of 90 degrees (``rotate``; 180 only where the crop is
    not square). With both, every one of the square's 8 symmetries is equally likely.

    ``validation``: the share of each slice's rows held out (at least
    ``MIN_VALIDATION_ROWS`` where it applies; slices too short to give rows for both keep
    them all for training).
    """

    def __init__(self, images: list[np.ndarray], spec: DataSpec, *, crop: int,
                 validation: float, flip: bool, rotate: bool = False,
                 device: torch.device):
        self.channels = spec.channels
        self.flip, self.rotate = flip, rotate
        self.slices: list[torch.Tensor] = []  # (H, W, C) each
        for image in images:
            rows = torch.from_numpy(to_rows(image, spec, any_width=True))
            width = rows.shape[-1] // spec.channels
            self.slices += [r.reshape(r.shape[0], width, spec.channels).to(device)
                            for r in rows]
        self.held_out = [_held_out_rows(s.shape[0], validation) for s in self.slices]
        train_heights = [s.shape[0] - v for s, v in zip(self.slices, self.held_out)]
        if min(train_heights) < MIN_TRAIN_ROWS:
            raise PixelRNNError("Training needs at least 2 rows per image.")
        self.crop_height = min(crop, *train_heights)
        self.crop_width = min(crop, min(s.shape[1] for s in self.slices))
        # each slice is drawn in proportion to the crop positions it offers
        positions = np.array([(h - self.crop_height + 1) * (s.shape[1] - self.crop_width + 1)
                              for h, s in zip(train_heights, self.slices)], dtype=np.float64)
        self.weights = positions / positions.sum()
        self.train_heights = train_heights
        self.context = crop  # validation rows are scored with up to this many rows above

    @property
    def validates(self) -> bool:
        return any(self.held_out)

    def batch(self, size: int, pick: np.random.Generator) -> torch.Tensor:
        """``size`` random crops as rows ``(size, crop_height, crop_width * C)``."""
        ch, cw = self.crop_height, self.crop_width
        crops = []
        for index in pick.choice(len(self.slices), size, p=self.weights):
            image = self.slices[index]
            top = pick.integers(self.train_heights[index] - ch + 1)
            left = pick.integers(image.shape[1] - cw + 1)
            crop = image[top:top + ch, left:left + cw]
            if self.flip and pick.random() < 0.5:
                crop = crop.flip(1)
            if self.rotate:  # a quarter turn swaps height and width: square crops only
                crop = crop.rot90(int(pick.integers(4)) if ch == cw else 2 * int(pick.integers(2)))
            crops.append(crop.reshape(ch, cw * self.channels))
        return torch.stack(crops)

    def validation_nats(self, model) -> float:
        """Mean NLL (nats per value) of the held-out rows, each given the true rows above
        it (at most ``context`` of them, plus the rows held out before it)."""
        total, count = 0.0, 0
        for image, held in zip(self.slices, self.held_out):
            if not held:
                continue
            height, width, channels = image.shape
            first = max(0, height - held - self.context)
            rows = image[first:].reshape(1, height - first, width * channels)
            out = model(rows[:, :-1], rows[:, 1:])
            nll = model.value_model.nll(out, rows[:, 1:])[:, -held:]
            total += float(nll.sum())
            count += nll.numel()
        return total / count


def _held_out_rows(height: int, share: float) -> int:
    """Rows to hold out of a slice of ``height``: 0 when it is too short to give both."""
    if share <= 0:
        return 0
    rows = max(MIN_VALIDATION_ROWS, math.ceil(share * height))
    return rows if height - rows >= MIN_TRAIN_ROWS + 2 else 0
