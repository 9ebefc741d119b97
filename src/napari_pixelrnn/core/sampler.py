"""Completion: keep the top rows, generate the rest one row at a time from the model's
own output (autoregressive sampling), as a generator the GUI can show live."""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from .config import MAX_SAMPLES, CompletionConfig
from .data import check_fit, check_image, check_keep_rows, from_rows, geometry, to_rows
from .dense.fast_step import FastStep
from .dense.model import GenModel
from .dense.windows import windows_before
from .drawing import Drawing
from .errors import PixelRNNError
from .generators import run_to_end
from .memory import check_fits, completion_bytes
from .row_lstm import RowLSTM

__all__ = ["MAX_SAMPLES", "Completions", "GeneratedRow", "check_completion", "complete",
           "complete_rows"]


@dataclass(frozen=True)
class GeneratedRow:
    """One generated row for every slice, already in the input's dtype and range."""

    index: int  # row index in the image
    total: int  # image height
    values: np.ndarray  # (*stack, W[, C]): the new row of every slice; (N, ...) with samples=N


@dataclass(frozen=True)
class Completions:
    """``samples=N`` completions of one image, and how probable the model finds each."""

    images: np.ndarray  # (N, *image.shape), in draw order
    nats_per_dim: np.ndarray  # (N,) mean NLL of each completion's generated values, nats

    @property
    def bits_per_dim(self) -> np.ndarray:
        return self.nats_per_dim / math.log(2)

    def ranked(self) -> Completions:
        """Most probable first (lowest bits/dim); ties keep draw order."""
        order = np.argsort(self.nats_per_dim, kind="stable")
        return Completions(self.images[order], self.nats_per_dim[order])

    def mean(self) -> np.ndarray:
        """The posterior mean: the average of the draws, pixel by pixel, in the input's
        dtype (rounded for integers; a majority vote for bool). The estimate with the
        least expected squared error, so the one to score by PSNR; it is smoother than
        any draw, and no draw looks like it. Kept rows are the input's, exactly."""
        average = self.images.astype(np.float64).mean(0)
        dtype = self.images.dtype
        if dtype.kind == "b":
            return average > 0.5
        if dtype.kind in "iu":
            return np.round(average).astype(dtype)
        # where every draw agrees (the kept rows), that value, not a rounded average of it
        agree = (self.images == self.images[0]).all(0)
        return np.where(agree, self.images[0], average.astype(dtype))


def any_width(model) -> bool:
    """Whether the model reads rows of any width (a Row LSTM) or only its training width."""
    return isinstance(model, RowLSTM)


def check_model(model) -> None:
    """Refuse what is not a trained or loaded model."""
    if not isinstance(model, (GenModel, RowLSTM)) or model.data is None:
        raise PixelRNNError(
            "This model has no data settings: use a model returned by train() or load_model()."
        )


def check_completion(model, image, keep_rows: int, samples: int | None = None
                     ) -> tuple[np.ndarray, int]:
    """Everything that can be refused before completing: the model, the image (and
    whether the model can read it), the cut, and the memory for ``samples`` copies of
    the image. Returns the image as an array (not copied) and the rows to keep.

    The widget and the CLI call this up front, before adding a layer or training."""
    check_model(model)
    spec = model.data
    image, _ = check_image(image, model=spec)
    shape = check_fit(image, spec, any_width(model))
    keep = check_keep_rows(keep_rows, shape.height)
    copies = samples or 1
    slices, per_row_values = image.size // (shape.height * shape.width * shape.channels), \
        shape.width * shape.channels
    check_fits(completion_bytes(slices * copies, shape.height, per_row_values,
                                model.value_model.params)
               + image.size * (12 + copies) + image.nbytes * copies,
               f"Completing {slices} slice(s) x {copies} sample(s) of {shape.height} rows x "
               f"{per_row_values} values",
               "Complete a crop, fewer slices or fewer samples at a time.")
    return image, keep


