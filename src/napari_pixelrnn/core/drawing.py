"""How a completion turns a value model's parameters into values: :class:`Drawing`, all
at once or a row left to right, and the random numbers draws are made from.

Drawing a row value by value is thousands of operations on a few numbers each, so the
cost is per operation (a few microseconds of dispatch), not arithmetic: a row's random
numbers come from one generator call before the row, and constants are 0-d tensors.
"""

from __future__ import annotations

import torch

_NUMBERS: dict = {}  # (value, dtype) -> its 0-d tensor


def number(value: float, like: torch.Tensor) -> torch.Tensor:
    """``value`` for arithmetic with ``like``: a Python number (or a tensor of another
    dtype) is copied into a new tensor on every operation, a few microseconds each
    (measured), and drawing a row value by value makes thousands. A 0-d tensor of
    ``like``'s dtype computes the same as the number."""
    key = (value, like.dtype)
    if key not in _NUMBERS:
        _NUMBERS[key] = torch.tensor(value, dtype=like.dtype)
    return _NUMBERS[key]


def draw_category(logits: torch.Tensor, temperature: float, generator) -> torch.Tensor:
    """An index drawn from softmax(logits / T) over the last axis, by Gumbel-max:
    argmax(logits / T + Gumbel noise)."""
    return (logits / temperature + gumbel(uniforms(logits.shape, logits, generator))).argmax(-1)


def uniforms(shape, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def logistic(u: torch.Tensor) -> torch.Tensor:
    """Standard logistic draws from uniforms (the inverse of its CDF)."""
    u = u.clamp(1e-6, 1 - 1e-6)
    return torch.log(u) - torch.log1p(-u)


def gumbel(u: torch.Tensor) -> torch.Tensor:
    """Gumbel draws from uniforms: argmax(logits + Gumbel) is a draw from softmax(logits)."""
    return -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))


def logistic_noise(shape, like: torch.Tensor, generator) -> torch.Tensor:
    return logistic(uniforms(shape, like, generator))  # a standard logistic draw


class Drawing:
    """How a completion turns parameters into values: the value model's most probable
    value (``sample`` False or ``temperature`` 0), or a draw at ``temperature`` from
    ``generator``."""

    def __init__(self, value_model, sample: bool, temperature: float, generator):
        self.value_model, self.sample = value_model, sample
        self.temperature, self.generator = temperature, generator

    def __call__(self, params: torch.Tensor) -> torch.Tensor:
        """Values of parameters ``(..., P)``, all at once."""
        return self.value_model.predict(params, sample=self.sample,
                                        temperature=self.temperature, generator=self.generator)

    def row(self, m: int, width: int, like: torch.Tensor):
        """``draw(j, params, centre=None)``: value j ``(M,)`` of ``m`` rows of ``width``
        values drawn left to right, from its parameters ``(M, P)`` (plus what
        ``centred_on(*centre)`` adds, for the value models that centre).

        Value j costs a few microseconds per tensor operation, whatever its size, so the
        whole row's random numbers are drawn in one call before the row (the same
        distribution per value as :meth:`__call__`, from a different stream of numbers)."""
        model = self.value_model
        if not hasattr(model, "draw"):  # binary, levels: drawn value by value, uncentred
            return lambda j, params, centre=None: self(params)
        if not self.sample or self.temperature == 0:
            return lambda j, params, centre=None: model.draw(params, None, centre)
        per_value = model.row_noise(width, m, self.temperature, self.generator, like)
        return lambda j, params, centre=None: model.draw(params, per_value[j], centre)
