"""Calibrating a trained Row LSTM so that its own continuations keep the image's level.

A Row LSTM centres each value on a guess from its neighbours (see :mod:`.edge_prior`),
so in smooth regions each drawn value carries its neighbours' errors on: while drawing,
errors add up from row to row. A bias far too small for the likelihood to notice then
moves whole regions. Measured on the bundled bricks (seed 0): the one-step predictions
are a tenth of a level too bright in smooth areas (+0.06 to +0.16 on the four slices),
and the drawn rows brightened by about half a level per row, 15 levels over the 32 rows
completed. Their posterior mean beat Navier-Stokes inpainting by 5-10 dB in the first
rows below the cut and lost by 2-3 dB in the last ones.

So after training, the model continues windows of its own training rows (16
true rows read, the next ones drawn), and one offset per channel, which drawing adds to
every value's centre, is fitted by secant steps until the drawn rows' mean intensity is
the true rows'. Only the rows the model trained on are read, never the rows to
complete. The same random numbers serve every trial offset, so the drawn mean changes
smoothly with it. Scores leave the offset out: it is a fraction of a level (-0.52 on
those bricks), yet it would cost 0.24 bits per value there, the predictions being
sharper than a level.

Measured (seed 0, posterior mean of 8 draws, median of 4 sets; docs/benchmarks.md): the
bricks 21.5 -> 22.6 dB (Navier-Stokes 21.9; seeds 1 and 2, whose draws drifted less:
21.9 -> 22.0 and 23.2 -> 23.2), grass 15.5 -> 15.9. Photographs lose: the camera 11.7 ->
10.7, the astronaut 8.9 -> 8.7. Their rows below the cut drift another way than those
above (the camera's draws brighten on its top half and darken below the cut, into the
coat and the tripod), so an offset fitted above does not hold below. Hence off by
default (``calibrate``).
"""

from __future__ import annotations

import numpy as np
import torch

from .continuations import continue_windows, training_windows

PROBE = 0.5 / 255  # the first offset tried: half an 8-bit level, against the drift
LIMIT = 4 / 255  # offsets stay within 4 levels
TRIALS = 4  # offsets tried, 0 included; the one with the smallest drift is kept


def calibrate_drift(model, crops, seed: int) -> None:
    """Fit ``model.drift`` (see the module's docstring) on the training rows of
    ``crops`` (a :class:`.crops.CropSet`); value models that do not centre their values
    on a guess (binary values, levels) keep no offset."""
    model.drift.zero_()
    if not model._centred():
        return
    windows, context = training_windows(crops, np.random.default_rng(seed))
    if windows is None:
        return
    channels = model.config.channels
    truth = windows[:, context:].reshape(-1, channels).mean(0)

    def drift_at(offset: torch.Tensor) -> torch.Tensor:
        model.drift.copy_(offset)
        generator = torch.Generator(device=windows.device).manual_seed(seed)
        drawn = continue_windows(model, windows, context, generator)
        return drawn.reshape(-1, channels).mean(0) - truth

    zero = torch.zeros(channels, device=windows.device)
    tried = [(zero, drift_at(zero))]  # (offset, drift) pairs
    offset = -torch.sign(tried[0][1]) * PROBE
    for _ in range(TRIALS - 1):
        tried.append((offset, drift_at(offset)))
        (x0, d0), (x1, d1) = tried[-2:]
        slope = (d1 - d0) / (x1 - x0)  # per channel; the drift grows with the offset
        step = torch.where(slope > 0, d1 / slope, torch.zeros_like(d1))
        offset = (x1 - step).clamp(-LIMIT, LIMIT)
    offsets, drifts = (torch.stack(t) for t in zip(*tried))
    best = drifts.abs().argmin(0)  # per channel
    model.drift.copy_(offsets.gather(0, best[None])[0])


def offsets_text(model) -> str | None:
    """The fitted offsets in words, for the front ends; None when there are none."""
    drift = getattr(model, "drift", None)
    if drift is None or not drift.any():
        return None
    levels = ", ".join(f"{v:+.2f}" for v in (drift * 255).tolist())
    return (f"level calibration: drawing moves every value's centre by {levels} levels "
            "(per channel), fitted on the training rows")
