"""The sampling loss: how well a model predicts and regenerates the masked rows.

The lab note reports "loss 0.1160" without units; every number here names its unit.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .data import check_image, check_keep_rows, image_height, to_rows
from .dense.model import GenModel
from .dense.windows import windows_before
from .errors import PixelRNNError
from .memory import MAX_DECODED
from .sampler import any_width, check_model, complete

# The free-running loss may exceed the teacher-forced one (errors compound), but not by
# this much: beyond it, the model leans on the true rows in a way generation cannot.
DRIFT_FACTOR = 2.0
DRIFT_MARGIN_BITS = 0.1


def teacher_forced_nll(model: GenModel, rows: torch.Tensor, keep: int, *,
                       above: torch.Tensor | None = None, on_256: bool = False) -> torch.Tensor:
    """Per-value NLL (nats) of rows ``keep..H-1`` of ``rows`` ``(N, H, D)``, each predicted
    from the rows above it in ``above`` (default: the true rows, teacher forcing; the
    model's own completion gives the free-running loss). ``on_256``: over the 8-bit
    intensities (comparable across value models) instead of the model's own alphabet."""
    truth = model.to_steps(rows)
    given = truth if above is None else model.to_steps(above)
    keep *= model.steps_per_row()
    n, length, width = truth.shape
    c = model.config
    values = model.value_model
    score = values.nll_256 if on_256 else values.nll
    if c.mode == "many-to-many":
        h = model.run(given[:, :-1])[0][:, keep - 1:]  # position t predicts step t + 1
    # Decode a bounded number of positions at a time: a K-way softmax over every masked
    # value of a large image would not fit in memory at once.
    per_position = n * width * max(model.features, values.params) * (1 if c.mode ==
                                                                   "many-to-many" else 2)
    chunk = max(1, MAX_DECODED // per_position)
    parts = []
    for start in range(keep, length, chunk):
        stop = min(start + chunk, length)
        targets = truth[:, start:stop]
        teacher = targets if model.autoregressive else None  # values to the left in the row
        if c.mode == "many-to-many":
            out = model.head(h[:, start - keep:stop - keep], teacher)
        else:
            slices = torch.arange(n, device=rows.device).repeat_interleave(stop - start)
            windows = windows_before(given, slices,
                                     torch.arange(start, stop, device=rows.device).repeat(n),
                                     c.context)
            out = model(windows, next_rows=None if teacher is None else teacher.reshape(-1, width))
            out = out.reshape(n, stop - start, *out.shape[1:])
        parts.append(score(out, targets))
    return torch.cat(parts, dim=1)


def evaluate(model: GenModel, image, keep_rows: int, *,
             completed: np.ndarray | None = None) -> dict[str, float]:
    """Score the model on rows ``keep_rows..H-1`` of ``image``.

    ``completed``: the deterministic ``complete(model, image, keep_rows)`` if the caller
    already has it, so it is not generated twice (a drawn completion would be scored
    instead, which is not the sampling loss).

    Returns
    -------
    dict
        Likelihoods, mean negative log-likelihood per masked value, each in nats and bits:

        - ``teacher_forced_*``: each masked row given the *true* rows above;
        - ``free_running_*``: each masked row given the model's *own* completion above
          (the drift check: far above teacher-forced, see :func:`drift_warning`);
        - ``*_per_dim`` over the model's own alphabet (``alphabet`` values: 2 for binary,
          256 discretized logistic bins for continuous, K for levels);
        - ``*_bits_per_dim_256`` over the 256 8-bit intensities ``round(255 x)`` of the
          normalized image, each level's probability spread evenly over the intensities
          in it: comparable across value models.

        And the completion itself, against the image the model learns (binarized, for a
        binary model): ``free_running_mse`` (on intensities normalized to [0, 1]),
        ``free_running_psnr_db`` (peak 1) and, for binary models,
        ``free_running_pixel_accuracy_pct``; for binary models also against the original
        intensities, which the two values a binarized completion comes back in cannot
        match exactly: ``free_running_mse_vs_original``,
        ``free_running_psnr_db_vs_original``. ``masked_rows`` and ``masked_values`` say
        how much was scored.
    """
    check_model(model)
    spec = model.data
    image, _ = check_image(image, model=spec)
    keep = check_keep_rows(keep_rows, image_height(image, spec.rgb))
    device = next(model.parameters()).device
    truth = torch.from_numpy(to_rows(image, spec, any_width=any_width(model))).to(device)
    if completed is None:
        completed = complete(model, image, keep)
    elif completed.shape != image.shape:
        raise PixelRNNError(f"completed has shape {completed.shape}; the image has {image.shape}.")
    generated = torch.from_numpy(to_rows(completed, spec, any_width=any_width(model))).to(device)
    result: dict[str, float] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for name, above in (("teacher_forced", None), ("free_running", generated)):
                nats = float(teacher_forced_nll(model, truth, keep, above=above).mean())
                nats_256 = float(teacher_forced_nll(model, truth, keep, above=above,
                                                    on_256=True).mean())
                result[f"{name}_nats_per_dim"] = nats
                result[f"{name}_bits_per_dim"] = nats / math.log(2)
                result[f"{name}_bits_per_dim_256"] = nats_256 / math.log(2)
    finally:
        model.train(was_training)
    errors = (generated[:, keep:] - truth[:, keep:]).double()
    mse = float((errors ** 2).mean())
    result.update({
        "free_running_mse": mse,
        "free_running_psnr_db": _psnr_db(mse),
        "alphabet": {"binary": 2, "continuous": 256, "mixture": 256}.get(model.config.values,
                                                         model.config.levels),
        "masked_rows": int(truth.shape[1] - keep),
        "masked_values": int(errors.numel()),
    })
    if spec.binary:
        result["free_running_pixel_accuracy_pct"] = 100 * float((errors == 0).double().mean())
        # a binarized completion against the original: what the user sees beside it
        original, ours = (to_rows(a, spec, any_width=any_width(model), binarize=False)
                          for a in (image, completed))
        mse = float(((ours[:, keep:] - original[:, keep:]).astype(np.float64) ** 2).mean())
        result["free_running_mse_vs_original"] = mse
        result["free_running_psnr_db_vs_original"] = _psnr_db(mse)
    return result


def _psnr_db(mse: float) -> float:
    """PSNR of intensities in [0, 1] (peak 1) from their mean squared error."""
    return float("inf") if mse == 0 else 10 * math.log10(1 / mse)


def drift_warning(scores: dict[str, float]) -> str | None:
    """A warning when the teacher-forced loss is far below the free-running loss: the
    model predicts well from the true rows but not from its own (it learned to copy
    rather than generate, or rows leaked into training); None when they agree."""
    teacher, free = scores["teacher_forced_bits_per_dim"], scores["free_running_bits_per_dim"]
    if free <= DRIFT_FACTOR * teacher + DRIFT_MARGIN_BITS:
        return None
    return (f"Free-running loss {free:.3f} bits/dim is far above the teacher-forced "
            f"{teacher:.3f} bits/dim: the model predicts the masked rows well from the true "
            "rows above, but not from the rows it generates itself. It may have learned to "
            "copy rather than generate (or future rows leaked into training); trust the "
            "completion less than the teacher-forced loss suggests. (For a noisy texture "
            "the gap is expected: its most probable completion is flat, so judge the draws "
            "and their posterior mean instead.)")


def uniform_warning(scores: dict[str, float]) -> str | None:
    """A warning when a loss is worse than a uniform guess over the model's own values
    (log2 of them: 8 bits/dim for 256 intensities, 1 for binary values): the model is
    confidently wrong about these rows, and storing them as they are would cost less.
    None when both losses are below it."""
    uniform = math.log2(scores["alphabet"])
    worse = [f"{name} {scores[f'{key}_bits_per_dim']:.2f}"
             for name, key in (("teacher-forced", "teacher_forced"),
                               ("free-running", "free_running"))
             if scores[f"{key}_bits_per_dim"] > uniform]
    if not worse:
        return None
    verb = "are" if len(worse) > 1 else "is"
    unit = "bit/dim" if uniform == 1 else "bits/dim"
    return (f"The {' and '.join(worse)} bits/dim {verb} worse than a uniform guess over "
            f"the model's {scores['alphabet']} values ({uniform:g} {unit}): the model is "
            "confidently wrong about these rows; it has not learned what they look like.")
