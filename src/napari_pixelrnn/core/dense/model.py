"""GenModel: encoder (linear + batch norm) -> RNN over rows -> decoder back to one row.

The decoder's output becomes the next row's distribution through a value model (binary,
continuous or K levels, :mod:`.values`), either for all values at once or left to right
within the row (:mod:`.row_net`). With ``granularity="pixel"`` the sequence is the
image's pixels in raster order instead of its rows (the lab note's first try).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ..distributed import all_sum
from ..errors import PixelRNNError, check_choice
from ..row_draw import RowDraw
from ..row_net import FEATURES, CausalRowNet, ValueHead, start_near_zero
from ..values import MIN_LOG_SCALE, VALUE_KINDS, HasValueModel, value_model

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
MODES = ("many-to-many", "many-to-one")
WITHIN_ROW = ("independent", "autoregressive")
GRANULARITIES = ("row", "pixel")
MAX_PIXEL_STEPS = 128 * 128  # pixel mode: one RNN step per pixel, slow beyond this


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
    values: str = "binary"  # "binary" (Bernoulli), "continuous" (logistic) or "levels"
    levels: int = 256  # values="levels": K intensities in the softmax, 2..256
    within_row: str = "independent"  # or "autoregressive": each value sees those to its left
    granularity: str = "row"  # or "pixel": one pixel per step (grayscale; input_size 1)
    components: int = 5  # values="mixture": K discretized logistics per value

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
    check_choice("cell", c.cell, CELLS)
    check_choice("mode", c.mode, MODES)
    check_choice("values", c.values, VALUE_KINDS)
    if isinstance(c.levels, bool) or not isinstance(c.levels, int) or not 2 <= c.levels <= 256:
        raise PixelRNNError(f"levels must be a whole number from 2 to 256, got {c.levels!r}.")
    if isinstance(c.components, bool) or not isinstance(c.components, int) or not (
            1 <= c.components <= 32):
        raise PixelRNNError(f"components must be a whole number from 1 to 32, got "
                            f"{c.components!r}.")
    check_choice("within_row", c.within_row, WITHIN_ROW)
    check_choice("granularity", c.granularity, GRANULARITIES)
    if c.granularity == "pixel" and c.input_size != 1:
        raise PixelRNNError(f"granularity='pixel' reads one value per step (input_size 1), "
                            f"got input_size={c.input_size}.")
    if c.granularity == "pixel" and c.within_row == "autoregressive":
        raise PixelRNNError(
            "within_row='autoregressive' has no meaning with granularity='pixel': pixel mode "
            "already generates one pixel at a time, each from all pixels before it.")
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


def neutral_marginal(config: ModelConfig) -> torch.Tensor | None:
    """``(2, input_size)``: a location and log-scale per value that centring adds nothing
    for (what models from before the marginal, checkpoint format 5 and older, were
    trained without); None for value models without a location (binary, levels)."""
    values = value_model(config.values, config.levels, None, config.components)
    if not hasattr(values, "centred_on"):
        return None
    marginal = torch.zeros(2, config.input_size)
    marginal[0] = values.NEUTRAL
    return marginal


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
                mean, var = _batch_moments(flat)
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var, self.momentum)
        return y


def _batch_moments(flat: torch.Tensor):
    """Mean and variance of the batch; under torchrun, of every process's batch together
    (like SyncBatchNorm), so N processes keep the statistics one process would."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return flat.mean(0), flat.var(0, unbiased=False)
    sums = torch.stack([flat.sum(0), (flat * flat).sum(0)]).double()
    count = torch.tensor([float(flat.shape[0])], dtype=torch.float64, device=flat.device)
    all_sum(sums), all_sum(count)
    mean = sums[0] / count
    return mean.to(flat.dtype), (sums[1] / count - mean * mean).clamp(min=0).to(flat.dtype)


