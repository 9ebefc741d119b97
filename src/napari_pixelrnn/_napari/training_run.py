"""A training run seen from the dock: started from the picked layers and the model form,
run in a worker, shown step by step on the loss plot and the status line.

The run reads the form into a :class:`~napari_pixelrnn.core.TrainConfig` on the GUI
thread and hands the worker only that config and copies of the images (see ``jobs``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np
from napari.utils.notifications import show_error
from qtpy.QtCore import QObject

from ..core import PixelRNNError, TrainProgress
from . import texts
from .jobs import Failed, training
from .loss_plot import LossPlot
from .redraw import TRAINING_FRAME_MS, Redraw
from .settings import ModelSettings
from .workers import Running, start_job


class TrainingRun(QObject):
    """One training at a time: its model is handed to ``adopt`` after its first step, so
    a stopped run leaves the model trained so far; ``changed`` is called when it starts
    and when it ends, ``errored`` on an unexpected error in the worker.

    A QObject child of the dock (``parent``): when the dock is destroyed, Qt drops the
    worker's connections to this run, which would otherwise still write to its labels.
    """

    def __init__(self, running: Running, plot: LossPlot, status, *, parent: QObject,
                 adopt: Callable[[object, dict], None], changed: Callable[[], None],
                 errored: Callable[[Exception], None]):
        super().__init__(parent)
        self.running, self.plot, self.status = running, plot, status  # status: a Label
        self.adopt, self.changed, self.errored = adopt, changed, errored
        self.model = None  # the dock's model: the one before this run, then this run's
        self.info: dict = {}  # how this run's model is made (the dock keeps it with it)
        self.last_step: TrainProgress | None = None
        self.redraw = Redraw(self._draw, TRAINING_FRAME_MS, parent=self)

    def start(self, layers: list | None, keep_rows: int | None, settings: ModelSettings,
              model) -> None:
        """Train a new model on ``layers`` (the picked one first; None: nothing to train
        on, already said), on their rows above ``keep_rows`` (None: every row)."""
        if layers is None:
            return
        # The worker owns its copies; the core checks they share width, channels, dtype.
        images = [np.array(each.data, copy=True) for each in layers]
        names = [each.name for each in layers]
        try:
            config = settings.train_config(keep_rows, rgb=bool(layers[0].rgb))
            config.check(images)  # bad data or settings are refused before any work
        except PixelRNNError as exc:
            show_error(str(exc))
            return
        above = keep_rows is not None
        self.model, self.last_step = model, None
        self.info = {"training": asdict(config), "trained_on_layer": names[0],
                     "trained_on_layers": names,
                     "train_on": "rows above the cut" if above else "whole image"}
        self.plot.reset(config.altered_rows())
        job = start_job(training, images, config, connect={
            "yielded": self._on_step, "returned": self._on_returned,
            "errored": self.errored, "finished": self._on_finished})
        what = f"rows 0-{config.keep_rows - 1}" if above else "all rows"
        self.status.value = f"Training on {texts.quoted(names)} ({what})…"
        self.running.start("train", job, config.resolved().steps, "Training")
        self.changed()

    @property
    def active(self) -> bool:
        return self.running.get("train") is not None

    def stop(self) -> bool:
        """Ask the run to stop at the next step; False if none runs."""
        return self.running.quit("train")

    def _on_step(self, update: TrainProgress) -> None:
        """One optimizer step done: keep its model, record its losses for the next frame."""
        if update.model is not self.model:  # the first step of this run: hand its model over
            self.model = update.model
            self.adopt(update.model, self.info)
        self.last_step = update
        self.info["steps_done"] = update.step  # also when stopped early
        if update.best_step is not None:
            self.info["best_step"] = update.best_step
            if update.best_step == 0 and update.step == 1:  # a pretrained start's score
                self.plot.add_validation(0, update.best_bits_per_dim)
        self.plot.add(update.step, update.loss_bits_per_dim, update.validation_bits_per_dim)
        self.redraw.request()

    def _draw(self) -> None:
        """One frame: the plot, the status line and the bar show the latest step."""
        if self.last_step is not None:
            self.plot.draw()
            self.status.value = texts.step_text(self.last_step, self._validation_text())
            self.running.advance("train", self.last_step.step)

    def _validation_text(self) -> str:
        return texts.validation_text(self.plot.validation_points(), self.info.get("best_step"))

    def _on_returned(self, result: Failed | None) -> None:
        """Training ran to its end, or stopped on a user error (shown as a notification)."""
        if isinstance(result, Failed):
            show_error(result.message)

    def _on_finished(self) -> None:
        """Finished, stopped or failed: free the buttons and say what we have."""
        job = self.running.get("train")
        self.redraw.cancel()
        self.plot.draw()  # every step, also those that came after the last frame
        self.running.done("train")
        self.changed()
        self.status.value = texts.training_ended(
            self.model, self.info, self.plot.points(), self.last_step,
            job is not None and job.stop_requested, self._validation_text())
