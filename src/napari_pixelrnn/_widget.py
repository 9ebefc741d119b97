"""The "Train and complete" dock widget: pick an image layer and a cut, train, complete.

Every callback reads the forms into plain settings on the GUI thread and hands a worker
only those settings, numpy copies and the model; the workers run the generators of
``_jobs`` (which wrap ``napari_pixelrnn.core``), so the GUI thread never waits for them.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import napari
import numpy as np
from magicgui.widgets import (CheckBox, ComboBox, Container, Label, PushButton, RadioButtons,
                               Slider)
from napari.layers import Image
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils import progress
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QEvent
from qtpy.QtWidgets import QFileDialog, QLabel, QSizePolicy, QVBoxLayout, QWidget
from superqt import QCollapsible

from ._cut_line import CutGuide
from ._jobs import (Completed, CompletionRequest, Failed, completion, training,
                    warm_up_torch)
from ._loss_plot import LOSS_UNITS, LossPlot
from ._settings import CompletionSettings, ModelSettings
from .core import GeneratedRow, PixelRNNError, TrainProgress, load_model, save_model
from .core.data import check_image, check_keep_rows

MODEL_FILTER = "napari-pixelrnn model (*.pixelrnn *.safetensors);;All files (*)"
MODEL_SUFFIX = ".pixelrnn"  # what the CLI writes too; the file itself is safetensors
SHOWN_SAMPLE_SCORES = 8  # per-sample bits/dim listed in the dock (all are in the metadata)
REFRESH_EVERY_S = 0.04  # redraw a growing completion at most ~25 times a second
BAR_EVERY_S = 0.1  # and the progress bars at most ~10 times a second


def ask_save_path(parent: QWidget) -> str | None:
    """Ask where to save a model (the widget calls this through ``widget.ask_save_path``)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save model", "", MODEL_FILTER)
    return path or None


