"""Completion: keep the top rows, generate the rest one row at a time from the model's
own output (autoregressive sampling), as a generator the GUI can show live."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from .data import check_image, check_keep_rows, from_rows, image_height, row_axis, to_rows
from .errors import PixelRNNError
from .memory import check_fits, completion_bytes
from .model import GenModel
from .windows import windows_before


@dataclass(frozen=True)
class GeneratedRow:
    """One generated row for every slice, already in the input's dtype and range."""

    index: int  # row index in the image
    total: int  # image height
    values: np.ndarray  # (*stack, W[, C]): the new row of every slice


def _check_model(model) -> None:
    if not isinstance(model, GenModel) or model.data is None:
        raise PixelRNNError(
            "This model has no data settings: use a model returned by train() or load_model()."
        )


def _check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not (
        0 <= temperature <= 100
    ):
        raise PixelRNNError(f"temperature must be a number from 0 to 100, got {temperature!r}.")
    return float(temperature)


def complete_rows(model: GenModel, image, keep_rows: int, *, sample: bool = False,
                  temperature: float = 1.0, seed: int | None = None
                  ) -> Generator[GeneratedRow, None, np.ndarray]:
    """Generate rows ``keep_rows..H-1`` of every slice, yielding each new row.

    Returns the completed image (``StopIteration.value``): the input's shape and dtype,
    rows ``< keep_rows`` bit-for-bit the input's. The input is never modified.
    """
    _check_model(model)
    temperature = _check_temperature(temperature)
    spec = model.data
    image, _ = check_image(image, model=spec)
    height = image_height(image, spec.rgb)
    keep = check_keep_rows(keep_rows, height)
    slices = image.size // (height * spec.input_size)
    check_fits(completion_bytes(slices, height, spec.input_size, model.value_model.params)
               + image.size * 12 + image.nbytes,
               f"Completing {slices} slice(s) of {height} rows x {spec.input_size} values",
               "Complete a crop, or fewer slices at a time.")
    rows = torch.from_numpy(to_rows(image, spec))  # also checks width and channels
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else torch.seed())
    completed = image.copy()
    axis = row_axis(image, spec.rgb)
    row_shape = image.shape[:axis] + image.shape[axis + 1:]

    rows = rows.to(device)
    predict = model.value_model.predict
    was_training = model.training
    model.eval()  # generation must use the running statistics, never batch statistics
    # no_grad wraps each computation, never a yield: grad mode is per thread, and a
    # generator suspended inside no_grad would switch gradients off for its caller.
    try:
        step = _many_to_many(model, rows, keep) if model.config.mode == "many-to-many" \
            else _many_to_one(model, rows, keep)
        with torch.no_grad():
            params = next(step)  # the distribution of row `keep`
        for index in range(keep, height):
            with torch.no_grad():
                new = predict(params, sample=sample, temperature=temperature, generator=generator)
            values = from_rows(new.cpu().numpy(), spec, row_shape, image.dtype)
            np.moveaxis(completed, axis, 0)[index] = values
            yield GeneratedRow(index, height, values)
            if index + 1 < height:
                with torch.no_grad():
                    params = step.send(new)  # feed the generated row back in
    finally:
        model.train(was_training)
    return completed


def _many_to_many(model, rows, keep):
    """Read the kept rows once, then one RNN step per generated row, carrying the state."""
    out, state = model.run(rows[:, :keep])
    params = out[:, -1]
    while True:
        new = yield params
        params, state = model.step(new, state)


def _many_to_one(model, rows, keep):
    """A sliding window over the last ``context`` rows, generated ones included."""
    rows = rows.clone()  # generated rows are written here, never into the caller's data
    slices = torch.arange(rows.shape[0], device=rows.device)
    index = keep
    while True:
        targets = torch.full_like(slices, index)
        new = yield model(windows_before(rows, slices, targets, model.config.context))
        rows[:, index] = new
        index += 1


def complete(model: GenModel, image, keep_rows: int, *, sample: bool = False,
             temperature: float = 1.0, seed: int | None = None) -> np.ndarray:
    """Complete an image: keep its top ``keep_rows`` rows and generate the rest.

    Parameters
    ----------
    model : GenModel
        A model from :func:`train` or :func:`load_model`, trained on images of this width.
    image : numpy.ndarray
        ``(*stack, H, W[, C])``; every slice is completed (as one batch).
    keep_rows : int
        Rows ``0..keep_rows-1`` are kept bit-for-bit; ``1 <= keep_rows < H``.
    sample : bool
        False (default): each value is the most probable one (binary) or the median
        (continuous), so the result is deterministic. True: values are drawn.
    temperature : float
        Scales the randomness of draws (0 = deterministic).
    seed : int, optional
        Seed for draws; same seed, same completion.

    Returns
    -------
    numpy.ndarray
        The completed image, same shape and dtype as ``image``.
    """
    steps = complete_rows(model, image, keep_rows, sample=sample, temperature=temperature,
                          seed=seed)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
