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

    def sample(self, features: torch.Tensor, drawing, centre=None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate a row left to right: ``features`` (M, D, F); ``drawing`` (a
        :class:`.values.Drawing`) turns parameters into values; ``centre(j, row)``, if
        given, returns what value j's distribution is centred on (see
        :meth:`~.values.Drawing.row`), from the row (M, D) drawn up to j - 1.
        Returns the row (M, D) and the network's parameters (M, D, P) for each value
        (without the centring, which the caller adds as teacher forcing does).

        Value j costs one small matrix product per layer, each a few microseconds of
        dispatch: each layer's inputs are cached as they are made, one ``(F, M)`` block
        per position, a dilation's positions grouped by phase (j mod d), so that the
        positions j - 2d, j - d, j a layer reads are one contiguous ``(3F, M)`` block the
        product reads in place (a strided window, copied, cost 2-3x as much per layer).
        """
        m, width, _ = features.shape
        draw = drawing.row(m, width, features)
        pad = KERNEL - 1
        before = features.new_zeros(pad + 1 + width, m)  # value j - 1 at pad + j
        row = before[pad + 1:].T  # (M, D): the values drawn so far
        given = (features + self.read.bias).permute(1, 2, 0).contiguous().unbind(0)
        w_read = self.read.weight[:, 0, :]  # (F, K): reads one channel
        blocks = []
        for block, d in zip(self.blocks, DILATIONS):
            # (F, K * F): tap k (oldest first) of every input feature, as _stack's weight
            weight = block.weight.permute(0, 2, 1).reshape(FEATURES, KERNEL * FEATURES)
            phases = features.new_zeros(d, (pad - (-width // d)) * FEATURES, m).unbind(0)
            blocks.append((weight, block.bias[:, None], d, phases))
        w_out, b_out = self.out.weight[:, :, 0], self.out.bias[:, None]
        params = []
        for j in range(width):
            z = torch.addmm(given[j], w_read, before[j:j + KERNEL])
            for weight, bias, d, phases in blocks:
                phase, at = phases[j % d], (pad + j // d) * FEATURES  # position j's rows
                torch.clamp_min(z, 0, out=phase[at:at + FEATURES])  # relu, cached
                z = torch.addmm(z, weight, phase[at - pad * FEATURES:at + FEATURES]).add_(bias)
            p = torch.addmm(b_out, w_out, torch.relu(z)).T
            before[pad + 1 + j] = draw(j, p) if centre is None else draw(j, p, centre(j, row))
            params.append(p)
        return row.contiguous(), torch.stack(params, 1)
