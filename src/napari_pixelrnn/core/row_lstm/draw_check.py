"""How much a trained Row LSTM's draws vary against the image, measured on its own
training rows: a warning before completing, not a score of the completion.

The held-out likelihood does not tell a model whose draws stay like the image from one
whose draws run away: on scikit-image's brick wall (top half kept), two training seeds
coded the unseen rows in 2.97 and 3.06 bits/dim, and the posterior means of their draws
scored 12.0 and 20.9 dB (the first one's draws turned the thin mortar lines into bright
noise). What does tell them apart is how the model continues rows it trained on: it
continues windows of them (see :mod:`.continuations`), and the drawn rows' variation,
row to row and pixel to pixel (mean absolute difference of neighbours), is set against
the true rows'. 1 is right; above 1, noisier or streakier than the image; below,
flatter. On 17 models (docs/benchmarks.md, "Ten images") the pixel-to-pixel ratio on the
training rows ranked the models as that of their completions below the cut did (rank
correlation 0.91); the brick wall's two seeds: 1.67 and 1.12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .continuations import continue_windows, training_windows

# a ratio this far from 1 (either way) is worth a warning: the models whose draws looked
# like the image measured 0.97-1.18 pixel to pixel, the streaky ones 1.6-5.3
WARN = 1.5


@dataclass(frozen=True)
class DrawCheck:
    """The drawn rows' variation over the true rows', ``None`` where the true rows do not
    vary (a ratio to nothing)."""

    row_to_row: float | None
    pixel_to_pixel: float | None


def check_draws(model, crops, seed: int) -> DrawCheck | None:
    """The model's draws of windows of the training rows of ``crops`` (a
    :class:`.crops.CropSet`) against those rows; ``None`` when they are too short."""
    windows, context = training_windows(crops, np.random.default_rng(seed))
    if windows is None:
        return None
    generator = torch.Generator(device=windows.device).manual_seed(seed)
    drawn = continue_windows(model, windows, context, generator)
    channels = model.config.channels
    # from the last true row on: its difference to the first drawn row counts, as in a
    # completion, where the first masked row is compared with the last kept one
    drawn = torch.cat([windows[:, context - 1:context], drawn], 1)
    return DrawCheck(*_ratio(_variation(drawn, channels),
                             _variation(windows[:, context - 1:], channels)))


def _variation(rows: torch.Tensor, channels: int) -> tuple[float, float]:
    """Mean absolute difference of vertical and of horizontal neighbours (same channel)
    of rows ``(N, T, W * C)``."""
    pixels = rows.reshape(*rows.shape[:2], -1, channels)
    return (float((pixels[:, 1:] - pixels[:, :-1]).abs().mean()),
            float((pixels[:, :, 1:] - pixels[:, :, :-1]).abs().mean()))


def _ratio(drawn, true) -> list[float | None]:
    return [d / t if t > 1e-6 else None for d, t in zip(drawn, true)]


def draw_check_text(model) -> str | None:
    """The check in words, for the front ends; None when there is none."""
    check = getattr(model, "draw_check", None)
    if check is None:
        return None
    measured = {name: ratio for name, ratio in (("row to row", check.row_to_row),
                                                ("pixel to pixel", check.pixel_to_pixel))
                if ratio is not None}
    if not measured:
        return None
    parts = " and ".join(f"{ratio:.2f}x as much {name}" for name, ratio in measured.items())
    text = (f"draw check: continuing its own training rows, its draws vary {parts} as "
            "those rows (1 is right)")
    ratios = measured.values()
    if max(ratios) >= WARN:
        text += ("; expect completions noisier or streakier than the image (another "
                 "training seed may draw better)")
    elif min(ratios) <= 1 / WARN:
        text += "; expect completions flatter than the image"
    return text
