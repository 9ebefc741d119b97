"""GenModel: encoder (linear + batch norm) -> RNN over rows -> decoder back to one row."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import DataSpec
from .errors import PixelRNNError
from .values import VALUE_MODELS

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
MODES = ("many-to-many", "many-to-one")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture settings; everything needed to rebuild the network."""

    input_size: int  # values per row: width x channels
    hidden_size: int = 256  # RNN units (also the encoder's width)
    num_layers: int = 1  # stacked RNN layers
    bidirectional: bool = False  # only with many-to-one: a window of past rows
    cell: str = "lstm"  # "lstm", "gru" or "rnn"
    mode: str = "many-to-many"  # seq2seq over all rows, or seq2vec from a window
    context: int = 16  # many-to-one: how many previous rows the window holds
    batch_norm: bool = True  # causal batch norm after the encoder
    dropout: float = 0.0  # between stacked RNN layers
    values: str = "binary"  # "binary" (Bernoulli) or "continuous" (discretized logistic)

    def __post_init__(self):
        _check_config(self)


def _check_config(c: ModelConfig) -> None:
    def positive_int(name, value, limit):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            raise PixelRNNError(f"{name} must be a whole number from 1 to {limit}, got {value!r}.")

    positive_int("input_size", c.input_size, 1 << 20)
    positive_int("hidden_size", c.hidden_size, 8192)
    positive_int("num_layers", c.num_layers, 16)
    positive_int("context", c.context, 4096)
    if c.cell not in CELLS:
        raise PixelRNNError(f"Unknown cell {c.cell!r}: accepted are {', '.join(CELLS)}.")
    if c.mode not in MODES:
        raise PixelRNNError(f"Unknown mode {c.mode!r}: accepted are {', '.join(MODES)}.")
    if c.values not in VALUE_MODELS:
        raise PixelRNNError(f"Unknown values {c.values!r}: accepted are {', '.join(VALUE_MODELS)}.")
    if not isinstance(c.bidirectional, bool) or not isinstance(c.batch_norm, bool):
        raise PixelRNNError("bidirectional and batch_norm must be True or False.")
    if c.bidirectional and c.mode == "many-to-many":
        raise PixelRNNError(
            "bidirectional=True cannot be used with mode='many-to-many': the backward "
            "direction would read the rows below each position, so the model would see the "
            "row it is asked to predict. Use mode='many-to-one' (a window of previous rows "
            "only) or bidirectional=False."
        )
    if not isinstance(c.dropout, (int, float)) or not 0.0 <= c.dropout < 1.0:
        raise PixelRNNError(f"dropout must be in [0, 1), got {c.dropout!r}.")


