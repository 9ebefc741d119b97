"""The dense model's one-row step for generation, its tensors prepared once per completion.

Generating a row is four matrix-vector products (encoder, input and hidden gates, decoder)
and a dozen elementwise operations on vectors of a few hundred values. Beyond the
products, what a row costs is per-operation overhead: Python, torch's dispatch and a
fresh allocation for every result. :class:`FastStep` looks the weights up and computes
the batch norm's scale once, then writes every result into buffers allocated on the first
row and reused for the rest (``out=`` and in-place operations).

It computes :meth:`GenModel.step`'s values bit for bit (a test checks every cell): the
same operations in the same order, each on a tensor of the same shape and memory layout.
The layout matters: torch computes the last few values of a vectorized loop with a scalar
formula, and its scalar and vector sigmoids differ in the last bit. That rules out the
fusions that would change the last bits: one sigmoid over all gates, one product over
``[x, h]``, the batch norm folded into the encoder. Together they would save 15-30 us
of the ~300 us a generated row costs (measured, LSTM at the default size; see
docs/benchmarks.md), not worth completions that differ from the sampler before them.

Build one per completion: the weights change between completions (training), so nothing
is kept on the model.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FastStep"]


class FastStep:
    """``step(row, state) -> (h, state)``: what ``model.step(row, state)`` returns.

    The returned ``h`` and state are buffers that the next call overwrites; passing the
    returned state back (as the sampler does) updates it in place.
    """

    def __init__(self, model):
        c = model.config
        self.cell, self.layers = c.cell, c.num_layers
        # detached views: the out= and in-place operations below must not ask for gradients
        self.encoder = (model.encoder.weight.detach().t(), model.encoder.bias.detach())
        norm = model.norm
        self.norm = None if isinstance(norm, nn.Identity) else (
            norm.running_mean, torch.rsqrt(norm.running_var + norm.eps),  # as its forward
            norm.weight.detach(), norm.bias.detach())
        rnn = model.rnn
        # per layer (W_ih^T, b_ih, W_hh^T, b_hh): nn.Linear's addmm(b, x, W^T) each
        self.weights = [(getattr(rnn, f"weight_ih_l{layer}").detach().t(),
                         getattr(rnn, f"bias_ih_l{layer}").detach(),
                         getattr(rnn, f"weight_hh_l{layer}").detach().t(),
                         getattr(rnn, f"bias_hh_l{layer}").detach())
                        for layer in range(c.num_layers)]
        self.cell_step = {"lstm": self._lstm, "gru": self._gru, "rnn": self._rnn}[c.cell]
        self.hidden = c.hidden_size
        self.batch = None  # buffers are allocated for the batch of the first row

    def _allocate(self, row: torch.Tensor):
        """One buffer per intermediate result, shaped like the one GenModel.step makes,
        and the views of them each row uses (a view costs a dispatch, like an operation)."""
        m, hidden, gates = row.shape[0], self.hidden, {"lstm": 4, "gru": 3, "rnn": 1}[self.cell]

        def empty(*shape):
            return torch.empty(shape, dtype=row.dtype, device=row.device)

        self.batch = m
        self.x = empty(m, hidden)
        self.gi, self.gh = empty(m, gates * hidden), empty(m, gates * hidden)
        self.gi_parts, self.gh_parts = self.gi.chunk(gates, -1), self.gh.chunk(gates, -1)
        self.h = empty(self.layers, m, hidden)
        self.h_layers = self.h.unbind(0)
        if self.cell == "lstm":
            self.c = empty(self.layers, m, hidden)
            self.c_layers = self.c.unbind(0)
            self.state = (self.h, self.c)
        else:
            self.state = self.h
        self.a, self.b, self.d = empty(m, hidden), empty(m, hidden), empty(m, hidden)

    def __call__(self, row: torch.Tensor, state):
        if self.batch != row.shape[0]:
            self._allocate(row)
        if state is not self.state:  # a state from elsewhere (model.run): take a copy
            if self.cell == "lstm":
                self.h.copy_(state[0])
                self.c.copy_(state[1])
            else:
                self.h.copy_(state)
        x = self.x
        weight, bias = self.encoder
        torch.addmm(bias, row, weight, out=x)  # what nn.Linear computes for a 2-D row
        if self.norm is not None:  # CausalBatchNorm in eval mode, in its order
            mean, scale, gamma, beta = self.norm
            x.sub_(mean).mul_(scale).mul_(gamma).add_(beta)
        x.relu_()
        for layer, (w_ih, b_ih, w_hh, b_hh) in enumerate(self.weights):
            h = self.h_layers[layer]  # still the previous row's: the hidden gates read it
            torch.addmm(b_ih, x, w_ih, out=self.gi)
            torch.addmm(b_hh, h, w_hh, out=self.gh)
            self.cell_step(layer, h)  # overwrites h (and c) with this row's
            x = h
        return x, self.state

    def _lstm(self, layer: int, h: torch.Tensor):
        """c = sig(f) c + sig(i) tanh(g); h = sig(o) tanh(c), in torch's gate order."""
        self.gi.add_(self.gh)
        i, f, g, o = self.gi_parts
        c, ig = self.c_layers[layer], self.a
        f.sigmoid_()
        c.mul_(f)
        torch.mul(i.sigmoid_(), g.tanh_(), out=ig)
        c.add_(ig)
        torch.tanh(c, out=h)
        h.mul_(o.sigmoid_())

    def _gru(self, layer: int, h: torch.Tensor):
        """h = (1 - z) tanh(i_n + r h_n) + z h, with r, z the sigmoids of summed gates."""
        (ir, iz, in_), (hr, hz, hn) = self.gi_parts, self.gh_parts
        r, z, n = self.a, self.b, self.d
        torch.add(ir, hr, out=r).sigmoid_()  # a contiguous sum, as (ir + hr) is
        torch.add(iz, hz, out=z).sigmoid_()
        torch.mul(r, hn, out=n).add_(in_).tanh_()  # r * hn + in_: the same sum, swapped
        n.mul_(torch.neg(z, out=r).add_(1))  # (1 - z) n, exactly; r is free again
        h.mul_(z).add_(n)  # z * h + (1 - z) n

    def _rnn(self, layer: int, h: torch.Tensor):
        """h = tanh(gi + gh)."""
        torch.tanh(self.gi.add_(self.gh), out=h)
