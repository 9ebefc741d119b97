"""How a completion turns a value model's parameters into values: :class:`Drawing`, all
at once or a row left to right, and the random numbers draws are made from.

A value model's draw is written once, for torch tensors and numpy arrays alike (operators,
methods both have, :func:`array_module`). All at once (a whole row of independent values)
it runs in torch, on the model's device. A row drawn left to right (:mod:`.row_draw`)
runs it in numpy, value by value: each value is a few dozen operations on a few numbers
(one per draw), and an operation costs numpy 0.3-1 us there, torch 3-9 us of dispatch
(measured on 16 numbers, one core).

The random numbers always come from the completion's torch generator (seeds work on every
device), a row's in one call before the row.
"""

from __future__ import annotations

import numpy as np
import torch

_NUMBERS: dict = {}  # (value, dtype) -> its 0-d tensor or array


def array_module(a):
    """``numpy`` for a numpy array, ``torch`` for a tensor: the functions (exp, log, where,
    minimum...) that both spell alike."""
    return torch if isinstance(a, torch.Tensor) else np


def number(value: float, like) -> torch.Tensor | np.ndarray:
    """``value`` for arithmetic with ``like`` (a tensor or an array): a Python number is
    converted on every operation (torch: a tensor copy, a few microseconds; numpy: about
    0.4 us, as much as the operation on 16 numbers; measured), and a row drawn value by
    value makes thousands. A 0-d tensor or array of ``like``'s dtype computes the same."""
    key = (value, like.dtype)
    if key not in _NUMBERS:
        _NUMBERS[key] = torch.tensor(value, dtype=like.dtype) \
            if isinstance(like, torch.Tensor) else np.array(value, like.dtype)
    return _NUMBERS[key]


def as_dtype(a, like):
    """``a`` (booleans, indices) as numbers of ``like``'s dtype."""
    return a.to(like.dtype) if isinstance(a, torch.Tensor) else a.astype(like.dtype)


def uniforms(shape, like: torch.Tensor, generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator, dtype=like.dtype, device=like.device)


def logit(u):
    """The inverse of the sigmoid: ``logit(u) < x`` exactly when ``u < sigmoid(x)``
    (``-inf`` for ``u = 0``)."""
    return torch.log(u) - torch.log1p(-u)


def logistic(u):
    """Standard logistic draws from uniforms (the inverse of its CDF, kept finite)."""
    return logit(u.clamp(1e-6, 1 - 1e-6))


def gumbel(u):
    """Gumbel draws from uniforms: argmax(logits + Gumbel) is a draw from softmax(logits)."""
    return -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))


class Drawing:
    """How a completion turns parameters into values: the value model's most probable
    value (``sample`` False or ``temperature`` 0), or a draw at ``temperature`` from
    ``generator``."""

    def __init__(self, value_model, sample: bool, temperature: float, generator):
        self.value_model, self.sample = value_model, sample
        self.temperature, self.generator = temperature, generator

    @property
    def random(self) -> bool:
        return self.sample and self.temperature != 0

    def __call__(self, params: torch.Tensor) -> torch.Tensor:
        """Values of parameters ``(..., P)``, all at once (torch)."""
        return self.value_model.predict(params, sample=self.sample,
                                        temperature=self.temperature, generator=self.generator)

    def row(self, m: int, width: int, like: torch.Tensor):
        """``draw(j, params, centre=None)``: value j ``(M,)`` of ``m`` rows of ``width``
        values drawn left to right, from its parameters ``(M, P)`` (numpy), plus what
        ``centred_on(*centre)`` adds, for the value models that centre.

        The whole row's random numbers come from one generator call before the row (the
        same distribution per value as :meth:`__call__`, from a different order of the
        numbers), as numpy arrays, one view per value."""
        model = self.value_model
        if not self.random:
            return lambda j, params, centre=None: model.draw(params, None, centre)
        per_value = model.row_noise(width, m, self.temperature, self.generator, like)
        return lambda j, params, centre=None: model.draw(params, per_value[j], centre)