class GenModel(HasValueModel, nn.Module):
    """A row-generating RNN (the lab note's ``GenModel``): the dense architecture.

    ``forward(x)`` takes rows ``(batch, rows, input_size)`` in [0, 1] and returns
    distribution parameters for the *next* row, ``(batch, rows, input_size, P)`` in
    many-to-many mode (position t predicts row t + 1 from rows 0..t) or
    ``(batch, input_size, P)`` in many-to-one mode (the row after the window). ``P`` is
    the value model's parameter count (1 logit for binary, 2 for continuous).
    """

    architecture = "dense"

    def __init__(self, input_size: int | ModelConfig, hidden_size: int = 256,
                 num_layers: int = 1, bidirectional: bool = False, cell: str = "lstm",
                 mode: str = "many-to-many", context: int = 16, batch_norm: bool = True,
                 dropout: float = 0.0, values: str = "binary", levels: int = 256,
                 within_row: str = "independent", granularity: str = "row",
                 components: int = 5):
        super().__init__()
        if isinstance(input_size, ModelConfig):  # GenModel(config)
            c = input_size
        else:  # the lab note's form: GenModel(input_size, hidden_size, ...)
            c = ModelConfig(input_size, hidden_size, num_layers, bidirectional, cell, mode,
                            context, batch_norm, dropout, values, levels, within_row,
                            granularity, components)
        self.config = c
        self.data = None  # set by training or loading: how images map to rows
        self.provenance = None  # how it was trained (see ..provenance); None: not known
        params = self.value_model.params
        self.encoder = nn.Linear(c.input_size, c.hidden_size)
        self.norm = CausalBatchNorm(c.hidden_size) if c.batch_norm else nn.Identity()
        self.rnn = CELLS[c.cell](c.hidden_size, c.hidden_size, c.num_layers, batch_first=True,
                                 bidirectional=c.bidirectional,
                                 dropout=c.dropout if c.num_layers > 1 else 0.0)
        directions = 2 if c.bidirectional else 1
        # A plain decoder gives each value its parameters directly (1 or 2 numbers); a
        # K-way softmax or a left-to-right row gets FEATURES per value and a shared head.
        if c.within_row == "autoregressive":
            self.row_net = CausalRowNet(params)
        elif params > 2:
            self.row_net = ValueHead(params)
        else:
            self.row_net = None
        self.features = params if self.row_net is None else FEATURES
        self.decoder = nn.Linear(c.hidden_size * directions, c.input_size * self.features)
        neutral = neutral_marginal(c)
        if neutral is not None:
            # Intensities with a location (continuous, mixture) start from each value's
            # own mean and spread in the training rows (fit_marginal), the network's
            # output layer from near zero: it learns the departures. From the random
            # decoder's start (scales the whole intensity range, locations anywhere),
            # 300 steps on a constant image ended with the loss still falling, scales of
            # about a level and locations up to 2.5 levels off: never exactly "the same
            # as above", and each generated error grew row after row.
            self.register_buffer("marginal", neutral)
            start_near_zero(self.decoder if self.row_net is None else self.row_net.out)

    @classmethod
    def from_config(cls, config: ModelConfig) -> GenModel:
        return cls(config)

    def _centred(self) -> bool:
        return hasattr(self, "marginal")

    def fit_marginal(self, rows: torch.Tensor) -> None:
        """Start every value's distribution from its mean and spread over ``rows``
        ``(..., input_size)``, the training rows (never a masked one)."""
        values = rows.reshape(-1, self.config.input_size).double()
        # a logistic of scale s has standard deviation s pi / sqrt(3)
        scale = values.std(0, correction=0) * math.sqrt(3) / math.pi
        log_scale = torch.log(scale.clamp(min=math.exp(MIN_LOG_SCALE)))
        self.marginal.copy_(torch.stack([values.mean(0), log_scale]))

    def _start(self) -> torch.Tensor | None:
        """What centring on the marginal adds to every value's parameters, ``(D, P)``."""
        return self.value_model.centred_on(*self.marginal) if self._centred() else None

    @property
    def autoregressive(self) -> bool:
        return self.config.within_row == "autoregressive"

    def head(self, h: torch.Tensor, next_rows: torch.Tensor | None = None) -> torch.Tensor:
        """RNN outputs ``(..., hidden)`` -> the next row's parameters ``(..., D, P)``.

        ``next_rows`` ``(..., D)``: the true next rows, needed (only) by a left-to-right
        row, where value j's parameters depend on the row's values before j.
        """
        out = self.decode(h)
        if self.row_net is None:
            params = out
        elif not self.autoregressive:
            params = self.row_net(out)
        elif next_rows is None:
            raise PixelRNNError(
                "A within_row='autoregressive' model needs the next rows to score them "
                "(teacher forcing); to generate, use complete().")
        else:
            params = self.row_net(out, next_rows)
        start = self._start()
        return params if start is None else params + start

    def row_sampler(self, drawing):
        """For one completion (a left-to-right model): ``sample_row(h)``, the next rows
        generated left to right from RNN outputs ``h`` (M, hidden), (M, D), and the
        parameters each value was drawn from (M, D, P) (the row network's weights are read
        once, here: see :mod:`..row_draw`)."""
        draw_row = RowDraw(self.row_net, drawing)
        start = self._start()
        if start is None:
            return lambda h: draw_row(self.decode(h))
        # value j's (location, log-scale) as (1,) arrays, which broadcast over the M rows
        location, log_scale = self.marginal.cpu().numpy()
        columns = [(location[j:j + 1], log_scale[j:j + 1]) for j in range(len(location))]

        def sample_row(h: torch.Tensor):
            row, params = draw_row(self.decode(h), lambda j, _row: columns[j])
            return row, params + start

        return sample_row

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """RNN outputs ``(..., hidden)`` -> ``(..., D, features)``: the parameters
        themselves, or the features a row head turns into them."""
        out = self.decoder(h)
        return out.reshape(*out.shape[:-1], self.config.input_size, self.features)

    def run(self, x: torch.Tensor, state=None):
        """Many-to-many core: RNN outputs for every position ``(batch, rows, hidden)``
        and the state after them.

        Passing the returned state back with the next row continues the sequence, one
        RNN step per row (this is what makes generation incremental).
        """
        return self.rnn(torch.relu(self.norm(self.encoder(x))), state)

    def step(self, row: torch.Tensor, state):
        """One generated row, ``(batch, input_size)``: the RNN output and the new state;
        the same result as :meth:`run` on a one-row sequence.

        It applies the cell equations to the RNN's own weights: torch's sequence RNN
        costs 1.5-5x more for a single time step on the CPU (measured, LSTM worst),
        and generation is one time step per row. Inference only (no dropout). The
        sampler runs :class:`.fast_step.FastStep`, which computes these values bit for
        bit with its tensors prepared once per completion.
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
        return x, state

    def window(self, x: torch.Tensor) -> torch.Tensor:
        """Many-to-one core: the RNN output after a window of rows, ``(batch, hidden)``."""
        y, _ = self.rnn(torch.relu(self.norm(self.encoder(x))))
        if self.config.bidirectional:
            # The note's y[:, -1, :] would give the backward direction only the last row;
            # take each direction where it has read the whole window.
            h = self.config.hidden_size
            return torch.cat([y[:, -1, :h], y[:, 0, h:]], dim=-1)
        return y[:, -1, :]

    def forward(self, x: torch.Tensor, next_rows: torch.Tensor | None = None,
                positions: torch.Tensor | None = None) -> torch.Tensor:
        """Parameters of the row after each position (many-to-many, ``(B, T, D, P)``) or
        after the window (many-to-one, ``(B, D, P)``).

        ``next_rows``: the true next rows (teacher forcing), for a left-to-right row.
        ``positions``: many-to-many only, decode just these positions (training uses it
        to bound the output's memory; the RNN still reads every row).
        """
        if self.config.mode == "many-to-many":
            h = self.run(x)[0]
            if positions is not None:
                h = h[:, positions]
            return self.head(h, next_rows)
        return self.head(self.window(x), next_rows)

    # --- how images become sequences -------------------------------------------------
    def steps_per_row(self) -> int:
        """Sequence steps per image row: 1, or the width in pixel mode."""
        return self.data.width if self.config.granularity == "pixel" else 1

    def to_steps(self, rows: torch.Tensor) -> torch.Tensor:
        """``(N, H, D)`` rows -> ``(N, steps, input_size)``: pixel mode reads pixels."""
        if self.config.granularity == "pixel":
            return rows.reshape(rows.shape[0], -1, 1)
        return rows
