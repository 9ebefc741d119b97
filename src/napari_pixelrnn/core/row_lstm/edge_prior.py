"""A classical guess of each value, which the Row LSTM's value distribution starts from.

Lossless image codecs predict a pixel from its causal neighbours and code the error. The
median edge detector of JPEG-LS (LOCO-I) predicts ``median(left, above, left + above -
above_left)``: the value above at a vertical edge, the value to the left at a horizontal
one, and the plane through the three neighbours in smooth regions. How far the truth
strays from that guess grows with the local activity (how much the neighbours differ), as
in CALIC and JPEG-LS's contexts.

The Row LSTM centres its value distribution between the value above and that guess (a
learned share, half at first), with a spread of ``base + gain x activity`` (two learned
numbers; the activity capped at ``MAX_ACTIVITY``), and the network learns the
departures. Measured on the bundled camera (top half kept, 64 x 128), bits/dim of the
masked rows: centred on the value above, 5.5 (draws were
black and white streaks); on the median guess, 4.9; with the activity spread as well,
4.3; halfway between the two centres, learned, 4.2 (lossless WebP: 4.4). On the brick
stack the learned share kept the draws' row-to-row variation near the truth's (1.2x)
where the median guess alone, which copies each drawn value to the right as well as
down, made it 2.6x. The classical guess alone, fitted on the kept rows, codes camera's
masked rows in 4.2 and the brick stack's in 2.8 bits/dim (WebP 3.4); the network gains
most where it learns the texture (brick: 2.6).

In colour, the channels of a pixel err together: where R is brighter than its guess, G
and B are too (lossless codecs decorrelate the channels for this reason: WebP's subtract
green, JPEG XL's colour transforms). So G's guess moves by R's error (its value less its
guess) and B's by G's, times a learned weight, with a narrower spread (a learned factor).
Measured on the bundled astronaut (top half kept), bits/dim of the masked rows: each
channel on its own, 4.9; with the weight (learned from 0 or 0.5, it settled at 1.0), 4.5
and 4.3; with the narrower spread, from 0.5, 0.3 or 0.15, 4.25, 4.15 and 4.19 (lossless
WebP 3.9, JPEG XL 3.75). A spread widened by the size of the previous error as well gave
4.08, within run-to-run noise, and was left out.

Every input is causal: the row above (any column), the values to the left in the row
being generated (the same channel of the pixel to the left) and, in colour, the pixel's
earlier channels.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..drawing import number

# Activity beyond this (a quarter of the intensity range, summed over three neighbour
# differences) widens the spread no further. Unbounded, a generated dark crevice widened
# the spread, the wide logistics piled their tails into the darkest bin, and those values
# widened it again: draws of gravel drifted 40 levels dark (posterior mean 12.4 dB
# against 15.5 capped); the held-out bits/dim did not change.
MAX_ACTIVITY = 0.25
# Colour: the next channel's guess starts by sharing all of the previous one's error, with
# 0.3 of its spread: the starts that measured best on astronaut (see the module's
# docstring); the weight moves to about 1 from any start, the spread's factor barely moves
COLOUR_START = 1.0
SHRINK_START = 0.3


class EdgePrior(nn.Module):
    """Guess ``(location, log-scale)`` of each value of a row flattened as (pixel,
    channel), from the row above and the values to its left; values in [0, 1]."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels
        # log of the spread's base (about 2 of 255 levels) and of its gain per unit of
        # activity, and the share of the median guess in the centre (as a logit: half);
        # learned with the network
        self.log_spread = nn.Parameter(torch.tensor([math.log(2 / 255), math.log(0.3)]))
        self.share = nn.Parameter(torch.zeros(()))
        # how much of the previous channel's error (its value less its guess) the next
        # channel of the same pixel shares: colour edges line up across channels
        self.colour = nn.Parameter(torch.tensor(COLOUR_START))
        # and how much narrower its spread is, knowing that error (log, learned)
        self.colour_spread = nn.Parameter(torch.tensor(math.log(SHRINK_START)))

    def _from_above(self, above: torch.Tensor):
        """What the row above alone gives each value: its above-left neighbour (the row's
        ends repeat themselves), the gradient above (above less above-left) and the
        activity between the three values above it."""
        c = self.channels
        above_left = torch.cat([above[..., :c], above[..., :-c]], -1)
        above_right = torch.cat([above[..., c:], above[..., -c:]], -1)
        gradient = above - above_left
        return above_left, gradient, gradient.abs() + (above_right - above).abs()

    def _constants(self):
        """The share of the median guess, and the spread's base and gain."""
        base, gain = self.log_spread.exp()
        return torch.sigmoid(self.share), base, gain

    @staticmethod
    def _guess(xp, left, above, above_left, gradient, above_activity, constants):
        """The guess from a value's neighbours: written once for torch (``xp``, teacher
        forcing) and numpy (drawing value by value, see :mod:`..row_draw`)."""
        share, base, gain = constants
        median = (left + gradient).clip(xp.minimum(left, above),
                                        xp.maximum(left, above))  # = the median of the three
        location = above + share * (median - above)
        activity = (abs(left - above_left) + above_activity).clip(max=number(MAX_ACTIVITY, left))
        return location, xp.log(base + gain * activity)

    def forward(self, above: torch.Tensor, row: torch.Tensor):
        """Teacher forcing: ``above`` and the true ``row`` ``(..., D)`` -> location and
        log-scale ``(..., D)`` of each value of ``row``; value j reads ``row`` left of j."""
        c = self.channels
        left = torch.cat([above[..., :c], row[..., :-c]], -1)  # the first pixel: above
        location, log_scale = self._guess(torch, left, above, *self._from_above(above),
                                          self._constants())
        if c > 1:
            error = (row - location).unflatten(-1, (-1, c))
            earlier = torch.cat([torch.zeros_like(error[..., :1]), error[..., :-1]], -1)
            location = location + self.colour * earlier.flatten(-2)
            narrower = torch.cat([torch.zeros_like(self.colour_spread)[None],
                                  self.colour_spread.expand(c - 1)])  # not R: G and B
            log_scale = log_scale + narrower.repeat(row.shape[-1] // c)
        return location, log_scale

    def for_row(self, above: torch.Tensor):
        """For drawing rows left to right, in numpy (see :mod:`..row_draw`): ``guess(j,
        row)`` -> the location and log-scale ``(M,)`` of value j, given ``row`` ``(M, D)``
        filled up to j - 1; called for j = 0, 1, 2, ... in order (it keeps the previous
        value's own guess). ``above`` ``(M, D)``: the rows above (torch)."""
        c = self.channels

        def numpy(t):
            return t.detach().cpu().numpy()

        # per row, not per value: what the row above gives, one (M,) column per value,
        # and the learned numbers as 0-d arrays
        columns = list(zip(*(numpy(t.T.contiguous()) for t in (above, *self._from_above(above)))))
        constants = tuple(numpy(t) for t in self._constants())
        colour, colour_spread = numpy(self.colour), numpy(self.colour_spread)
        previous = [None]  # the previous value's own guess

        def guess(j: int, row: np.ndarray):
            above_j = columns[j][0]
            left = row[:, j - c] if j >= c else above_j
            location, log_scale = self._guess(np, left, *columns[j], constants)
            own, previous[0] = previous[0], location
            if j % c:  # not the pixel's first channel: the previous one's error
                location = location + colour * (row[:, j - 1] - own)
                log_scale = log_scale + colour_spread
            return location, log_scale

        return guess
