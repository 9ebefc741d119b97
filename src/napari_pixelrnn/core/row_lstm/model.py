"""The PixelRNN paper's Row LSTM (van den Oord et al. 2016, section 3.1).

The state of each image row is a row of per-pixel feature vectors. The next row's state
comes from 1-D convolutions along the row: input-to-state over the row just read (kernel
``kernel``), state-to-state over the previous row's state (kernel 3). The same small
weights apply at every column, so the model is translation-equivariant, works at any
width, and learns what transfers from one place of the image to another; the dense
family (:class:`.model.GenModel`, the lab note's model) has a weight per column instead.

The state after row t summarizes rows 0..t (a receptive field that widens by one pixel per
row, each side). Row t + 1 is then generated left to right, each value from that state and
the values before it in the row (raster order, R -> G -> B within a pixel) through the
same causal row network the dense family uses (:class:`.row_net.CausalRowNet`).

The class offers the methods the sampler and the evaluation call on a many-to-many dense
model (``run``, ``step``, ``head``, ``row_sampler``), so both families share one sampler
and one evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import PixelRNNError, check_choice
from ..row_draw import RowDraw
from ..row_net import FEATURES, CausalRowNet, start_near_zero
from ..values import VALUE_KINDS, HasValueModel
from .edge_prior import EdgePrior

PRIORS = ("edge", "above")


@dataclass(frozen=True)
class RowLSTMConfig:
    """Architecture settings of a Row LSTM; the image width is not one of them."""

    channels: int  # colour channels per pixel: 1, 3 or 4
    hidden_size: int = 32  # features per pixel in the row state
    num_layers: int = 1  # stacked Row LSTM layers
    kernel: int = 3  # input-to-state kernel along the row (odd)
    values: str = "mixture"  # value model; see .values
    levels: int = 256  # values="levels": K intensities
    components: int = 5  # values="mixture": K logistics
    dropout: float = 0.0  # on the row state before the output features (training only)
    # what intensity value models start each value's distribution from: "edge", between
    # the value above and JPEG-LS's median guess, with a spread that grows with the
    # neighbours' activity (see .edge_prior), or "above", the value above (what format-3
    # checkpoints did)
    prior: str = "edge"

    # what the shared sampler and evaluation ask of a model's configuration
    mode = "many-to-many"
    granularity = "row"
    within_row = "autoregressive"
    bidirectional = False

    def __post_init__(self):
        def whole(name, value, low, high):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise PixelRNNError(f"{name} must be a whole number from {low} to {high}, "
                                    f"got {value!r}.")

        whole("channels", self.channels, 1, 4)
        whole("hidden_size", self.hidden_size, 1, 1024)
        whole("num_layers", self.num_layers, 1, 16)
        whole("kernel", self.kernel, 1, 31)
        whole("levels", self.levels, 2, 256)
        whole("components", self.components, 1, 32)
        if self.kernel % 2 == 0:
            raise PixelRNNError(f"kernel must be odd (centred on each pixel), got {self.kernel}.")
        check_choice("values", self.values, VALUE_KINDS)
        check_choice("prior", self.prior, PRIORS)
        if not isinstance(self.dropout, (int, float)) or not 0.0 <= self.dropout < 1.0:
            raise PixelRNNError(f"dropout must be in [0, 1), got {self.dropout!r}.")


class RowLSTMLayer(nn.Module):
    """One Row LSTM layer: ``(N, C_in, H, W)`` rows -> ``(N, hidden, H, W)`` states."""

    def __init__(self, inputs: int, hidden: int, kernel: int):
        super().__init__()
        self.input_to_state = nn.Conv1d(inputs, 4 * hidden, kernel, padding=kernel // 2)
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 3, padding=1, bias=False)
        with torch.no_grad():  # forget gate open at first: rows far above are remembered
            self.input_to_state.bias[hidden:2 * hidden].fill_(1.0)

    def _cell(self, gates, c):
        i, f, g, o = gates.chunk(4, dim=-1)  # input, forget, cell, output
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def _recurrent(self, h: torch.Tensor) -> torch.Tensor:
        """State-to-state, kernel 3 along the row, on ``(N, W, hidden)`` states: one
        matrix product of each pixel's and its neighbours' states (a conv1d call costs
        several times more per row on the CPU, in backward most)."""
        weight = self.state_to_state.weight  # (4 hidden, hidden, 3)
        padded = F.pad(h, (0, 0, 1, 1))
        window = torch.cat([padded[:, :-2], h, padded[:, 2:]], dim=-1)  # x-1, x, x+1
        return window @ weight.permute(2, 1, 0).reshape(-1, weight.shape[0])

    def forward(self, x: torch.Tensor, state=None):
        n, _, _, width = x.shape
        # input-to-state for every row at once (it reads only the row itself)
        weight = self.input_to_state.weight[:, :, None, :]
        gates_in = F.conv2d(x, weight, self.input_to_state.bias,
                            padding=(0, self.input_to_state.padding[0]))
        if state is None:
            h = c = x.new_zeros(n, width, self.state_to_state.in_channels)
        else:
            h, c = state
        out = []
        # unbind, not indexing: indexing's backward writes a whole zero tensor per row
        for gates in gates_in.permute(2, 0, 3, 1).unbind(0):  # row t reads row t - 1
            h, c = self._cell(gates + self._recurrent(h), c)
            out.append(h)
        return torch.stack(out, 1).permute(0, 3, 1, 2), (h, c)  # (N, hidden, H, W)

    def step(self, x: torch.Tensor, state):
        """One row ``(N, C_in, W)``; the same result as :meth:`forward` on one row.
        States are ``(N, W, hidden)``."""
        h, c = state
        return self._cell(self.input_to_state(x).transpose(1, 2) + self._recurrent(h), c)


class RowLSTM(HasValueModel, nn.Module):
    """A Row LSTM over image rows; ``forward``-style calls take ``(N, rows, W * C)``
    rows in [0, 1] flattened as (pixel, channel), like the dense family's."""

    architecture = "row-lstm"
    autoregressive = True
    features = FEATURES

    def __init__(self, config: RowLSTMConfig | None = None, **settings):
        super().__init__()
        config = config if config is not None else RowLSTMConfig(**settings)
        self.config = config
        self.data = None  # set by training or loading
        hidden = config.hidden_size
        self.layers = nn.ModuleList(
            RowLSTMLayer(config.channels if i == 0 else hidden, hidden, config.kernel)
            for i in range(config.num_layers))
        self.dropout = nn.Dropout(config.dropout)
        # per pixel: hidden state -> FEATURES for each of its channels' values
        self.to_features = nn.Conv1d(hidden, config.channels * FEATURES, 1)
        # and the row just read, straight to the next row's features: the pixels above
        # are the best single predictor, and the LSTM need not learn to carry them
        self.from_above = nn.Conv1d(config.channels, config.channels * FEATURES,
                                    config.kernel, padding=config.kernel // 2)
        self.row_net = CausalRowNet(self.value_model.params)
        self.edge_prior = EdgePrior(config.channels) if config.prior == "edge" else None
        # per channel, added to every value's centre when drawing (not when scoring):
        # fitted after training so that the model's own continuations keep the image's
        # level (see .calibration); 0 = drawn as trained
        self.register_buffer("drift", torch.zeros(config.channels))
        # how its draws of its training rows vary against them, measured after training
        # (see .draw_check); not saved with the model
        self.draw_check = None
        self.provenance = None  # how it was trained (see ..provenance); None: not known
        # start from the value model's neutral guess (the prior's, or mid-grey and
        # broad), not from large random parameters
        start_near_zero(self.row_net.out)

    @classmethod
    def from_config(cls, config: RowLSTMConfig) -> RowLSTM:
        return cls(config)

    # --- the interface the shared sampler and evaluation use -------------------------
    def _pixels(self, rows: torch.Tensor) -> torch.Tensor:
        """``(N, T, W*C)`` rows in [0, 1] -> ``(N, C, T, W)`` in [-1, 1]."""
        n, t, d = rows.shape
        c = self.config.channels
        return rows.reshape(n, t, d // c, c).permute(0, 3, 1, 2) * 2 - 1

    def _features(self, h: torch.Tensor, above: torch.Tensor) -> torch.Tensor:
        """States ``(N, hidden, W)`` and the rows they read last ``(N, C, W)`` ->
        per-value features of the next rows ``(N, W*C, FEATURES + 1)``; the last one is
        the value above, in [0, 1] (see :meth:`head`)."""
        n, _, width = h.shape
        c = self.config.channels
        f = self.to_features(self.dropout(h)) + self.from_above(above)  # (N, C*F, W)
        f = f.reshape(n, c, FEATURES, width)
        f = f.permute(0, 3, 1, 2).reshape(n, width * c, FEATURES)
        base = (above.transpose(1, 2).reshape(n, width * c, 1) + 1) / 2
        return torch.cat([f, base], -1)

    def _centred(self) -> bool:
        return hasattr(self.value_model, "centred_on")

    def _offset(self, above: torch.Tensor, row: torch.Tensor, drifted: bool = False
                ) -> torch.Tensor | None:
        """Teacher forcing: what intensity value models add to each value's parameters,
        so that an untrained model already predicts a classical guess (see
        :mod:`.edge_prior`; or "like the value above, give or take") and the network
        learns the departures. (Measured: from a mid-grey centre, the locations took most
        of training to find the intensities.) ``drifted``: with the level correction
        that drawing adds (:attr:`drift`); scores leave it out."""
        if not self._centred():
            return None
        location, log_scale = (above, None) if self.edge_prior is None else \
            self.edge_prior(above, row)
        if drifted:
            location = location + self.drift.repeat(location.shape[-1] // self.config.channels)
        return self.value_model.centred_on(location, log_scale)

    def _row_centre(self, above: torch.Tensor):
        """What :meth:`_offset` centres value j on (``drifted``), for drawing a row left
        to right (in numpy): ``centre(j, row)`` -> ``(location, log-scale or None)``."""
        if not self._centred():
            return None
        drift, c = self.drift.tolist(), self.config.channels
        if self.edge_prior is None:
            columns = above.T.contiguous().cpu().numpy()  # value j's: columns[j], (M,)
            return lambda j, row: (columns[j] + drift[j % c], None)
        guess = self.edge_prior.for_row(above)
        if not any(drift):  # uncalibrated (the default): nothing to add, value by value
            return guess

        def centre(j, row):
            location, log_scale = guess(j, row)
            return location + drift[j % c], log_scale

        return centre

    def run(self, rows: torch.Tensor, state=None):
        """Features for the row after each of ``rows`` ``(N, T, W*C)``:
        ``(N, T, W*C, FEATURES + 1)``, and the state after the last row (pass it back with
        the next row to continue)."""
        pixels = x = self._pixels(rows)
        states = []
        for i, layer in enumerate(self.layers):
            x, s = layer(x, None if state is None else state[i])
            states.append(s)
        n, hidden, t, width = x.shape
        h = x.permute(0, 2, 1, 3).reshape(n * t, hidden, width)
        above = pixels.permute(0, 2, 1, 3).reshape(n * t, -1, width)
        return self._features(h, above).reshape(n, t, -1, FEATURES + 1), states

    def step(self, row: torch.Tensor, state):
        """One new row ``(N, W*C)``: features for the row after it and the new state."""
        pixels = x = self._pixels(row[:, None])[:, :, 0]
        states = []
        for layer, s in zip(self.layers, state):
            h, c = layer.step(x, s)
            states.append((h, c))
            x = h.transpose(1, 2)
        return self._features(x, pixels), states

    def head(self, features: torch.Tensor, next_rows: torch.Tensor | None = None):
        """Features ``(..., D, F)`` and the true rows they predict ``(..., D)`` ->
        parameters ``(..., D, P)``, value j reading values < j of its row only."""
        if next_rows is None:
            raise PixelRNNError(
                "A Row LSTM generates each row left to right: it needs the next rows to "
                "score them (teacher forcing); to generate, use complete().")
        params = self.row_net(features[..., :-1], next_rows)
        offset = self._offset(features[..., -1], next_rows)
        return params if offset is None else params + offset

    def row_sampler(self, drawing):
        """For one completion: ``sample_row(features)``, the next rows generated left to
        right from :meth:`step`'s features, and the model's parameters of each value,
        which score it (drawing adds the level correction :attr:`drift` to their centre;
        the row network's weights are read once, here: see :mod:`..row_draw`)."""
        draw_row = RowDraw(self.row_net, drawing)

        def sample_row(features: torch.Tensor):
            above = features[..., -1]
            row, params = draw_row(features[..., :-1], self._row_centre(above))
            # the centring, for the whole row at once: the same guesses as value by value,
            # without the level correction (the parameters score the row, as evaluate does)
            offset = self._offset(above, row)
            return row, params if offset is None else params + offset

        return sample_row

    def forward(self, rows: torch.Tensor, next_rows: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: parameters of ``next_rows`` ``(N, T, D)``, row t of them
        predicted from ``rows[:, :t + 1]`` and its own values to the left."""
        return self.head(self.run(rows)[0], next_rows)

    def steps_per_row(self) -> int:
        return 1

    def to_steps(self, rows: torch.Tensor) -> torch.Tensor:
        return rows