def ask_open_path(parent: QWidget) -> str | None:
    """Ask which model to load (the widget calls this through ``widget.ask_open_path``)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load model", "", MODEL_FILTER)
    return path or None


class _ClosingWorker(GeneratorWorker):
    """A generator worker that closes its generator when it stops (``quit()`` alone
    leaves it suspended), so the core's clean-up runs at once, in the worker thread:
    a stopped training leaves its model ready to generate."""

    def work(self):
        try:
            return super().work()
        finally:
            self._gen.close()


class _Running:
    """The workers and progress bars in flight, by kind ("train" or "complete").

    It holds no reference to the widget, so it can still stop everything when the
    widget's Qt object is destroyed (e.g. when the viewer closes).
    """

    def __init__(self):
        self.workers: dict = {}
        self.bars: dict = {}
        self._shown: dict = {}  # when each bar was last redrawn

    def start(self, kind: str, worker, total: int, desc: str) -> None:
        self.workers[kind] = worker  # first: napari's progress bar processes events
        self.bars[kind] = progress(total=total, desc=desc)
        self._shown[kind] = 0.0
        worker.start()

    def get(self, kind: str):
        return self.workers.get(kind)

    def advance(self, kind: str, count: int) -> None:
        """Show ``count`` units done, at most ~10 times a second.

        napari's progress bar processes Qt events while it redraws, so later worker
        signals can run inside this call: callers call it last.
        """
        bar, now = self.bars.get(kind), time.monotonic()
        if bar is not None and (now - self._shown[kind] > BAR_EVERY_S or count >= bar.total):
            self._shown[kind] = now
            bar.update(count - bar.n)

    def quit(self, kind: str) -> bool:
        """Ask a worker to stop at its next yield; False if none runs."""
        worker = self.workers.get(kind)
        if worker is None:
            return False
        worker.quit()
        return True

    def done(self, kind: str) -> None:
        self.workers.pop(kind, None)
        bar = self.bars.pop(kind, None)
        if bar is not None:
            bar.close()

    def stop_all(self, *_) -> None:
        for kind in list(self.workers):
            self.workers[kind].quit()
            self.done(kind)


class _Output:
    """The layer a completion fills in, and where each generated row goes."""

    def __init__(self, layer, array: np.ndarray, index: tuple, rgb: bool, total_rows: int,
                 source: dict):
        self.layer = layer
        self.array = array  # (samples, *input shape); the layer shows it (or its [0])
        self.index = index  # stack index of the completed slice; () = all slices
        self.rgb = rgb
        self.total_rows = total_rows  # rows to generate (each holds every sample)
        self.source = source  # the input layer's name, scale and translate
        self.rows_done = 0
        self.cancelled = False
        self.last_refresh = 0.0

    @property
    def region(self) -> np.ndarray:
        """The completed part of every sample: (samples, *completed image shape), a view."""
        return self.array[(slice(None), *self.index)]

    def write(self, row: GeneratedRow) -> None:
        """One new row of every sample (and slice): values (samples, *stack, W[, C])."""
        region = self.region
        axis = region.ndim - (3 if self.rgb else 2)
        np.moveaxis(region, axis, 0)[row.index] = row.values
        self.rows_done += 1


class PixelRNNWidget(QWidget):
    """Train a row RNN on an image layer and complete the rows below a cut."""

    def __init__(self, viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        warm_up_torch()
        # napari hands plugins a proxy of the viewer, and layers that come back from it
        # (add_image, add_shapes) are proxies too: compare layers with ==, never `is`.
        self.viewer = viewer
        self.model = None  # the GenModel, once trained or loaded
        self.model_info: dict = {}  # how the model was made (stored with completions)
        self.ask_save_path = ask_save_path  # replaceable, e.g. by tests
        self.ask_open_path = ask_open_path
        self._running = _Running()
        self._guide = CutGuide(viewer)
        self._output: _Output | None = None
        self._pending_info: dict = {}
        self._last_step: TrainProgress | None = None  # of the latest training run
        self._watched = None  # the picked layer, whose data changes we follow
        self._closed = False

        self.layer_combo = ComboBox(label="Image layer", choices=self._image_layers,
                                    tooltip="The image to learn from and complete.")
        self.keep_rows = Slider(label="Rows to keep", min=1, max=1, value=1, enabled=False,
                                tooltip="Rows above the cut are kept; the rows below it are "
                                        "masked and generated.")
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
        self._forms = [
            Container(widgets=[self.layer_combo, self.keep_rows, self.train_on,
                               self.train_all]),
            Container(widgets=[self.save_button, self.load_button], layout="horizontal",
                      labels=False),
        ]
        self._layout()

        self.layer_combo.changed.connect(self._on_layer_changed)
        self.keep_rows.changed.connect(self._show_guide)
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
        self.reset_choices()
        self._on_layer_changed()

    def _layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self._forms[0].native)
        layout.addWidget(_heading("Model"))
        layout.addWidget(self.settings.basic.native)
        advanced = QCollapsible("Advanced settings", self)
        advanced.addWidget(self.settings.advanced.native)
        layout.addWidget(advanced)
        layout.addWidget(self.train_button.native)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.train_status.native)
        layout.addWidget(_heading("Completion"))
        layout.addWidget(self.completion.native)
        layout.addWidget(self.complete_button.native)
        layout.addWidget(self.result.native)
        layout.addWidget(self.drift.native)
        layout.addWidget(self._forms[1].native)
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

    def _image_layers(self, _widget=None) -> list[tuple[str, Image]]:
        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image)]

    def reset_choices(self, *_) -> None:
        """Refresh the layer picker (napari also calls this when layers change)."""
        self.objectName()  # raises once the Qt object is gone: napari then disconnects us
        if not self._closed:
            self.layer_combo.reset_choices()
            if self.layer_combo.value != self._watched:  # e.g. the last one went
                self._on_layer_changed()

    def _on_layer_changed(self, *_) -> None:
        """A new layer is picked: bound the slider by its height, move the guide."""
        if self._closed:
            return
        layer = self.layer_combo.value
        self._watch(layer)
        usable = layer is not None and not layer.multiscale and _height(layer) >= 2
        self.keep_rows.enabled = usable
        self.completion.slices.enabled = usable and _stack_ndim(layer) > 0
        self.completion.slices.tooltip = (
            "Complete every slice of the stack, or only the one shown." if
            self.completion.slices.enabled else "Only for stacks.")
        if not usable:
            self._guide.hide()
            return
        height = _height(layer)
        with self.keep_rows.changed.blocked():
            self.keep_rows.max = height - 1
            self.keep_rows.value = height // 2
        self._show_guide()

    def _watch(self, layer) -> None:
        """Follow the picked layer's data, so the slider stays within its height."""
        if self._watched is not None:
            self._watched.events.data.disconnect(self._on_layer_data)
        self._watched = layer
        if layer is not None:
            layer.events.data.connect(self._on_layer_data)

    def _on_layer_data(self, *_) -> None:
        """The picked layer got new data: re-bound the slider if its height changed."""
        self.objectName()
        layer = self._watched
        if layer is not None and not self._closed and not layer.multiscale \
                and _height(layer) >= 2 and self.keep_rows.max != _height(layer) - 1:
            self._on_layer_changed()

    def _show_guide(self, *_) -> None:
        """Draw the cut where the slider says."""
        layer = self.layer_combo.value
        if not self._closed and layer is not None and self.keep_rows.enabled:
            self._guide.show(layer, self.keep_rows.value)

    def _on_layer_removed(self, event) -> None:
        """Completion stops if its layer goes; training goes on (it owns a copy)."""
        self.objectName()
        removed = event.value
        if removed == self._guide.layer:
            self._guide.layer = None
        output = self._output
        if output is not None and removed == output.layer and self._running.get("complete"):
            output.cancelled = True
            self._running.quit("complete")
            show_info(f"Completion stopped: its layer '{removed.name}' was removed.")

    # -- training ------------------------------------------------------------------------

    def _on_train_clicked(self, *_) -> None:
        """The Train button is Stop while training runs."""
        if self._running.get("train"):
            self.stop()
        else:
            self.train()

    def train(self) -> None:
        """Start training a new model on the picked layer (in a worker thread)."""
        if self._running.get("train"):
            show_info("Training is already running; press Stop to end it.")
            return
        if self._running.get("complete"):
            show_info("A completion is running: wait for it or cancel it before training.")
            return
        layer = self._picked_layer()
        keep = self._checked_keep_rows(layer) if layer is not None else None
        layers = self._training_layers(layer) if keep is not None else None
        if layers is None:
            return
        above = self.train_on.value == "above"
        config = self.settings.train_config(keep if above else None, rgb=bool(layer.rgb))
        # The worker owns its copies; the core checks they share width, channels, dtype.
        images = [np.array(each.data, copy=True) for each in layers]
        names = [each.name for each in layers]
        self._pending_info = {"training": asdict(config), "trained_on_layer": layer.name,
                              "trained_on_layers": names,
                              "train_on": "rows above the cut" if above else "whole image"}
        self.loss_plot.reset()
        worker = create_worker(training, images, config, _start_thread=False,
                               _worker_class=_ClosingWorker,
                               _connect={"yielded": self._on_train_step,
                                         "returned": self._on_train_returned,
                                         "errored": self._on_error,
                                         "finished": self._on_train_finished})
        what = f"rows 0-{keep - 1}" if above else "all rows"
        self.train_status.value = f"Training on {_quoted(names)} ({what})…"
        self._running.start("train", worker, config.steps, "Training")
        self._sync_buttons()

    def stop(self) -> None:
        """Stop training at the next step; the model trained so far is kept."""
        if not self._running.quit("train"):
            show_info("Nothing to stop: no training is running.")

    def _on_train_step(self, update: TrainProgress) -> None:
        """One optimizer step done: keep its model, plot its losses."""
        if update.model is not self.model:  # the first step of a new run: adopt its model
            self.model, self.model_info = update.model, self._pending_info
            self._last_step = None
        self._last_step = update
        self.model_info["steps_done"] = update.step  # also when stopped early
        if update.best_step is not None:
            self.model_info["best_step"] = update.best_step
        self.loss_plot.add(update.step, update.loss_bits_per_dim,
                           update.validation_bits_per_dim)
        self.train_status.value = (f"Step {update.step}/{update.steps}: loss "
                                   f"{update.loss_bits_per_dim:.4f} {LOSS_UNITS}"
                                   f"{self._validation_text()}")
        self._running.advance("train", update.step)

    def _validation_text(self) -> str:
        """The latest validation loss and the step whose weights are kept, if any."""
        steps, losses = self.loss_plot.validation_points()
        if not len(steps):
            return ""
        best = self.model_info.get("best_step")
        kept = f"; weights of step {best} kept" if best is not None else ""
        return f", validation {losses[-1]:.4f} {LOSS_UNITS} (step {steps[-1]}{kept})"

    def _on_train_returned(self, result) -> None:
        """Training ran to its end, or stopped on a user error (shown as a notification)."""
        if isinstance(result, Failed):
            show_error(result.message)

    def _on_train_finished(self) -> None:
        """Finished, stopped or failed: free the buttons and say what we have."""
        worker = self._running.get("train")
        self._running.done("train")
        self._sync_buttons()
        steps, losses = self.loss_plot.points()
        learned = f" Learned from {_quoted(self.model_info.get('trained_on_layers', []))}."
        if not len(steps):
            self.train_status.value = "Training ended before its first step. " + (
                _describe(self.model) if self.model is not None else "No model yet.")
        elif worker is not None and worker.abort_requested:
            best = self.model_info.get("best_step")
            kept = ("the model trained so far is kept" if best is None else
                    f"the weights of step {best}, the best on the validation rows, are kept")
            self.train_status.value = (
                f"Stopped at step {steps[-1]}; {kept} (last loss {losses[-1]:.4f} "
                f"{LOSS_UNITS}{self._validation_text()}). {_describe(self.model)}{learned}")
        else:
            last = self._last_step
            early = last is not None and last.step < last.steps
            what = (f"Stopped early at step {steps[-1]} of {last.steps}: the validation loss "
                    "stopped improving" if early else f"Trained {steps[-1]} steps")
            self.train_status.value = (
                f"{what}; last loss {losses[-1]:.4f} {LOSS_UNITS}{self._validation_text()}. "
                f"{_describe(self.model)}{learned}")

    # -- completion ----------------------------------------------------------------------

    def _on_complete_clicked(self, *_) -> None:
        """The Complete button is Cancel while a completion runs."""
        if self._running.get("complete"):
            self.cancel()
        else:
            self.complete()

    def complete(self) -> None:
        """Add a new "<name> completed" layer and fill its masked rows as they are made."""
        if self._running.get("complete"):
            show_info("A completion is already running; press Cancel to stop it.")
            return
        if self._running.get("train"):
            show_info("Training is running: stop it or wait for it before completing.")
            return
        layer = self._picked_layer()
        if layer is None:
            return
        if self.model is None:
            show_error("No model yet: train one (Train) or load one (Load model…) first.")
            return
        if problem := _fit_problem(self.model, layer):
            show_error(problem)
            return
        try:  # refuse bad data (NaN, ...) before adding a layer that would stay blank
            check_image(layer.data, model=self.model.data)
        except PixelRNNError as exc:
            show_error(str(exc))
            return
        keep = self._checked_keep_rows(layer)
        if keep is None:
            return
        request = self.completion.request(keep)
        data = np.asarray(layer.data)
        current = self.completion.slices.enabled and self.completion.slices.value == "current"
        index = self._slice_index(layer) if current else ()
        image = np.array(data[index], copy=True)  # the worker owns its copy
        self._output = self._add_output_layer(layer, data, index, request)
        self._guide.hide()  # the new layer now shows the cut
        self.result.value = "Completing…"
        self._show_drift(None)
        worker = create_worker(completion, self.model, image, request, _start_thread=False,
                               _worker_class=_ClosingWorker,
                               _connect={"yielded": self._on_row,
                                         "returned": self._on_completion_returned,
                                         "errored": self._on_error,
                                         "finished": self._on_completion_finished})
        self._running.start("complete", worker, self._output.total_rows, "Completing")
        self._sync_buttons()

    def cancel(self) -> None:
        """Stop a completion at the next row; the rows made so far stay in the layer."""
        if self._output is not None and self._running.quit("complete"):
            self._output.cancelled = True
        else:
            show_info("Nothing to cancel: no completion is running.")

    def _add_output_layer(self, layer, data: np.ndarray, index: tuple,
                          request: CompletionRequest) -> _Output:
        """A copy of the input (one per sample) with every masked row blanked."""
        rgb = bool(layer.rgb)
        array = np.repeat(data[None], request.samples, axis=0)
        axis = 1 + data.ndim - (3 if rgb else 2)
        np.moveaxis(array, axis, 0)[request.keep_rows:] = _blank(layer)
        scale, translate = list(layer.scale), list(layer.translate)
        if request.samples > 1:
            scale, translate = [1.0, *scale], [0.0, *translate]
        metadata = {"pixelrnn": {
            "source_layer": layer.name, "keep_rows": request.keep_rows,
            "completion": asdict(request) | {"draws": request.draws},
            "slices": "current" if index else "all", "slice_index": list(index) or None,
            "model": asdict(self.model.config), "data": self.model.data.to_dict(),
            **self.model_info, "finished": False,
        }}
        kwargs = {} if rgb else {"colormap": layer.colormap}
        new = self.viewer.add_image(
            array if request.samples > 1 else array[0], name=f"{layer.name} completed",
            rgb=rgb, scale=scale, translate=translate,
            contrast_limits=list(layer.contrast_limits), metadata=metadata, **kwargs)
        # Each yielded row holds that row of every sample and slice being completed.
        source = {"name": layer.name, "scale": list(layer.scale),
                  "translate": list(layer.translate)}
        return _Output(new, array, index, rgb, _height(layer) - request.keep_rows, source)

    def _on_row(self, row: GeneratedRow) -> None:
        """Write one generated row into the new layer; redraw it now and then."""
        output = self._output
        if output is None:
            return
        output.write(row)
        now = time.monotonic()
        if now - output.last_refresh > REFRESH_EVERY_S and output.layer in self.viewer.layers:
            output.last_refresh = now
            output.layer.refresh()
        self._running.advance("complete", output.rows_done)

    def _on_completion_returned(self, result: Completed | Failed) -> None:
        """Every row is made: rank the samples, show and store the losses, add the
        uncertainty layer (or show the user error)."""
        output = self._output
        if output is None:
            return
        info = output.layer.metadata.setdefault("pixelrnn", {})
        if isinstance(result, Failed):
            info["error"] = result.message
            self.result.value = f"Completion failed: {result.message}"
            show_error(result.message)
            return
        text = _describe_loss(result.scores, info.get("train_on"))
        if result.ranked is not None:  # most probable first, as the core ranks them
            output.region[...] = result.ranked.images
            bits = [float(b) for b in result.ranked.bits_per_dim]
            info["sample_bits_per_dim"] = bits
            shown = ", ".join(f"{b:.4f}" for b in bits[:SHOWN_SAMPLE_SCORES])
            more = f", … ({len(bits)} in all)" if len(bits) > SHOWN_SAMPLE_SCORES else ""
            text += (f"\nSample{'s, most probable first' if len(bits) > 1 else ''}: "
                     f"{shown}{more} bits/dim (NLL of the drawn values under the model).")
        info["sampling_loss"] = result.scores
        info["drift_warning"] = result.drift
        info["finished"] = True
        self.result.value = text
        if output.layer in self.viewer.layers:
            output.layer.refresh()
        if result.uncertainty is not None:
            self._add_uncertainty_layer(output, result.uncertainty)
        if result.mean is not None:
            self._add_mean_layer(output, result.mean)
        self._show_drift(result.drift)
        if result.drift:
            show_warning(result.drift)

    def _add_uncertainty_layer(self, output: _Output, spread: np.ndarray) -> None:
        """A new layer of how much the samples disagree, placed like the input."""
        kind = output.layer.metadata["pixelrnn"]["completion"]["uncertainty"]
        full = np.zeros(output.array.shape[1:], np.float32)  # slices not completed: 0
        full[output.index] = spread
        if output.rgb:  # one map for the pixel: napari shows floats as RGB only in [0, 1]
            full = full.mean(axis=-1)
        source = output.source
        self.viewer.add_image(
            full, name=f"{source['name']} uncertainty ({kind})", colormap="inferno",
            scale=source["scale"], translate=source["translate"],
            metadata={"pixelrnn": {
                "uncertainty": kind, "completed_layer": output.layer.name,
                "samples": output.array.shape[0],
                "units": "bits" if kind == "entropy" else "intensity (standard deviation)",
                "channels": "mean over colour channels" if output.rgb else None}})

    def _add_mean_layer(self, output: _Output, mean: np.ndarray) -> None:
        """A new layer of the samples' posterior mean, shown like the completion; slices
        not completed show what the completion layer shows there."""
        samples = output.array.shape[0]
        full = output.array[0].copy()
        full[output.index] = mean
        source, layer = output.source, output.layer
        kwargs = {} if output.rgb else {"colormap": layer.colormap}
        self.viewer.add_image(
            full, name=f"{source['name']} mean of {samples} draws", rgb=output.rgb,
            scale=source["scale"], translate=source["translate"],
            contrast_limits=list(layer.contrast_limits),
            metadata={"pixelrnn": {
                "posterior_mean_of": samples, "completed_layer": layer.name,
                "source_layer": source["name"],
                "keep_rows": layer.metadata["pixelrnn"]["keep_rows"]}}, **kwargs)

    def _show_drift(self, text: str | None) -> None:
        self.drift.value = f"Warning: {text}" if text else ""
        self.drift.native.setVisible(bool(text))

    def _on_completion_finished(self) -> None:
        """Finished, cancelled or failed: free the buttons and draw the final rows."""
        self._running.done("complete")
        self._sync_buttons()
        output = self._output
        if output is not None and output.cancelled:
            output.layer.metadata.setdefault("pixelrnn", {})["cancelled_after_rows"] = \
                output.rows_done
            self.result.value = (f"Completion cancelled after {output.rows_done} of "
                                 f"{output.total_rows} rows.")
        if output is not None and output.layer in self.viewer.layers:
            output.layer.refresh()

    def _on_error(self, exc: Exception) -> None:
        """Unexpected errors: napari already shows them; the finished handler resets us."""

    # -- models on disk ------------------------------------------------------------------

    def save_model(self, path: str | Path | None = None) -> Path | None:
        """Save the current model (asks for a file unless ``path`` is given)."""
        if self.model is None:
            show_error("No model to save: train one or load one first.")
            return None
        if self._running.get("train"):
            show_info("Training is running: stop it or wait for it before saving.")
            return None
        path = path or self.ask_save_path(self)
        if not path:
            return None
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(MODEL_SUFFIX)
        try:
            saved = save_model(self.model, path)
        except (PixelRNNError, OSError) as exc:
            show_error(f"Could not save the model to {path}: {exc}")
            return None
        show_info(f"Model saved to {saved}.")
        return saved

    def load_model(self, path: str | Path | None = None) -> bool:
        """Load a model (asks for a file unless ``path`` is given); refuse one that does
        not fit the picked layer."""
        if self._running.get("train") or self._running.get("complete"):
            show_info("Wait for training or completion to end before loading a model.")
            return False
        path = path or self.ask_open_path(self)
        if not path:
            return False
        try:
            model = load_model(path)
        except PixelRNNError as exc:
            show_error(str(exc))
            return False
        layer = self.layer_combo.value
        if layer is not None and (problem := _fit_problem(model, layer)):
            show_error(f"Model {Path(path).name} was not loaded. {problem}")
            return False
        self.model, self.model_info = model, {"checkpoint": str(path)}
        self.loss_plot.reset()
        self.train_status.value = f"Loaded {Path(path).name}. {_describe(model)}"
        show_info(f"Loaded model {Path(path).name}.")
        return True

    # -- helpers -------------------------------------------------------------------------

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
            show_error(f"Layer(s) {_quoted(multiscale)} are multiscale; deselect them or pick "
                       "single-resolution images to train on.")
            return None
        return [picked, *others]

    def _checked_keep_rows(self, layer) -> int | None:
        try:
            return check_keep_rows(self.keep_rows.value, _height(layer))
        except PixelRNNError as exc:
            show_error(str(exc))
            return None

    def _slice_index(self, layer) -> tuple[int, ...]:
        """The stack index of the slice the viewer shows."""
        stack = _stack_ndim(layer)
        coords = layer.world_to_data(self.viewer.dims.point)[:stack]
        return tuple(int(np.clip(round(float(c)), 0, n - 1))
                     for c, n in zip(coords, layer.data.shape[:stack], strict=True))

    def _sync_buttons(self) -> None:
        """One job at a time: the other job's button and the model buttons wait."""
        training = self._running.get("train") is not None
        completing = self._running.get("complete") is not None
        self.train_button.text = "Stop" if training else "Train"
        self.complete_button.text = "Cancel" if completing else "Complete"
        self.train_button.enabled = not completing
        self.complete_button.enabled = not training
        self.save_button.enabled = self.load_button.enabled = not (training or completing)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
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
        self._guide.hide()
        self._watch(None)
        for emitter, callback in self._connections:
            emitter.disconnect(callback)


