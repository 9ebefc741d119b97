"""What the widget's workers run: plain generators over numpy copies and core configs.

No Qt and no napari here. The widget runs these generators in napari's workers; ``stop``
(a function the generator polls after every item) ends them at the next step or row,
closing the core's generator in the worker thread. A test or script can iterate them.
User errors come back as a :class:`Failed` return value rather than an exception, so
the widget can show them as a notification instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np

from ..core import (
    CompletionConfig,
    Completions,
    GeneratedRow,
    GenModel,
    PixelRNNError,
    TrainConfig,
    TrainProgress,
    complete_rows,
    drift_warning,
    evaluate,
    run_to_end,
    train_steps,
    uncertainty,
    until,
)
from ..core.device import torch_threads

# One torch thread in napari: on 2 cores a training step took 8 s with torch's default of
# 2 threads (they spin-wait against the GUI thread for a core) and 35 ms with one.
GUI_TORCH_THREADS = 1


@dataclass(frozen=True)
class Failed:
    """A job that ended on a user error; ``message`` is meant for the user."""

    message: str


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
    optimizer imports torch._dynamo and sympy: about 1.5 s here) is loaded before the
    first real training. The widget runs it in a worker when the dock opens: imports
    hold the GIL, so inside the first real training they froze the GUI for up to 0.4 s."""
    run_to_end(train_steps(np.zeros((3, 2), np.float32),
                           TrainConfig(architecture="dense", steps=1, hidden_size=1)))


def training(images: list[np.ndarray], config: TrainConfig,
             stop: Callable[[], bool] | None = None
             ) -> Generator[TrainProgress, None, Failed | None]:
    """Train on ``images`` (copies the caller gave away), yielding after every step."""
    try:
        yield from until(train_steps(images, config), stop)
    except PixelRNNError as exc:
        return Failed(str(exc))
    return None


def completion(model: GenModel, image: np.ndarray, keep_rows: int, how: CompletionConfig,
               stop: Callable[[], bool] | None = None
               ) -> Generator[GeneratedRow, None, Completed | Failed | None]:
    """Generate the masked rows (every sample at once), then score the model on them;
    None when stopped.

    Every yielded row's ``values`` has a leading sample axis. Evaluation (which
    generates its own deterministic completion when values were drawn) and the
    uncertainty map run here too, off the GUI thread.
    """
    try:
        with torch_threads(GUI_TORCH_THREADS):
            rows = until(complete_rows(model, image, keep_rows, **how.sampler_settings()),
                         stop)
            done = yield from _with_sample_axis(rows, how.draws)
            if done is None:
                return None
            ranked = done.ranked() if isinstance(done, Completions) else None
            # A deterministic completion is the one the sampling loss scores: reuse it.
            scores = evaluate(model, image, keep_rows,
                              completed=None if how.draws else done)
            spread = mean = None
            if how.uncertainty and ranked is not None and how.many:
                spread = uncertainty(ranked.images, how.uncertainty)
            if how.mean and ranked is not None and how.many:
                mean = ranked.mean()
            return Completed(scores, drift_warning(scores), ranked, spread, mean)
    except PixelRNNError as exc:
        return Failed(str(exc))


def _with_sample_axis(rows, drawn: bool):
    """The same (sample, *stack, W[, C]) layout whether one image or many were made."""
    if drawn:
        return (yield from rows)
    result = None

    def each():
        nonlocal result
        result = yield from rows

    for row in each():
        yield GeneratedRow(row.index, row.total, row.values[None])
    return result
