"""What the widget's workers run: plain generators over numpy copies and settings.

No Qt and no napari here. The widget wraps these generators in napari's ``thread_worker``
(``worker.quit()`` stops them at the next ``yield``); a test or script can iterate them.
User errors come back as a :class:`Failed` return value rather than an exception, so
the widget can show them as a notification instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from .core import (
    Completions,
    GeneratedRow,
    GenModel,
    PixelRNNError,
    TrainConfig,
    TrainProgress,
    complete_rows,
    drift_warning,
    evaluate,
    train_steps,
    uncertainty,
)
from .core.device import torch_threads


# One torch thread in napari: on 2 cores a training step took 8 s with torch's default of
# 2 threads (they spin-wait against the GUI thread for a core) and 35 ms with one.
GUI_TORCH_THREADS = 1


@dataclass(frozen=True)
class Failed:
    """A job that ended on a user error; ``message`` is meant for the user."""

    message: str


@dataclass(frozen=True)
class CompletionRequest:
    """How to complete an image (read from the widget on the GUI thread)."""

    keep_rows: int  # rows 0..keep_rows-1 are kept, the rest generated
    samples: int = 1  # completions to draw, in one batch; > 1 draws values
    sample: bool = False  # draw values; False = the most probable value / the median
    temperature: float = 1.0  # randomness of draws (0 = deterministic)
    seed: int = 0  # seed of the whole batch of draws
    uncertainty: str | None = None  # "std" or "entropy" across samples (needs samples >= 2)
    mean: bool = False  # also the posterior mean of the samples (needs samples >= 2)

    @property
    def draws(self) -> bool:
        """Whether values are drawn: identical samples would be pointless."""
        return self.sample or self.samples > 1


@dataclass(frozen=True)
class Completed:
    """What a finished completion hands back to the widget."""

    scores: dict  # core.evaluate's metrics (the sampling loss)
    drift: str | None  # core.drift_warning's text, or None
    ranked: Completions | None = None  # the drawn completions, most probable first
    uncertainty: np.ndarray | None = None  # per value, across the samples
    mean: np.ndarray | None = None  # the posterior mean of the samples (Completions.mean)


def warm_up_torch() -> None:
    """Run one tiny training step, so what torch loads lazily on first use (the first
    optimizer imports torch._dynamo and sympy: about 1.5 s here) is loaded when the dock
    opens. Imports hold the GIL: inside the first real training they froze the GUI for
    up to 0.4 s at a time."""
    for _ in train_steps(np.zeros((3, 2), np.float32),
                         TrainConfig(architecture="dense", steps=1, hidden_size=1)):
        pass


def training(images: list[np.ndarray], config: TrainConfig
             ) -> Generator[TrainProgress, None, Failed | None]:
    """Train on ``images`` (copies the caller gave away), yielding after every step."""
    try:
        yield from train_steps(images, config)
    except PixelRNNError as exc:
        return Failed(str(exc))
    return None


def completion(model: GenModel, image: np.ndarray, request: CompletionRequest
               ) -> Generator[GeneratedRow, None, Completed | Failed]:
    """Generate the masked rows (every sample at once), then score the model on them.

    Every yielded row's ``values`` has a leading sample axis. Evaluation (which
    generates its own deterministic completion when values were drawn) and the
    uncertainty map run here too, off the GUI thread.
    """
    try:
        with torch_threads(GUI_TORCH_THREADS):
            done = yield from _generate(model, image, request)
            ranked = done.ranked() if isinstance(done, Completions) else None
            # A deterministic completion is the one the sampling loss scores: reuse it.
            scores = evaluate(model, image, request.keep_rows,
                              completed=None if request.draws else done)
            spread = mean = None
            if request.uncertainty and ranked is not None and request.samples >= 2:
                spread = uncertainty(ranked.images, request.uncertainty)
            if request.mean and ranked is not None and request.samples >= 2:
                mean = ranked.mean()
            return Completed(scores, drift_warning(scores), ranked, spread, mean)
    except PixelRNNError as exc:
        return Failed(str(exc))


def _generate(model: GenModel, image: np.ndarray, request: CompletionRequest):
    """One batch for all samples: yield each row, return the core's result (the
    completed image, or the drawn :class:`Completions`)."""
    rows = complete_rows(model, image, request.keep_rows, sample=request.draws,
                         temperature=request.temperature, seed=request.seed,
                         samples=request.samples if request.draws else None)
    try:
        while True:
            try:
                row = next(rows)
            except StopIteration as done:
                return done.value
            # the same (sample, *stack, W[, C]) layout whether one image or many
            yield row if request.draws else GeneratedRow(row.index, row.total, row.values[None])
    finally:
        rows.close()  # stopped early: the core's clean-up runs now, in this thread
