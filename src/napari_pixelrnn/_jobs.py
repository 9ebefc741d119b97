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
    GeneratedRow,
    GenModel,
    PixelRNNError,
    TrainConfig,
    TrainProgress,
    complete_rows,
    evaluate,
    train_steps,
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
    samples: int = 1  # completions to draw; > 1 draws values (each with its own seed)
    sample: bool = False  # draw values; False = the most probable value / the median
    temperature: float = 1.0  # randomness of draws (0 = deterministic)
    seed: int = 0  # sample i uses seed + i

    @property
    def draws(self) -> bool:
        """Whether values are drawn: identical samples would be pointless."""
        return self.sample or self.samples > 1


@dataclass(frozen=True)
class SampleRow:
    """One generated row of one sample."""

    sample: int  # 0..samples-1
    row: GeneratedRow


def warm_up_torch() -> None:
    """Run one tiny training step, so what torch loads lazily on first use (the first
    optimizer imports torch._dynamo and sympy: about 1.5 s here) is loaded when the dock
    opens. Imports hold the GIL: inside the first real training they froze the GUI for
    up to 0.4 s at a time."""
    for _ in train_steps(np.zeros((3, 2), np.float32), TrainConfig(steps=1, hidden_size=1)):
        pass


def training(image: np.ndarray, config: TrainConfig
             ) -> Generator[TrainProgress, None, Failed | None]:
    """Train on ``image`` (a copy the caller gave away), yielding after every step."""
    try:
        yield from train_steps(image, config)
    except PixelRNNError as exc:
        return Failed(str(exc))
    return None


def completion(model: GenModel, image: np.ndarray, request: CompletionRequest
               ) -> Generator[SampleRow, None, dict | Failed]:
    """Generate the masked rows of every sample, then score the model on them.

    Returns :func:`napari_pixelrnn.core.evaluate`'s metrics (the sampling loss). When
    values were drawn, evaluation generates its own deterministic completion, so it
    belongs in the worker too.
    """
    try:
        with torch_threads(GUI_TORCH_THREADS):
            completed = yield from _generate(model, image, request)
            # A deterministic completion is the one the sampling loss scores: reuse it.
            return evaluate(model, image, request.keep_rows,
                            completed=None if request.draws else completed)
    except PixelRNNError as exc:
        return Failed(str(exc))


def _generate(model: GenModel, image: np.ndarray, request: CompletionRequest):
    """Yield every sample's rows; return the last sample's completed image."""
    completed = None
    for index in range(request.samples):
        rows = complete_rows(model, image, request.keep_rows, sample=request.draws,
                             temperature=request.temperature, seed=request.seed + index)
        while True:
            try:
                row = next(rows)
            except StopIteration as done:
                completed = done.value
                break
            yield SampleRow(index, row)
    return completed
