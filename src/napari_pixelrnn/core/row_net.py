"""How a row's values come out of the row context: all at once, or left to right.

The decoder turns the RNN state (the rows above) into ``FEATURES`` numbers per value of the
next row. :class:`ValueHead` maps each value's features to its distribution independently.
:class:`CausalRowNet` adds the values to its left: rows are flattened as (pixel, channel),
so "to the left" is raster order, the pixel's left neighbours and then R -> G -> B. It is
a stack of causal dilated 1-D convolutions (PixelCNN-style masking by left padding), so
training reads a whole row in parallel (teacher forcing), and drawing runs the same
weights one value at a time (:mod:`.row_draw`, in numpy).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FEATURES = 16  # decoder features per value when a head follows the decoder
KERNEL = 3
DILATIONS = (1, 2, 4)
START_SPREAD = 1e-2  # see start_near_zero


def start_near_zero(layer: nn.Module) -> None:
    """Start an output layer (``Linear`` or ``Conv1d``) near zero, so that the parameters
    it gives begin at what the value model is centred on: zero biases, small normal
    weights (``START_SPREAD`` for an output fed by ``FEATURES`` inputs, less for more
    inputs, so outputs spread alike). Not zeros: the outputs of a mixture's components
    would get equal gradients and stay equal (measured: the five components of a Row
    LSTM whose output layer started at zero were still equal to the last bit after
    training: one logistic, not a mixture)."""
    fan_in = layer.weight[0].numel()
    with torch.no_grad():
        nn.init.normal_(layer.weight, std=START_SPREAD * (FEATURES / fan_in) ** 0.5)
        layer.bias.zero_()


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
