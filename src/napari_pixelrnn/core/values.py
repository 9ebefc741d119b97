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

import torch
import torch.nn.functional as F

BINS = 256  # intensity levels the continuous likelihood is discretized into
HALF_BIN = 0.5 / (BINS - 1)
MIN_LOG_SCALE = math.log(HALF_BIN / 4)  # below a quarter bin the likelihood is saturated
EIGHT_BIT = torch.arange(BINS, dtype=torch.float64) / (BINS - 1)  # the 256 comparison levels


def _log_counts(levels_of_8bit: torch.Tensor, levels: int) -> torch.Tensor:
    """log(how many 8-bit intensities fall in each level), ``(levels,)``."""
    counts = torch.bincount(levels_of_8bit, minlength=levels).clamp(min=1)
    return counts.double().log().float()


class BinaryValues:
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

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        logits = out[..., 0]
        if not sample or temperature == 0:
            return (logits > 0).to(logits.dtype)  # the more probable value
        probs = torch.sigmoid(logits / temperature)
        return torch.bernoulli(probs, generator=generator)


def _to_bin(target: torch.Tensor) -> torch.Tensor:
    """The centre of the 8-bit bin each value falls in."""
    return torch.round(target * (BINS - 1)) / (BINS - 1)


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


def _draw_category(logits: torch.Tensor, temperature: float, generator) -> torch.Tensor:
    """An index drawn from softmax(logits / T) over the last axis, by Gumbel-max:
    argmax(logits / T + Gumbel noise)."""
    u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype, device=logits.device)
    gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))
    return (logits / temperature + gumbel).argmax(-1)


def _logistic_noise(shape, like: torch.Tensor, generator) -> torch.Tensor:
    u = torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)
    u = u.clamp(1e-6, 1 - 1e-6)
    return torch.log(u) - torch.log1p(-u)  # a standard logistic draw


class ContinuousValues:
    name = "continuous"
    params = 2

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

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        loc, log_scale = self._loc_scale(out)
        # values the likelihood scores: 8-bit bins, as the training data are
        if not sample or temperature == 0:
            return _to_bin(loc.clamp(0.0, 1.0))  # the bin holding the median
        noise = _logistic_noise(loc.shape, loc, generator)
        return _to_bin((loc + temperature * torch.exp(log_scale) * noise).clamp(0.0, 1.0))


class MixtureValues:
    """K discretized logistics per value: ``out`` holds K mixture logits, K locations
    (offset by 0.5, so an untrained model centres on mid-grey) and K log-scales, mixed
    with a uniform floor of weight ``FLOOR``.

    Without the floor, a sharp component far from a value costs hundreds of bits (the
    logistic's tail), and those rare values made training jump by orders of magnitude
    (measured); with it, no value costs more than log2(256 / FLOOR) = 18 bits, and the
    floor costs at most -log2(1 - FLOOR) = 0.0014 bits per value.
    """

    name = "mixture"
    FLOOR = 1e-3
    # Locations move by LOC_GAIN per unit of output: an optimizer step that moved the
    # network's outputs by tenths moved every location by a quarter of the range at
    # gain 1, far beyond the few-level scales the model learns (training jumped).
    LOC_GAIN = 0.1

    def __init__(self, components: int = 5):
        self.components = components
        self.params = 3 * components

    def _split(self, out):
        k = self.components
        return (out[..., :k], out[..., k:2 * k] * self.LOC_GAIN + 0.5,
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
        shift = ((base - 0.5) / self.LOC_GAIN)[..., None].expand(*base.shape, k)
        zeros = torch.zeros_like(shift)
        scale = zeros if log_scale is None else log_scale[..., None].expand(*base.shape, k)
        return torch.cat([zeros, shift, scale], -1)

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        logits, loc, log_scale = self._split(out)
        if not sample or temperature == 0:  # the centre of the heaviest component
            return _to_bin(loc.gather(-1, logits.argmax(-1, keepdim=True))[..., 0].clamp(0, 1))
        # a component from softmax(logits / T), then a logistic draw scaled by T
        pick = _draw_category(logits, temperature, generator)[..., None]
        loc, log_scale = loc.gather(-1, pick)[..., 0], log_scale.gather(-1, pick)[..., 0]
        noise = _logistic_noise(loc.shape, loc, generator)
        drawn = (loc + temperature * torch.exp(log_scale) * noise).clamp(0.0, 1.0)
        # the uniform floor's share of draws (so draws follow the scored distribution)
        u = torch.rand(loc.shape, generator=generator, dtype=out.dtype, device=out.device)
        uniform = torch.rand(loc.shape, generator=generator, dtype=out.dtype, device=out.device)
        drawn = torch.where(u < self.FLOOR, uniform, drawn)
        # values the likelihood can score: the 8-bit bin the draw falls in
        return _to_bin(drawn)


class LevelValues:
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

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        if not sample or temperature == 0:
            level = out.argmax(-1)  # the most probable level
        else:
            level = _draw_category(out, temperature, generator)
        return level.to(out.dtype) / (self.levels - 1)


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
