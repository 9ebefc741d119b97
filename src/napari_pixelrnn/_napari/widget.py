"""The "Train and complete" dock widget: pick an image layer and a cut, train, complete.

The widget lays out the forms and buttons and wires them; a training run
(:mod:`.training_run`) and a completion run (:mod:`.completion_run`) read the forms into
the core's configs on the GUI thread and hand a worker only those, numpy copies and the
model; the workers run the generators of :mod:`.jobs`, so the GUI thread never waits.
"""

from __future__ import annotations

from pathlib import Path

import napari
from magicgui.widgets import CheckBox, Container, Label, PushButton, RadioButtons
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget
from superqt import QCollapsible

from ..core import geometry
from . import model_files, texts
from .completion_run import CompletionRun
from .cut import CutPicker
from .jobs import warm_up_torch
from .loss_plot import LossPlot
from .settings import CompletionSettings, ModelSettings
from .training_run import TrainingRun
from .workers import Running


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
        self._bars = {"train": QProgressBar(), "complete": QProgressBar()}  # under buttons
        self._running = Running(self._bars)  # the jobs in flight, by kind
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
        self.training_run = TrainingRun(
            self._running, self.loss_plot, self.train_status, parent=self,
            adopt=self._adopt, changed=self._sync_buttons, errored=self._on_error)
        self.completion_run = CompletionRun(
            viewer, self._running, self.result, self.drift, parent=self,
            changed=self._sync_buttons, errored=self._on_error)

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
        for widget in (self.train_button.native, self._bars["train"], self.loss_plot,
                       self.train_status.native, QLabel("<b>Completion</b>"),
                       self.completion.native, self.complete_button.native,
                       self._bars["complete"], self.result.native, self.drift.native):
            layout.addWidget(widget)
        for bar in self._bars.values():
            # Shown while its job runs, its space kept while hidden: a layout change
            # resizes napari's canvas, a full redraw (~0.2 s under software OpenGL).
            policy = bar.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            bar.setSizePolicy(policy)
            bar.setVisible(False)
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
        return self.training_run.active

    @property
    def is_completing(self) -> bool:
        return self.completion_run.active

    @property
    def completed_layer(self):
        """The layer of the latest completion (None before the first)."""
        output = self.completion_run.output
        return output.layer if output is not None else None

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
        if event.value == self._guide.layer:
            self._guide.layer = None
        self.completion_run.layer_removed(event.value)

    # -- jobs ----------------------------------------------------------------------------

    def _on_train_clicked(self, *_) -> None:
        """The Train button is Stop while training runs."""
        self.stop() if self.is_training else self.train()

    def train(self) -> None:
        """Start training a new model on the picked layer (in a worker thread)."""
        if not self._busy("train"):
            keep = self.keep_rows.value if self.train_on.value == "above" else None
            self.training_run.start(self.cut.training_layers(self.train_all.value), keep,
                                    self.settings, self.model)

    def stop(self) -> None:
        """Stop training at the next step; the model trained so far is kept."""
        if not self.training_run.stop():
            show_info("Nothing to stop: no training is running.")

    def _adopt(self, model, info: dict) -> None:
        """A training run's first step: its model is now the dock's."""
        self.model, self.model_info = model, info

    def _on_complete_clicked(self, *_) -> None:
        """The Complete button is Cancel while a completion runs."""
        self.cancel() if self.is_completing else self.complete()

    def complete(self) -> None:
        """Add a new "<name> completed" layer and fill its masked rows as they are made."""
        if not self._busy("complete"):
            self.completion_run.start(self.cut.picked(), self.keep_rows.value,
                                      self.completion, self.model, self.model_info)

    def cancel(self) -> None:
        """Stop a completion at the next row; the rows made so far stay in the layer."""
        if not self.completion_run.cancel():
            show_info("Nothing to cancel: no completion is running.")

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
        saved = model_files.save(self.model, path) if path else None
        if saved is not None:  # said here, not in a notification (see model_files)
            self.train_status.value = texts.with_saved(self.train_status.value, saved)
        return saved

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
        self.train_status.value = texts.describe_loaded(model, Path(path).name)
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
