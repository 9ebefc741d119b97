"""The dense family's training losses: teacher-forced negative log-likelihood of the
next row, over whole sequences (many-to-many) or windows (many-to-one)."""

from __future__ import annotations

import numpy as np
import torch

from ..memory import MAX_DECODED
from .training_set import output_width
from .windows import windows_before


def my_share(count: int, group) -> tuple[slice, float]:
    """This process's items of a batch of ``count`` and the weight that makes the
    processes' average the batch mean."""
    if group is None:
        return slice(None), 1.0
    share = group.share(count)
    return share, len(range(count)[share]) * group.size / count


def sequence_loss(model, forward, rows, pick, config, group):
    """Many-to-many: whole slices from row 0, as generation reads them; position t
    predicts row t + 1 from rows 0..t. When the output would be large (a K-way softmax,
    a left-to-right row), only a random subset of positions is decoded and scored."""
    if rows.shape[0] > config.batch_size:
        chosen_rows = pick.choice(rows.shape[0], config.batch_size, replace=False)
        rows = rows[torch.from_numpy(chosen_rows)]
    batch, positions = rows.shape[0], rows.shape[1] - 1
    per_position = batch * model.config.input_size * output_width(model)
    chosen = None
    if per_position * positions > MAX_DECODED:
        count = max(1, MAX_DECODED // per_position)
        chosen = torch.from_numpy(np.sort(pick.choice(positions, count, replace=False)))
        chosen = chosen.to(rows.device)
    share, weight = my_share(batch, group)
    mine = rows[share]
    targets = mine[:, 1:] if chosen is None else mine[:, 1:][:, chosen]
    out = forward(mine[:, :-1], next_rows=targets if model.autoregressive else None,
                  positions=chosen)
    return model.value_model.nll(out, targets).mean() * weight


def window_loss(model, forward, rows, pick, config, group):
    """Many-to-one: random (slice, target row) pairs, each with its window above."""
    n, height, _ = rows.shape
    count = min(4 * config.batch_size, n * (height - 1))
    flat = torch.from_numpy(pick.choice(n * (height - 1), count, replace=False)).to(rows.device)
    share, weight = my_share(count, group)
    flat = flat[share]
    slices, targets = flat // (height - 1), flat % (height - 1) + 1
    truth = rows[slices, targets]
    out = forward(windows_before(rows, slices, targets, model.config.context),
                  next_rows=truth if model.autoregressive else None)
    return model.value_model.nll(out, truth).mean() * weight
