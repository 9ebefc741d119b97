"""Value models: how the decoder's outputs become a distribution over one row's values.

- ``binary``: one logit per value, Bernoulli (the lab note's binarized images).
- ``continuous``: a logistic per value (location, log-scale), discretized into 256 bins
  so its likelihood is a probability (PixelCNN++ style).
- ``levels``: a softmax over K evenly spaced intensities (the PixelRNN paper's 256-way
  softmax when K = 256), trained with cross-entropy.
- ``mixture``: a mixture of K logistics discretized into 256 bins (PixelCNN++'s output):
  smooth over neighbouring intensities, so it transfers from few training pixels where a
  256-way softmax, one free probability per intensity, overfits.

Losses are in nats per value; ``nats / ln 2`` is bits per dimension. Each model's own
likelihood is over its own alphabet (2, 256 or K values). :meth:`nll_256` puts all three on
one scale: the likelihood of the 8-bit intensity ``round(255 x)``, spreading each level's
probability evenly over the 8-bit intensities that fall in it (exact for continuous).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .drawing import array_module, as_dtype, gumbel, logistic, logit, number, uniforms

BINS = 256  # intensity levels the continuous likelihood is discretized into
HALF_BIN = 0.5 / (BINS - 1)
MIN_LOG_SCALE = math.log(HALF_BIN / 4)  # below a quarter bin the likelihood is saturated
EIGHT_BIT = torch.arange(BINS, dtype=torch.float64) / (BINS - 1)  # the 256 comparison levels


def _log_counts(levels_of_8bit: torch.Tensor, levels: int) -> torch.Tensor:
    """log(how many 8-bit intensities fall in each level), ``(levels,)``."""
    counts = torch.bincount(levels_of_8bit, minlength=levels).clamp(min=1)
    return counts.double().log().float()


class _Draws:
    """Draws from explicit random numbers: :meth:`noise` (torch, from the completion's
    generator), then ``draw(out, noise)``, written once for torch tensors (all at once,
    :meth:`predict`) and numpy arrays (a row left to right, value by value: the
    parameters ``(M, P)`` of one value of ``M`` rows; see :class:`~.drawing.Drawing`)."""

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        random = sample and temperature != 0
        return self.draw(out, self.noise(out.shape[:-1], temperature, generator, out)
                         if random else None)

    def row_noise(self, width: int, m: int, temperature: float, generator, like):
        """:meth:`noise` for ``m`` rows of ``width`` values drawn one at a time, as numpy
        arrays: value j's numbers, as views."""
        noise = self.noise((width, m), temperature, generator, like)
        return list(zip(*(n.cpu().numpy() for n in noise)))


