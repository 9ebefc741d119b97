"""The "Train and complete" dock widget: pick an image layer and a cut, train, complete.

Every callback reads the forms into the core's configs on the GUI thread and hands a
worker only those, numpy copies and the model; the workers run the generators of
:mod:`.jobs`, so the GUI thread never waits for them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import CheckBox, Container, Label, PushButton, RadioButtons
from napari.layers import Image
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget
from superqt import QCollapsible

from ..core import GeneratedRow, PixelRNNError, TrainProgress, check_completion, geometry
from . import model_files, texts
from .completion_layer import CompletionLayer
from .cut import CutPicker
from .jobs import Completed, Failed, completion, training, warm_up_torch
from .loss_plot import LossPlot
from .settings import CompletionSettings, ModelSettings
from .workers import Running, start_job


class PixelRNNWidget(QWidget):
    """Train a row RNN on an image layer and complete the rows below a cut."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        # napari hands plugins a proxy of the viewer, and layers that come back from it
        # (add_image, add_shapes) are proxies too: compare layers with ==, never `is`.
        self.viewer = viewer
        self.model = None  # the GenModel, once trained or loaded
        self.model_info: dict = {}  # how the model was made (stored with completions)
        self.ask_save_path = model_files.ask_save_path  # replaceable, e.g. by tests
        self.ask_open_path = model_files.ask_open_path
        self._running = Running()
        self._output: CompletionLayer | None = None
        self._pending_info: dict = {}
        self._last_step: TrainProgress | None = None  # of the latest training run
        self._closed = False

        self.cut = CutPicker(viewer, alive=self.objectName)
        self.layer_combo, self.keep_rows, self._guide = \
            self.cut.layer_combo, self.cut.keep_rows, self.cut.guide
        self.train_on = RadioButtons(label="Train on", value="above", choices=[
            ("rows above the cut", "above"), ("whole image (reconstruction demo)", "whole")])
        self.train_all = CheckBox(
            label="Train on all selected layers", value=False,
            tooltip="Also learn from the other image layers selected in the layer list "
                    "(same width, channels and dtype; the same cut row applies to each). "
                    "Completion still uses the picked layer.")
        self.settings = ModelSettings()
        self.train_button = PushButton(text="Train")
        self.loss_plot = LossPlot()
        self.train_status = Label(value="No model yet.")
        self.completion = CompletionSettings()
        self.complete_button = PushButton(text="Complete")
        self.result = Label(value="")
        self.drift = Label(value="")  # core.drift_warning's text, shown only when it warns
        self.save_button = PushButton(text="Save model…")
        self.load_button = PushButton(text="Load model…")
        self._layout()

        self.layer_combo.changed.connect(self._on_layer_changed)
        self.train_on.changed.connect(self._on_train_on)
        self.train_button.changed.connect(self._on_train_clicked)
        self.complete_button.changed.connect(self._on_complete_clicked)
        self.save_button.changed.connect(lambda: self.save_model())
        self.load_button.changed.connect(lambda: self.load_model())
        events = viewer.layers.events
        self._connections = [(events.inserted, self.reset_choices),
                             (events.removed, self.reset_choices),
                             (events.renamed, self.reset_choices),
                             (events.removed, self._on_layer_removed)]
        for emitter, callback in self._connections:
            emitter.connect(callback)
        # The viewer closing destroys this widget without a close event: stop the workers.
        self.destroyed.connect(self._running.stop_all)
        self._on_train_on()
        self.reset_choices()
        self._on_layer_changed()
        create_worker(warm_up_torch, _start_thread=True)  # off the GUI thread

    def _layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(Container(widgets=[self.layer_combo, self.keep_rows, self.train_on,
                                            self.train_all]).native)
        layout.addWidget(QLabel("<b>Model</b>"))
        layout.addWidget(self.settings.basic.native)
        advanced = QCollapsible("Advanced settings", self)
        advanced.addWidget(self.settings.advanced.native)
        layout.addWidget(advanced)
        for widget in (self.train_button.native, self.loss_plot, self.train_status.native,
                       QLabel("<b>Completion</b>"), self.completion.native,
                       self.complete_button.native, self.result.native, self.drift.native):
            layout.addWidget(widget)
        layout.addWidget(Container(widgets=[self.save_button, self.load_button],
                                   layout="horizontal", labels=False).native)
        layout.addStretch(1)
        self.drift.native.setStyleSheet("color: #e8a33d")  # a warning, not an error
        self.drift.native.setVisible(False)
        for label in (self.train_status, self.result, self.drift):
            label.native.setWordWrap(True)
            # Take the dock's full width rather than QLabel's "nice" wrapping width.
            label.native.setSizePolicy(QSizePolicy.Policy.Ignored,
                                       QSizePolicy.Policy.Preferred)

    @property
    def is_training(self) -> bool:
        return self._running.get("train") is not None

    @property
    def is_completing(self) -> bool:
        return self._running.get("complete") is not None

    @property
    def completed_layer(self):
        """The layer of the latest completion (None before the first)."""
        return self._output.layer if self._output is not None else None

    # -- layers and the cut ------------------------------------------------------------

    def reset_choices(self, *_) -> None:
        """Refresh the layer picker (napari also calls this when layers change)."""
        self.objectName()  # raises once the Qt object is gone: napari then disconnects us
        if not self._closed:
            self.cut.reset_choices()

    def _on_layer_changed(self, *_) -> None:
        """Completing one slice is offered for stacks only."""
        layer, slices = self.layer_combo.value, self.completion.slices
        slices.enabled = self.cut.usable and geometry(layer.data, layer.rgb).row_axis > 0
        slices.tooltip = ("Complete every slice of the stack, or only the one shown."
                          if slices.enabled else "Only for stacks.")

    def _on_train_on(self, *_) -> None:
        """Training on the rows above the cut needs 2 of them: the slider says so."""
        self.cut.set_min_keep(2 if self.train_on.value == "above" else 1)

    def _on_layer_removed(self, event) -> None:
        """Completion stops if its layer goes; training goes on (it owns a copy)."""
        self.objectName()
        removed, output = event.value, self._output
        if removed == self._guide.layer:
            self._guide.layer = None
        if output is not None and removed == output.layer and self.is_completing:
            output.cancelled = True
            self._running.quit("complete")
            show_info(f"Completion stopped: its layer '{removed.name}' was removed.")

    # -- training ------------------------------------------------------------------------

    def _on_train_clicked(self, *_) -> None:
        """The Train button is Stop while training runs."""
        self.stop() if self.is_training else self.train()

    def train(self) -> None:
        """Start training a new model on the picked layer (in a worker thread)."""
        if self._busy("train"):
            return
        layer = self._picked_layer()
        layers = self._training_layers(layer) if layer is not None else None
        if layers is None:
            return
        above = self.train_on.value == "above"
        # The worker owns its copies; the core checks they share width, channels, dtype.
        images = [np.array(each.data, copy=True) for each in layers]
        names = [each.name for each in layers]
        try:
            config = self.settings.train_config(self.keep_rows.value if above else None,
                                                rgb=bool(layer.rgb))
            config.check(images)  # bad data or settings are refused before any work
        except PixelRNNError as exc:
            show_error(str(exc))
            return
        self._pending_info = {"training": asdict(config), "trained_on_layer": layer.name,
                              "trained_on_layers": names,
                              "train_on": "rows above the cut" if above else "whole image"}
        self.loss_plot.reset()
        job = start_job(training, images, config, connect={
            "yielded": self._on_train_step, "returned": self._on_train_returned,
            "errored": self._on_error, "finished": self._on_train_finished})
        what = f"rows 0-{config.keep_rows - 1}" if above else "all rows"
        self.train_status.value = f"Training on {texts.quoted(names)} ({what})…"
        self._running.start("train", job, config.resolved().steps, "Training")
        self._sync_buttons()

    def stop(self) -> None:
        """Stop training at the next step; the model trained so far is kept."""
        if not self._running.quit("train"):
            show_info("Nothing to stop: no training is running.")

    def _on_train_step(self, update: TrainProgress) -> None:
        """One optimizer step done: keep its model, plot its losses."""
        if update.model is not self.model:  # the first step of a new run: adopt its model
            self.model, self.model_info = update.model, self._pending_info
        self._last_step = update
        self.model_info["steps_done"] = update.step  # also when stopped early
        if update.best_step is not None:
            self.model_info["best_step"] = update.best_step
        self.loss_plot.add(update.step, update.loss_bits_per_dim,
                           update.validation_bits_per_dim)
        self.train_status.value = texts.step_text(update, self._validation_text())
        self._running.advance("train", update.step)

    def _validation_text(self) -> str:
        return texts.validation_text(self.loss_plot.validation_points(),
                                     self.model_info.get("best_step"))

    def _on_train_returned(self, result) -> None:
        """Training ran to its end, or stopped on a user error (shown as a notification)."""
        if isinstance(result, Failed):
            show_error(result.message)

    def _on_train_finished(self) -> None:
        """Finished, stopped or failed: free the buttons and say what we have."""
        job = self._running.get("train")
        self._running.done("train")
        self._sync_buttons()
        self.train_status.value = texts.training_ended(
            self.model, self.model_info, self.loss_plot.points(), self._last_step,
            job is not None and job.stop_requested, self._validation_text())

    # -- completion ----------------------------------------------------------------------

    def _on_complete_clicked(self, *_) -> None:
        """The Complete button is Cancel while a completion runs."""
        self.cancel() if self.is_completing else self.complete()

    def complete(self) -> None:
        """Add a new "<name> completed" layer and fill its masked rows as they are made."""
        if self._busy("complete"):
            return
        layer = self._picked_layer()
        if layer is None:
            return
        if self.model is None:
            show_error("No model yet: train one (Train) or load one (Load model…) first.")
            return
        if problem := texts.fit_problem(self.model, layer):
            show_error(problem)
            return
        how, keep = self.completion.config(), self.keep_rows.value
        current = self.completion.slices.enabled and self.completion.slices.value == "current"
        index = self._slice_index(layer) if current else ()
        image = np.asarray(layer.data)[index]
        try:  # bad data, a bad cut or too little memory: refused before adding a layer
            # the layer holds an image per sample as well as the worker: twice the copies
            check_completion(self.model, image, keep, samples=2 * (how.samples or 1))
        except PixelRNNError as exc:
            show_error(str(exc))
            return
        self._output = CompletionLayer(self.viewer, layer, index, keep, how, self.model,
                                       self.model_info)
        self._guide.hide()  # the new layer now shows the cut
        self.result.value = "Completing…"
        self._show_drift(None)
        job = start_job(completion, self.model, np.array(image, copy=True), keep, how,
                        connect={"yielded": self._on_row,
                                 "returned": self._on_completion_returned,
                                 "errored": self._on_error,
                                 "finished": self._on_completion_finished})
        self._running.start("complete", job, self._output.total_rows, "Completing")
        self._sync_buttons()

    def cancel(self) -> None:
        """Stop a completion at the next row; the rows made so far stay in the layer."""
        if self._output is not None and self._running.quit("complete"):
            self._output.cancelled = True
        else:
            show_info("Nothing to cancel: no completion is running.")

    def _on_row(self, row: GeneratedRow) -> None:
        """Write one generated row into the new layer."""
        if self._output is not None:
            self._output.write(row)
            self._running.advance("complete", self._output.rows_done)

    def _on_completion_returned(self, result: Completed | Failed | None) -> None:
        """Every row is made: rank, score and add the layers asked for (or say why not)."""
        output = self._output
        if output is None or result is None:  # cancelled
            return
        if isinstance(result, Failed):
            output.info["error"] = result.message
            self.result.value = f"Completion failed: {result.message}"
            show_error(result.message)
            return
        self.result.value = texts.describe_completion(result, output.info.get("train_on"))
        output.finish(result)
        self._show_drift(result.drift)
        if result.drift:
            show_warning(result.drift)

    def _show_drift(self, text: str | None) -> None:
        self.drift.value = f"Warning: {text}" if text else ""
        self.drift.native.setVisible(bool(text))

    def _on_completion_finished(self) -> None:
        """Finished, cancelled or failed: free the buttons and draw the final rows."""
        self._running.done("complete")
        self._sync_buttons()
        output = self._output
        if output is not None:
            output.stopped()
            if output.cancelled:
                self.result.value = (f"Completion cancelled after {output.rows_done} of "
                                     f"{output.total_rows} rows.")

    def _on_error(self, exc: Exception) -> None:
        """An unexpected error in a worker: say so here too (napari shows the traceback);
        the finished handler then frees the buttons."""
        self.result.value = f"Unexpected error: {exc!r}. Details in napari's console."

    # -- models on disk ------------------------------------------------------------------

    def save_model(self, path: str | Path | None = None) -> Path | None:
        """Save the current model (asks for a file unless ``path`` is given)."""
        if self.model is None:
            show_error("No model to save: train one or load one first.")
            return None
        if self.is_training:
            show_info("Training is running: stop it or wait for it before saving.")
            return None
        path = path or self.ask_save_path(self)
        return model_files.save(self.model, path) if path else None

    def load_model(self, path: str | Path | None = None) -> bool:
        """Load a model (asks for a file unless ``path`` is given); refuse one that does
        not fit the picked layer."""
        if self.is_training or self.is_completing:
            show_info("Wait for training or completion to end before loading a model.")
            return False
        path = path or self.ask_open_path(self)
        model = model_files.load(path, self.layer_combo.value) if path else None
        if model is None:
            return False
        self.model, self.model_info = model, {"checkpoint": str(path)}
        self.loss_plot.reset()
        self.train_status.value = f"Loaded {Path(path).name}. {texts.describe(model)}"
        return True

    # -- helpers -------------------------------------------------------------------------

    def _busy(self, kind: str) -> bool:
        """Whether a job runs (one at a time); says which."""
        if self.is_training:
            show_info("Training is already running; press Stop to end it." if kind == "train"
                      else "Training is running: stop it or wait for it before completing.")
        elif self.is_completing:
            show_info("A completion is already running; press Cancel to stop it."
                      if kind == "complete" else
                      "A completion is running: wait for it or cancel it before training.")
        return self.is_training or self.is_completing

    def _picked_layer(self):
        layer = self.layer_combo.value
        if layer is None or layer not in self.viewer.layers:
            show_error("No image layer: open an image (or File > Open Sample > "
                       "napari-pixelrnn) and pick it in 'Image layer'.")
            return None
        if layer.multiscale:
            show_error(f"Layer '{layer.name}' is multiscale; pick a single-resolution image.")
            return None
        return layer

    def _training_layers(self, picked) -> list | None:
        """The picked layer, then (when asked) the other selected image layers."""
        if not self.train_all.value:
            return [picked]
        others = [layer for layer in self.viewer.layers
                  if layer in self.viewer.layers.selection and isinstance(layer, Image)
                  and layer != picked]
        if multiscale := [layer.name for layer in others if layer.multiscale]:
            show_error(f"Layer(s) {texts.quoted(multiscale)} are multiscale; deselect them "
                       "or pick single-resolution images to train on.")
            return None
        return [picked, *others]

    def _slice_index(self, layer) -> tuple[int, ...]:
        """The stack index of the slice the viewer shows."""
        stack = geometry(layer.data, layer.rgb).stack
        coords = layer.world_to_data(self.viewer.dims.point)[:len(stack)]
        return tuple(int(np.clip(round(float(c)), 0, n - 1))
                     for c, n in zip(coords, stack, strict=True))

    def _sync_buttons(self) -> None:
        """One job at a time: the other job's button and the model buttons wait."""
        training, completing = self.is_training, self.is_completing
        self.train_button.text = "Stop" if training else "Train"
        self.complete_button.text = "Cancel" if completing else "Complete"
        self.train_button.enabled = not completing
        self.complete_button.enabled = not training
        self.save_button.enabled = self.load_button.enabled = not (training or completing)

    def closeEvent(self, event) -> None:
        self._teardown()
        super().closeEvent(event)

    def event(self, event) -> bool:
        # napari's dock close button takes this widget out of its dock (parent -> None).
        if event.type() == QEvent.Type.ParentChange and self.parent() is None:
            self._teardown()
        return super().event(event)

    def _teardown(self) -> None:
        """Stop workers, remove the guide and stop listening to the viewer."""
        if self._closed:
            return
        self._closed = True
        self._running.stop_all()
        self.cut.close()
        for emitter, callback in self._connections:
            emitter.disconnect(callback)
