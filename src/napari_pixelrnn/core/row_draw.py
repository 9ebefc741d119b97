"""Drawing a row left to right: the row network (:class:`.row_net.CausalRowNet`) run one
value at a time, in numpy.

Teacher forcing reads a whole row at once, in torch (training needs autograd). Drawing
cannot: value j's parameters depend on the values drawn before it, so a row of D values
is D small steps, each one product per layer of the row network, the value model's draw
and (Row LSTM) the codec guess it is centred on, all on M numbers (one per draw). On so
few numbers an operation costs torch 3-9 us of dispatch and numpy 0.3-1 us (measured,
one core), so the steps run in numpy: the weights are converted once per completion;
each row's features, random numbers and prior columns once per row; the finished row and
its parameters go back to torch once.
"""

from __future__ import annotations

import numpy as np
import torch

from .drawing import number
from .row_net import DILATIONS, FEATURES, KERNEL

__all__ = ["RowDraw"]


def _numpy(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy())


class RowDraw:
    """``draw_row(features, centre=None) -> (row, params)``: rows generated left to right
    by ``row_net``, each value drawn by ``drawing`` (a :class:`.drawing.Drawing`).

    Build one per completion: the weights are read (copied to numpy) here, and they
    change between completions (training)."""

    def __init__(self, row_net, drawing):
        self.drawing = drawing
        self.read_bias = _numpy(row_net.read.bias)
        self.read = _numpy(row_net.read.weight[:, 0, :])  # (F, K): reads one channel
        # (F, K * F): tap k (oldest first) of every input feature, as CausalRowNet._stack's
        self.blocks = [(_numpy(block.weight.permute(0, 2, 1).reshape(FEATURES, KERNEL * FEATURES)),
                        _numpy(block.bias[:, None]), d)
                       for block, d in zip(row_net.blocks, DILATIONS)]
        self.out, self.out_bias = _numpy(row_net.out.weight[:, :, 0]), _numpy(row_net.out.bias[:, None])

    def __call__(self, features: torch.Tensor, centre=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Generate ``M`` rows from their ``features`` ``(M, D, F)``. ``centre(j, row)``, if
        given, returns what value j's distribution is centred on (see
        :meth:`.drawing.Drawing.row`), from the rows ``(M, D)`` (numpy) drawn up to j - 1.
        Returns the rows ``(M, D)`` and the network's parameters ``(M, D, P)`` for each
        value (torch, on ``features``' device), without the centring, which the caller adds
        as teacher forcing does.

        Value j is one small product per layer: each layer's inputs are cached as they are
        made, one ``(F, M)`` block per position, a dilation's positions grouped by phase
        (j mod d), so that the positions j - 2d, j - d, j a layer reads are one contiguous
        ``(3F, M)`` block the product reads in place."""
        m, width, _ = features.shape
        draw = self.drawing.row(m, width, features)
        # value j's features, (F, M) each, with the first layer's bias
        given = np.ascontiguousarray((_numpy(features) + self.read_bias).transpose(1, 2, 0))
        dtype, pad = given.dtype, KERNEL - 1
        before = np.zeros((pad + 1 + width, m), dtype)  # value j - 1 at pad + j
        row = before[pad + 1:].T  # (M, D): the values drawn so far
        blocks = [(weight, bias, d, list(np.zeros((d, (pad - (-width // d)) * FEATURES, m), dtype)))
                  for weight, bias, d in self.blocks]
        params = np.empty((width, len(self.out), m), dtype)  # value j's, (P, M)
        read, out, out_bias = self.read, self.out, self.out_bias
        dot, relu_into, zero = np.dot, np.maximum, number(0.0, given)
        for j in range(width):
            z = given[j] + dot(read, before[j:j + KERNEL])
            for weight, bias, d, phases in blocks:
                phase, at = phases[j % d], (pad + j // d) * FEATURES  # position j's rows
                relu_into(z, zero, out=phase[at:at + FEATURES])  # relu, cached
                z = z + dot(weight, phase[at - pad * FEATURES:at + FEATURES])
                z += bias
            p = params[j]
            dot(out, relu_into(z, zero), out=p)
            p += out_bias
            before[pad + 1 + j] = draw(j, p.T) if centre is None else draw(j, p.T, centre(j, row))
        device = features.device
        return (torch.from_numpy(np.ascontiguousarray(row)).to(device),
                torch.from_numpy(params.transpose(2, 0, 1).copy()).to(device))