class CausalBatchNorm(nn.Module):
    """Batch normalization that normalizes with running statistics, in training too.

    Plain BatchNorm in training mode normalizes each position with the mean and variance
    of the whole batch, which includes the rows *below* it: a small leak of future rows,
    and a train/generate mismatch when generation switches to running statistics. Here
    the statistics of earlier batches normalize the current one and are updated after it,
    so a prediction never depends on other rows of its batch and training and generation
    normalize identically.
    """

    def __init__(self, features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))
        self.register_buffer("running_mean", torch.zeros(features))
        self.register_buffer("running_var", torch.ones(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = (x - self.running_mean) * torch.rsqrt(self.running_var + self.eps)
        y = y * self.weight + self.bias
        if self.training:
            with torch.no_grad():  # update for the *next* batch
                flat = x.detach().reshape(-1, x.shape[-1])
                self.running_mean.lerp_(flat.mean(0), self.momentum)
                self.running_var.lerp_(flat.var(0, unbiased=False), self.momentum)
        return y


class GenModel(nn.Module):
    """A row-generating RNN (the lab note's ``GenModel``).

    ``forward(x)`` takes rows ``(batch, rows, input_size)`` in [0, 1] and returns
    distribution parameters for the *next* row, ``(batch, rows, input_size, P)`` in
    many-to-many mode (position t predicts row t + 1 from rows 0..t) or
    ``(batch, input_size, P)`` in many-to-one mode (the row after the window). ``P`` is
    the value model's parameter count (1 logit for binary, 2 for continuous).
    """

    def __init__(self, input_size: int, hidden_size: int = 256, num_layers: int = 1,
                 bidirectional: bool = False, cell: str = "lstm", mode: str = "many-to-many",
                 context: int = 16, batch_norm: bool = True, dropout: float = 0.0,
                 values: str = "binary"):
        super().__init__()
        self.config = ModelConfig(input_size, hidden_size, num_layers, bidirectional, cell,
                                  mode, context, batch_norm, dropout, values)
        self.data: DataSpec | None = None  # set by training: how images map to rows
        self.value_model = VALUE_MODELS[values]
        self.encoder = nn.Linear(input_size, hidden_size)
        self.norm = CausalBatchNorm(hidden_size) if batch_norm else nn.Identity()
        self.rnn = CELLS[cell](hidden_size, hidden_size, num_layers, batch_first=True,
                               bidirectional=bidirectional,
                               dropout=dropout if num_layers > 1 else 0.0)
        directions = 2 if bidirectional else 1
        self.decoder = nn.Linear(hidden_size * directions, input_size * self.value_model.params)

    @classmethod
    def from_config(cls, config: ModelConfig) -> "GenModel":
        return cls(**asdict(config))

    def _decode(self, y: torch.Tensor) -> torch.Tensor:
        out = self.decoder(y)
        return out.reshape(*out.shape[:-1], self.config.input_size, self.value_model.params)

    def run(self, x: torch.Tensor, state=None):
        """Many-to-many core: outputs for every position, and the RNN state after them.

        Passing the returned state back with the next row continues the sequence, one
        RNN step per row (this is what makes generation incremental).
        """
        y, state = self.rnn(torch.relu(self.norm(self.encoder(x))), state)
        return self._decode(y), state

    def step(self, row: torch.Tensor, state):
        """One generated row, ``(batch, input_size)``: the next row's parameters and the
        new state; the same result as :meth:`run` on a one-row sequence.

        It applies the cell equations to the RNN's own weights: torch's sequence RNN
        costs 1.5-5x more for a single time step on the CPU (measured, LSTM worst),
        and generation is one time step per row. Inference only (no dropout).
        """
        x = torch.relu(self.norm(self.encoder(row)))
        cell, lstm = self.config.cell, self.config.cell == "lstm"
        hs, cs = state if lstm else (state, None)
        new_h, new_c = [], []
        for layer in range(self.config.num_layers):
            w_ih, w_hh, b_ih, b_hh = (getattr(self.rnn, f"{name}_l{layer}") for name in
                                      ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
            h = hs[layer]
            gi, gh = F.linear(x, w_ih, b_ih), F.linear(h, w_hh, b_hh)
            if lstm:  # gates in torch's order: input, forget, cell, output
                i, f, g, o = (gi + gh).chunk(4, dim=-1)
                c = torch.sigmoid(f) * cs[layer] + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                new_c.append(c)
            elif cell == "gru":  # reset, update, new
                ir, iz, in_ = gi.chunk(3, dim=-1)
                hr, hz, hn = gh.chunk(3, dim=-1)
                r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
                h = (1 - z) * torch.tanh(in_ + r * hn) + z * h
            else:
                h = torch.tanh(gi + gh)
            new_h.append(h)
            x = h
        state = torch.stack(new_h)
        if lstm:
            state = (state, torch.stack(new_c))
        return self._decode(x), state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.mode == "many-to-many":
            return self.run(x)[0]
        y, _ = self.rnn(torch.relu(self.norm(self.encoder(x))))
        if self.config.bidirectional:
            # The note's y[:, -1, :] would give the backward direction only the last row;
            # take each direction where it has read the whole window.
            h = self.config.hidden_size
            y = torch.cat([y[:, -1, :h], y[:, 0, h:]], dim=-1)
        else:
            y = y[:, -1, :]
        return self._decode(y)
