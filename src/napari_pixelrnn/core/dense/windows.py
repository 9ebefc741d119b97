"""Many-to-one inputs: the window of previous rows before each target row."""

from __future__ import annotations

import torch


def windows_before(rows: torch.Tensor, slices: torch.Tensor, targets: torch.Tensor,
                   context: int) -> torch.Tensor:
    """The ``context`` rows above each (slice, target row) pair, ``(M, context, D)``.

    ``rows`` is ``(N, H, D)``; ``slices`` and ``targets`` are ``(M,)`` indices with
    targets >= 1. Windows are zero-padded at the top where fewer rows exist; only rows
    above a target are ever included.
    """
    padded = torch.nn.functional.pad(rows, (0, 0, context, 0))
    # original row r sits at padded index r + context, so the window t - context .. t - 1
    # is padded t .. t + context - 1
    index = targets[:, None] + torch.arange(context, device=rows.device)[None, :]
    return padded[slices[:, None], index]