class BinaryValues(_Draws):
    name = "binary"
    params = 1

    def __init__(self, threshold: float = 0.5):
        self.threshold = threshold  # on [0, 1] intensities: which 8-bit values count as 1

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-value negative log-likelihood in nats; ``out`` is ``(..., D, 1)``."""
        return F.binary_cross_entropy_with_logits(out[..., 0], target, reduction="none")

    def nll_256(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_counts = _log_counts((EIGHT_BIT > self.threshold).long(), 2).to(out.device)
        return self.nll(out, target) + log_counts[(target > 0.5).long()]

    def noise(self, shape, temperature: float, generator, like: torch.Tensor):
        """The random numbers that draw values of ``shape`` at ``temperature``: a logit of
        a uniform per value, scaled by the temperature (see :meth:`draw`)."""
        return (temperature * logit(uniforms(shape, like, generator)),)

    def draw(self, out, noise=None, centre=None):
        """Values from parameters ``out`` and :meth:`noise` (``None``: the more probable
        value). ``logit > T logit(u)`` exactly when ``u < sigmoid(logit / T)``: a draw of
        the Bernoulli at temperature T (torch.bernoulli's, from the same uniforms)."""
        logits = out[..., 0]
        return as_dtype(logits > (number(0.0, logits) if noise is None else noise[0]), logits)


def _to_bin(target):
    """The centre of the 8-bit bin each value falls in (a tensor or an array)."""
    top = number(BINS - 1, target)
    return (target * top).round() / top


def _to_unit(x):
    """``x`` clipped to [0, 1] (a tensor or an array)."""
    return x.clip(number(0.0, x), number(1.0, x))


def _logistic_log_mass(x: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor):
    """log P(the 8-bit bin centred on ``x``) under a logistic(loc, scale); the end bins
    take the tails, so the 256 masses sum to 1."""
    inv_scale = torch.exp(-log_scale)
    upper = inv_scale * (x + HALF_BIN - loc)
    lower = inv_scale * (x - HALF_BIN - loc)
    log_cdf_upper = F.logsigmoid(upper)  # P(X < upper edge), for the lowest bin
    log_sf_lower = F.logsigmoid(-lower)  # P(X > lower edge), for the highest bin
    # log(sigmoid(u) - sigmoid(l)), stable: sigmoid(u)(1 - exp(l - u))(1 - sigmoid(l)).
    # The floor keeps log(0) out when the scale is huge (l - u rounds to 0): torch.where
    # below multiplies that branch's infinite gradient by 0, which is NaN (measured: a
    # mixture on black and white stripes, whose end bins favour huge scales, trained to
    # NaN in 56 steps).
    log_mass = (F.logsigmoid(upper) + F.logsigmoid(-lower)
                + torch.log((-torch.expm1(lower - upper)).clamp(min=1e-30)))
    return torch.where(x <= 0, log_cdf_upper, torch.where(x >= 1, log_sf_lower, log_mass))


class ContinuousValues(_Draws):
    name = "continuous"
    params = 2
    NEUTRAL = 0.0  # the location centred_on() adds nothing for

    def _loc_scale(self, out):
        return out[..., 0], out[..., 1].clamp(min=MIN_LOG_SCALE)

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loc, log_scale = self._loc_scale(out)
        return -_logistic_log_mass(_to_bin(target), loc, log_scale)

    nll_256 = nll  # already over the 256 8-bit intensities

    def centred_on(self, base: torch.Tensor, log_scale: torch.Tensor | None = None
                   ) -> torch.Tensor:
        """Parameters ``(..., D, 2)`` to add to centre each value's logistic on ``base``
        (and, if given, to start its log-scale from ``log_scale``)."""
        return torch.stack([base, torch.zeros_like(base) if log_scale is None else log_scale],
                           -1)

    def noise(self, shape, temperature: float, generator, like: torch.Tensor):
        """The random numbers that draw values of ``shape`` at ``temperature``: a logistic
        draw per value, scaled by the temperature."""
        return (temperature * logistic(uniforms(shape, like, generator)),)

    def draw(self, out, noise=None, centre=None):
        """Values from parameters ``out`` and :meth:`noise` (``None``: the median), of
        ``out + centred_on(*centre)`` when ``centre`` is given."""
        loc, log_scale = out[..., 0], out[..., 1]
        if centre is not None:  # what centred_on adds, to the two parameters used
            base, centre_log_scale = centre
            loc = loc + base
            if centre_log_scale is not None:
                log_scale = log_scale + centre_log_scale
        # values the likelihood scores: 8-bit bins, as the training data are
        if noise is None:
            return _to_bin(_to_unit(loc))  # the bin holding the median
        xp = array_module(out)
        log_scale = xp.maximum(log_scale, number(MIN_LOG_SCALE, log_scale))
        return _to_bin(_to_unit(loc + xp.exp(log_scale) * noise[0]))


class MixtureValues(_Draws):
    """K discretized logistics per value: ``out`` holds K mixture logits, K locations
    (offset by 0.5, so an untrained model centres on mid-grey) and K log-scales, mixed
    with a uniform floor of weight ``FLOOR``.

    Without the floor, a sharp component far from a value costs hundreds of bits (the
    logistic's tail), and those rare values made training jump by orders of magnitude
    (measured); with it, no value costs more than log2(256 / FLOOR) = 18 bits, and the
    floor costs at most -log2(1 - FLOOR) = 0.0014 bits per value.
    """

    name = "mixture"
    NEUTRAL = 0.5  # the location centred_on() adds nothing for
    FLOOR = 1e-3
    # Locations move by LOC_GAIN per unit of output: an optimizer step that moved the
    # network's outputs by tenths moved every location by a quarter of the range at
    # gain 1, far beyond the few-level scales the model learns (training jumped).
    LOC_GAIN = 0.1

    def __init__(self, components: int = 5):
        self.components = components
        self.params = 3 * components
        # offsets of a component's location and log-scale from its logit in ``out``
        self._chosen = torch.tensor([components, 2 * components])

    def _split(self, out):
        k = self.components
        return (out[..., :k], self._location(out[..., k:2 * k]),
                out[..., 2 * k:].clamp(min=MIN_LOG_SCALE))

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logits, loc, log_scale = self._split(out)
        log_mass = _logistic_log_mass(_to_bin(target)[..., None], loc, log_scale)
        mixture = torch.logsumexp(F.log_softmax(logits, -1) + log_mass, -1)
        return -torch.logaddexp(mixture + math.log1p(-self.FLOOR),
                                torch.full_like(mixture, math.log(self.FLOOR / BINS)))

    nll_256 = nll  # already over the 256 8-bit intensities

    def centred_on(self, base: torch.Tensor, log_scale: torch.Tensor | None = None
                   ) -> torch.Tensor:
        """Parameters ``(..., D, 3K)`` to add to centre every component on ``base`` (and,
        if given, to start every component's log-scale from ``log_scale``)."""
        k = self.components
        shift = self._shift(base)[..., None].expand(*base.shape, k)
        zeros = torch.zeros_like(shift)
        scale = zeros if log_scale is None else log_scale[..., None].expand(*base.shape, k)
        return torch.cat([zeros, shift, scale], -1)

    def _shift(self, base):
        """What centring on ``base`` adds to each location parameter."""
        return (base - number(0.5, base)) / number(self.LOC_GAIN, base)

    def _location(self, param):
        """A component's location from its (centred) location parameter."""
        return param * number(self.LOC_GAIN, param) + number(0.5, param)

    def noise(self, shape, temperature: float, generator, like: torch.Tensor):
        """The random numbers that draw values of ``shape`` at ``temperature``, from one
        call to the generator (a call costs more than the numbers, on a row of 16)."""
        return self.noise_from(uniforms((*shape, self.components + 2), like, generator),
                               temperature)

    def noise_from(self, u: torch.Tensor, temperature: float):
        """Uniforms ``(..., K + 2)`` -> Gumbel noise per component and a logistic draw,
        both scaled by the temperature (argmax(logits + T g) = argmax(logits / T + g)),
        where the floor takes the draw, and its uniform value there."""
        k = self.components
        floor = u[..., k + 1] < self.FLOOR
        # below FLOOR, u / FLOOR is uniform on [0, 1) and independent of the other numbers
        return (temperature * gumbel(u[..., :k]), temperature * logistic(u[..., k]), floor,
                u[..., k + 1] / self.FLOOR)

    def row_noise(self, width: int, m: int, temperature: float, generator, like):
        """:meth:`noise` for ``m`` rows of ``width`` values drawn one at a time, as numpy
        arrays: value j's numbers, as views; no floor where none of the ``m`` draws takes
        it (most values, which then skip an operation)."""
        noise = [n.cpu().numpy() for n in self.noise((width, m), temperature, generator, like)]
        takes = noise[2].any(1).tolist()
        return [(gumbel, logistic, floor if took else None, uniform) for took, gumbel, logistic,
                floor, uniform in zip(takes, *noise)]

    def _component(self, out, pick):
        """The location and log-scale parameters of component ``pick`` of each value."""
        k = self.components
        if k == 1:  # nothing to pick
            return out[..., 1], out[..., 2]
        if isinstance(out, np.ndarray):  # one value of a row, (M, P): fancy indexing
            rows = np.arange(len(out))
            return out[:, k:2 * k][rows, pick], out[:, 2 * k:][rows, pick]
        return out.gather(-1, pick[..., None] + self._chosen.to(pick.device)).unbind(-1)

    def draw(self, out, noise=None, centre=None):
        """Values from parameters ``out`` and :meth:`noise` (``None``: the centre of the
        heaviest component), of ``out + centred_on(*centre)`` when ``centre`` is given.
        Only the chosen component's location and scale are computed."""
        k = self.components
        logits = out[..., :k]
        pick = None if k == 1 else (logits if noise is None else logits + noise[0]).argmax(-1)
        loc, log_scale = self._component(out, pick)
        if centre is not None:  # what centred_on adds, to the two parameters used
            base, centre_log_scale = centre
            loc = loc + self._shift(base)
            if centre_log_scale is not None:
                log_scale = log_scale + centre_log_scale
        loc = self._location(loc)  # as _split, so draws match the scored parameters
        if noise is None:
            return _to_bin(_to_unit(loc))
        xp = array_module(out)
        log_scale = xp.maximum(log_scale, number(MIN_LOG_SCALE, log_scale))
        drawn = _to_unit(loc + xp.exp(log_scale) * noise[1])
        # the uniform floor's share of draws (so draws follow the scored distribution)
        if noise[2] is not None:
            drawn = xp.where(noise[2], noise[3], drawn)
        # values the likelihood can score: the 8-bit bin the draw falls in
        return _to_bin(drawn)


class LevelValues(_Draws):
    """A categorical over K intensities ``k / (K - 1)``; targets round to the nearest."""

    name = "levels"

    def __init__(self, levels: int = 256):
        self.levels = self.params = levels

    def level(self, target: torch.Tensor) -> torch.Tensor:
        return torch.round(target * (self.levels - 1)).long()

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_probs = F.log_softmax(out, dim=-1)
        return -log_probs.gather(-1, self.level(target)[..., None])[..., 0]

    def nll_256(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_counts = _log_counts(self.level(EIGHT_BIT), self.levels).to(out.device)
        return self.nll(out, target) + log_counts[self.level(target)]

    def noise(self, shape, temperature: float, generator, like: torch.Tensor):
        """The random numbers that draw values of ``shape`` at ``temperature``: Gumbel
        noise per level, scaled by the temperature (argmax(logits + T g) =
        argmax(logits / T + g), a draw from softmax(logits / T))."""
        return (temperature * gumbel(uniforms((*shape, self.levels), like, generator)),)

    def draw(self, out, noise=None, centre=None):
        """Values from parameters ``out`` and :meth:`noise` (``None``: the most probable
        level)."""
        level = (out if noise is None else out + noise[0]).argmax(-1)
        return as_dtype(level, out) / number(self.levels - 1, out)


VALUE_KINDS = ("binary", "continuous", "levels", "mixture")


def value_model(kind: str, levels: int = 256, threshold: float | None = None,
                components: int = 5):
    """The value model for a model's settings (``threshold``: binary models' cut)."""
    if kind == "binary":
        return BinaryValues(0.5 if threshold is None else threshold)
    if kind == "continuous":
        return ContinuousValues()
    if kind == "mixture":
        return MixtureValues(components)
    return LevelValues(levels)


class HasValueModel:
    """For a model class with a ``config`` (values, levels, components): its ``data``
    (how images map to rows) and the value model that follows from both; a binary
    model's 8-bit likelihood needs the threshold stored with the data."""

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, spec) -> None:
        self._data = spec
        c = self.config
        self.value_model = value_model(c.values, c.levels, spec.threshold if spec else None,
                                       c.components)