def complete_rows(model: GenModel, image, keep_rows: int, *, sample: bool | None = None,
                  temperature: float = 1.0, seed: int | None = None,
                  samples: int | None = None
                  ) -> Generator[GeneratedRow, None, np.ndarray | Completions]:
    """Generate rows ``keep_rows..H-1`` of every slice, yielding each new row.

    Returns the completed image (``StopIteration.value``): the input's shape and dtype,
    rows ``< keep_rows`` bit-for-bit the input's; with ``samples=N``, :class:`Completions`.
    The input is never modified.
    """
    how = CompletionConfig(sample=sample, temperature=temperature, seed=seed,
                           samples=samples)
    image, keep = check_completion(model, image, keep_rows, how.samples)
    sample, samples, copies = how.draws, how.samples, how.samples or 1
    temperature = float(how.temperature)
    spec = model.data
    shape = geometry(image, spec.rgb)
    height, axis = shape.height, shape.row_axis
    # a Row LSTM reads rows of any width; the dense family has a weight per column
    rows = torch.from_numpy(to_rows(image, spec, any_width=any_width(model)))
    slices, per_row_values = rows.shape[0], rows.shape[-1]
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else torch.seed())
    completed = np.repeat(image[None], copies, axis=0)  # (copies, *image.shape)
    by_row = np.moveaxis(completed, axis + 1, 1)  # a view: by_row[:, i] is row i of all
    row_shape = (copies,) + image.shape[:axis] + image.shape[axis + 1:]

    steps = model.to_steps(rows).repeat(copies, 1, 1).to(device)  # sample-major batch
    per_row = model.steps_per_row()
    nats = torch.zeros(steps.shape[0], dtype=torch.float64, device=device)

    draw = Drawing(model.value_model, sample, temperature, generator)

    was_training = model.training
    model.eval()  # generation must use the running statistics, never batch statistics
    # no_grad wraps each computation, never a yield: grad mode is per thread, and a
    # generator suspended inside no_grad would switch gradients off for its caller.
    try:
        draw_step = _draw_step(model, draw)
        context = many_to_many(model, steps, keep * per_row) \
            if model.config.mode == "many-to-many" else _many_to_one(model, steps, keep * per_row)
        with torch.no_grad():
            h = next(context)  # what the model knows before the first generated step
        for index in range(keep, height):
            parts = []
            for part in range(per_row):  # one step per row, or per pixel in pixel mode
                with torch.no_grad():
                    new, params = draw_step(h)
                    if samples is not None:  # only Completions report likelihoods
                        nats += model.value_model.nll(params, new).double().sum(-1)
                    parts.append(new)
                    if index + 1 < height or part + 1 < per_row:
                        h = context.send(new)  # feed the generated values back in
            new_row = parts[0] if per_row == 1 else torch.cat(parts, dim=-1)
            values = from_rows(new_row.cpu().numpy(), spec, row_shape, image.dtype)
            by_row[:, index] = values
            yield GeneratedRow(index, height, values if samples else values[0])
    finally:
        model.train(was_training)
    if samples is None:
        return completed[0]
    per_sample = nats.reshape(copies, -1).sum(1) / (slices * (height - keep) * per_row_values)
    return Completions(completed, per_sample.cpu().numpy())


def _draw_step(model, draw):
    """For one completion: ``step(h)``, the next step's values from the RNN output ``h``
    (M, hidden), and the parameters each value was drawn from."""
    if model.autoregressive:  # left to right: each value sees those drawn before it
        return model.row_sampler(draw)

    def step(h):
        params = model.head(h)
        return draw(params), params

    return step


def many_to_many(model, steps, keep):
    """Read the kept steps once, then one RNN step per generated step, carrying the state."""
    out, state = model.run(steps[:, :keep])
    h = out[:, -1]
    # the dense step's tensors are prepared once per completion; it computes model.step
    step = FastStep(model) if isinstance(model, GenModel) else model.step
    while True:
        new = yield h
        h, state = step(new, state)


def _many_to_one(model, steps, keep):
    """A sliding window over the last ``context`` steps, generated ones included."""
    steps = steps.clone()  # generated steps are written here, never into the caller's data
    slices = torch.arange(steps.shape[0], device=steps.device)
    index = keep
    while True:
        targets = torch.full_like(slices, index)
        new = yield model.window(windows_before(steps, slices, targets, model.config.context))
        steps[:, index] = new
        index += 1


def complete(model: GenModel, image, keep_rows: int, *, sample: bool | None = None,
             temperature: float = 1.0, seed: int | None = None,
             samples: int | None = None) -> np.ndarray | Completions:
    """Complete an image: keep its top ``keep_rows`` rows and generate the rest.

    Parameters
    ----------
    model : GenModel
        A model from :func:`train` or :func:`load_model`, trained on images of this width.
    image : numpy.ndarray
        ``(*stack, H, W[, C])``; every slice is completed (as one batch).
    keep_rows : int
        Rows ``0..keep_rows-1`` are kept bit-for-bit; ``1 <= keep_rows < H``.
    sample : bool, optional
        False (the default without ``samples``): each value is the most probable one
        (binary, levels) or the median (continuous), so the result is deterministic.
        True (the default with ``samples``): values are drawn.
    temperature : float
        Scales the randomness of draws (0 = deterministic).
    seed : int, optional
        Seed for draws; same seed, same completion(s).
    samples : int, optional
        Draw this many completions at once (one batch) and score each.

    Returns
    -------
    numpy.ndarray or Completions
        The completed image, same shape and dtype as ``image``; with ``samples=N``, a
        :class:`Completions`: ``images`` ``(N, *image.shape)`` and each one's
        ``bits_per_dim`` under the model, ``ranked()`` to sort them.
    """
    return run_to_end(complete_rows(model, image, keep_rows, sample=sample,
                                    temperature=temperature, seed=seed, samples=samples))
