"""Value models: how the decoder's outputs become a distribution over one row's values.

- ``binary``: one logit per value, Bernoulli (the lab note's binarized images).
- ``continuous``: a logistic per value (location, log-scale), discretized into 256 bins
  so its likelihood is a probability and comparable across models (PixelCNN++ style).
Losses are in nats per value; ``nats / ln 2`` is bits per dimension.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BINS = 256  # intensity levels the continuous likelihood is discretized into
HALF_BIN = 0.5 / (BINS - 1)
MIN_LOG_SCALE = math.log(HALF_BIN / 4)  # below a quarter bin the likelihood is saturated


class BinaryValues:
    name = "binary"
    params = 1

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-value negative log-likelihood in nats; ``out`` is ``(..., D, 1)``."""
        return F.binary_cross_entropy_with_logits(out[..., 0], target, reduction="none")

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        logits = out[..., 0]
        if not sample or temperature == 0:
            return (logits > 0).to(logits.dtype)  # the more probable value
        probs = torch.sigmoid(logits / temperature)
        return torch.bernoulli(probs, generator=generator)


class ContinuousValues:
    name = "continuous"
    params = 2

    def _loc_scale(self, out):
        return out[..., 0], out[..., 1].clamp(min=MIN_LOG_SCALE)

    def nll(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loc, log_scale = self._loc_scale(out)
        x = torch.round(target * (BINS - 1)) / (BINS - 1)  # the bin each target falls in
        inv_scale = torch.exp(-log_scale)
        upper = inv_scale * (x + HALF_BIN - loc)
        lower = inv_scale * (x - HALF_BIN - loc)
        log_cdf_upper = F.logsigmoid(upper)  # P(X < upper edge), for the lowest bin
        log_sf_lower = F.logsigmoid(-lower)  # P(X > lower edge), for the highest bin
        # log(sigmoid(u) - sigmoid(l)), stable: sigmoid(u)(1 - exp(l - u))(1 - sigmoid(l))
        log_mass = (
            F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(lower - upper))
        )
        log_prob = torch.where(x <= 0, log_cdf_upper, torch.where(x >= 1, log_sf_lower, log_mass))
        return -log_prob

    def predict(self, out, *, sample=False, temperature=1.0, generator=None) -> torch.Tensor:
        loc, log_scale = self._loc_scale(out)
        if not sample or temperature == 0:
            return loc.clamp(0.0, 1.0)  # the distribution's median
        u = torch.rand(loc.shape, generator=generator, dtype=loc.dtype, device=loc.device)
        u = u.clamp(1e-6, 1 - 1e-6)
        noise = torch.log(u) - torch.log1p(-u)  # a standard logistic draw
        return (loc + temperature * torch.exp(log_scale) * noise).clamp(0.0, 1.0)


VALUE_MODELS = {"binary": BinaryValues(), "continuous": ContinuousValues()}
