"""The sampling loss: how well a model predicts and regenerates the masked rows.

The lab note reports "loss 0.1160" without units; every number here names its unit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy as np
import torch

from .data import check_image, check_keep_rows, image_height, to_rows
from .errors import PixelRNNError
from .model import GenModel
from .sampler import _check_model, complete
from .windows import windows_before


def teacher_forced_nll(model: GenModel, rows: torch.Tensor, keep: int) -> torch.Tensor:
    """Per-value NLL (nats) of rows ``keep..H-1``, each predicted from the true rows above."""
    height = rows.shape[1]
    if model.config.mode == "many-to-many":
        out = model(rows[:, :-1])[:, keep - 1:]
    else:
        n = rows.shape[0]
        targets = torch.arange(keep, height, device=rows.device).repeat(n)
        slices = torch.arange(n, device=rows.device).repeat_interleave(height - keep)
        out = model(windows_before(rows, slices, targets, model.config.context))
        out = out.reshape(n, height - keep, *out.shape[1:])
    return model.value_model.nll(out, rows[:, keep:])


def evaluate(model: GenModel, image, keep_rows: int, *,
             completed: np.ndarray | None = None) -> dict[str, float]:
    """Score the model on rows ``keep_rows..H-1`` of ``image``.

    ``completed``: the deterministic ``complete(model, image, keep_rows)`` if the caller
    already has it, so it is not generated twice (a drawn completion would be scored
    instead, which is not the sampling loss).

    Returns
    -------
    dict
        ``teacher_forced_nats_per_dim`` and ``teacher_forced_bits_per_dim``: mean negative
        log-likelihood of each masked value given the true rows above (binary: Bernoulli;
        continuous: logistic discretized to 256 levels). ``free_running_mse`` (on
        intensities normalized to [0, 1]) and ``free_running_psnr_db`` (peak 1): the
        deterministic completion against the original. ``free_running_pixel_accuracy_pct``
        (binary models): share of masked values the completion gets exactly right.
        ``masked_rows`` and ``masked_values`` say how much was scored.
    """
    _check_model(model)
    spec = model.data
    image, _ = check_image(image, model=spec)
    keep = check_keep_rows(keep_rows, image_height(image, spec.rgb))
    device = next(model.parameters()).device
    truth = torch.from_numpy(to_rows(image, spec)).to(device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            nats = float(teacher_forced_nll(model, truth, keep).mean())
    finally:
        model.train(was_training)
    if completed is None:
        completed = complete(model, image, keep)
    elif completed.shape != image.shape:
        raise PixelRNNError(f"completed has shape {completed.shape}; the image has {image.shape}.")
    generated = torch.from_numpy(to_rows(completed, spec)).to(device)
    errors = (generated[:, keep:] - truth[:, keep:]).double()
    mse = float((errors ** 2).mean())
    result = {
        "teacher_forced_nats_per_dim": nats,
        "teacher_forced_bits_per_dim": nats / math.log(2),
        "free_running_mse": mse,
        "free_running_psnr_db": float("inf") if mse == 0 else 10 * math.log10(1 / mse),
        "masked_rows": int(truth.shape[1] - keep),
        "masked_values": int(errors.numel()),
    }
    if spec.binary:
        result["free_running_pixel_accuracy_pct"] = 100 * float((errors == 0).double().mean())
    return result