def _heading(text: str) -> QLabel:
    return QLabel(f"<b>{text}</b>")


def _height(layer) -> int:
    return int(layer.data.shape[-3 if layer.rgb else -2])


def _stack_ndim(layer) -> int:
    """Axes before the rows: 0 for a plain image."""
    return layer.data.ndim - (3 if layer.rgb else 2)


def _blank(layer):
    """The value masked rows start as: the bottom of the layer's contrast range."""
    dtype = np.dtype(layer.dtype)
    low = float(layer.contrast_limits[0])
    if dtype.kind == "b":
        return False
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return dtype.type(np.clip(round(low), info.min, info.max))
    return dtype.type(low)


def _fit_problem(model, layer) -> str | None:
    """Why ``model`` cannot complete ``layer`` (width, channels), or None. A Row LSTM
    reads rows of any width: only its channels must match."""
    spec = model.data
    shape, rgb = layer.data.shape, bool(layer.rgb)
    width, channels = (shape[-2], shape[-1]) if rgb else (shape[-1], 1)
    if _architecture(model) == "row-lstm":
        if (channels, rgb) == (spec.channels, spec.rgb):
            return None
        return (f"The model was trained on images with {spec.channels} channel(s); layer "
                f"'{layer.name}' has {channels}. Pick a layer with the same channels, or "
                "train a new model on this one.")
    if (width, channels, rgb) == (spec.width, spec.channels, spec.rgb):
        return None
    return (f"The model was trained on images {spec.width} pixels wide with {spec.channels} "
            f"channel(s); layer '{layer.name}' is {width} pixels wide with {channels}. Pick a "
            "layer of the same width and channels, or train a new model on this one.")


