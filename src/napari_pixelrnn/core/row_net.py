"""How a row's values come out of the row context: all at once, or left to right.

The decoder turns the RNN state (the rows above) into ``FEATURES`` numbers per value of the
next row. :class:`ValueHead` maps each value's features to its distribution independently.
:class:`CausalRowNet` adds the values to its left: rows are flattened as (pixel, channel),
so "to the left" is raster order, the pixel's left neighbours and then R -> G -> B. It is
a stack of causal dilated 1-D convolutions (PixelCNN-style masking by left padding), so
training reads a whole row in parallel (teacher forcing), and sampling runs the same
stack on a short window, one value at a time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURES = 16  # decoder features per value when a head follows the decoder
KERNEL = 3
DILATIONS = (1, 2, 4)


def _causal_taps(x: torch.Tensor, dilation: int) -> torch.Tensor:
    """``(M, L, C)`` -> ``(M, L, KERNEL * C)``: at position j, the inputs at
    j - (KERNEL-1) d, ..., j - d, j (zeros before the row starts), oldest first."""
    length = x.shape[1]
    padded = F.pad(x, (0, 0, (KERNEL - 1) * dilation, 0))
    return torch.cat([padded[:, k * dilation:k * dilation + length] for k in range(KERNEL)],
                     dim=-1)


class ValueHead(nn.Module):
    """Independent values: a shared map from each value's features to its parameters
    (keeps a K-way softmax from needing ``input_size x K`` decoder outputs)."""

    def __init__(self, params: int):
        super().__init__()
        self.out = nn.Linear(FEATURES, params)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(features))


class CausalRowNet(nn.Module):
    """Value j's parameters from its features and the values before it in the row."""

    def __init__(self, params: int):
        super().__init__()
        self.read = nn.Conv1d(1, FEATURES, KERNEL)
        self.blocks = nn.ModuleList(nn.Conv1d(FEATURES, FEATURES, KERNEL, dilation=d)
                                    for d in DILATIONS)
        self.out = nn.Conv1d(FEATURES, params, 1)
        # how many previous values value j can see (shifted input + every conv's reach)
        self.reach = 1 + (KERNEL - 1) * (1 + sum(DILATIONS))

    def _stack(self, features: torch.Tensor, before: torch.Tensor) -> torch.Tensor:
        """``features`` (M, L, F), ``before`` (M, L): value j-1 at position j -> (M, L, P).

        Each causal convolution is one matrix product of the shifted inputs: the same
        weights and result as the Conv1d layers, several times faster on the CPU than a
        small Conv1d's backward pass."""
        taps = _causal_taps(before[..., None], 1)
        z = taps @ self.read.weight.permute(2, 1, 0).reshape(KERNEL, FEATURES) + \
            self.read.bias + features
        for block in self.blocks:
            taps = _causal_taps(torch.relu(z), block.dilation[0])
            weight = block.weight.permute(2, 1, 0).reshape(KERNEL * FEATURES, FEATURES)
            z = z + taps @ weight + block.bias
        return torch.relu(z) @ self.out.weight[:, :, 0].T + self.out.bias

    def forward(self, features: torch.Tensor, row: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: ``features`` (..., D, F) and the true ``row`` (..., D) ->
        parameters (..., D, P), value j reading values < j of ``row`` only."""
        lead, width = row.shape[:-1], row.shape[-1]
        before = F.pad(row.reshape(-1, width), (1, 0))[:, :-1]  # shift right by one value
        out = self._stack(features.reshape(-1, width, FEATURES), before)
        return out.reshape(*lead, width, -1)

    def sample(self, features: torch.Tensor, draw, offset=None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate a row left to right: ``features`` (M, D, F); ``draw(params)`` turns
        ``(M, P)`` parameters into ``(M,)`` values; ``offset(j, row)``, if given, returns
        ``(M, P)`` to add to value j's parameters, from the row drawn up to j - 1 (as the
        caller adds it in teacher forcing).
        Returns the row (M, D) and the parameters (M, D, P) each value was drawn from.

        Each layer's outputs are cached as they are made, so value j costs one small
        matrix product per layer (a convolution call per layer on a window cost ~5x more).
        """
        m, width, _ = features.shape
        pad = KERNEL - 1
        taps = [(self.read.weight[:, 0, :].T, self.read.bias)]  # (K, F): reads 1 channel
        taps += [(b.weight.permute(2, 1, 0).reshape(KERNEL * FEATURES, FEATURES), b.bias)
                 for b in self.blocks]
        w_out, b_out = self.out.weight[:, :, 0].T, self.out.bias
        before = features.new_zeros(m, pad + width + 1)  # value j - 1 at pad + j
        seen = [features.new_zeros(m, pad * d + width, FEATURES) for d in DILATIONS]
        row, params = features.new_zeros(m, width), []
        for j in range(width):
            z = before[:, j:j + KERNEL] @ taps[0][0] + taps[0][1] + features[:, j]
            for (weight, bias), cache, d in zip(taps[1:], seen, DILATIONS):
                cache[:, pad * d + j] = torch.relu(z)  # this layer's input at position j
                window = cache[:, j:pad * d + j + 1:d]  # positions j - pad*d .. j, step d
                z = z + window.reshape(m, -1) @ weight + bias
            p = torch.relu(z) @ w_out + b_out
            if offset is not None:
                p = p + offset(j, row)
            row[:, j] = before[:, pad + j + 1] = draw(p)
            params.append(p)
        return row, torch.stack(params, 1)