def _quoted(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _architecture(model) -> str:
    return getattr(model, "architecture", "dense")


def _describe(model) -> str:
    c, spec = model.config, model.data
    values = {"levels": f"{c.levels} levels",
              "mixture": f"a mixture of {getattr(c, 'components', '?')} logistics"}.get(
        c.values, f"{c.values} values")
    if _architecture(model) == "row-lstm":
        return (f"Model: Row LSTM, {c.hidden_size} features per pixel x {c.num_layers} "
                f"layer(s), kernel {c.kernel}, {values}, left to right within a row; any "
                f"width (trained on images {spec.width} px wide).")
    order = {"autoregressive": ", left to right within a row"}.get(c.within_row, "")
    step = ", one pixel per step" if c.granularity == "pixel" else ""
    return (f"Model: dense {c.cell.upper()} {c.hidden_size}x{c.num_layers}, {c.mode}, "
            f"{values}{order}{step}, images {spec.width} px wide.")


def _describe_loss(metrics: dict, train_on: str | None) -> str:
    """Teacher-forced and free-running loss side by side, with their units."""
    m = metrics
    text = (f"Loss on the {m['masked_rows']} masked rows, bits/dim (mean NLL of the true "
            f"values, {m['alphabet']} possible values each): teacher-forced "
            f"{m['teacher_forced_bits_per_dim']:.4f} (true rows above) | free-running "
            f"{m['free_running_bits_per_dim']:.4f} (its own rows above). Over 8-bit "
            f"intensities: {m['teacher_forced_bits_per_dim_256']:.4f} | "
            f"{m['free_running_bits_per_dim_256']:.4f} bits/dim. Completion: PSNR "
            f"{m['free_running_psnr_db']:.2f} dB (MSE {m['free_running_mse']:.4g})")
    if "free_running_pixel_accuracy_pct" in m:
        text += f", pixel accuracy {m['free_running_pixel_accuracy_pct']:.1f} %"
    if train_on == "whole image":
        text += ". The model saw these rows in training"
    return text + "."
