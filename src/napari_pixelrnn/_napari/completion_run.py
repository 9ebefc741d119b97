"""A completion seen from the dock: checked up front, run in a worker, its rows written
into a new layer as they are made, then ranked and scored.

The run reads the form into a :class:`~napari_pixelrnn.core.CompletionConfig` on the GUI
thread and hands the worker only that config, a copy of the image and the model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QObject

from ..core import GeneratedRow, PixelRNNError, check_completion, geometry
from . import texts
from .completion_layer import CompletionLayer
from .jobs import Completed, Failed, completion
from .redraw import COMPLETION_FRAME_MS, Redraw
from .settings import CompletionSettings
from .workers import Running, start_job


class CompletionRun(QObject):
    """One completion at a time, its layer in ``output``; the scores go to the ``result``
    label, a drift warning to the ``drift`` label. ``changed`` is called when it starts
    and when it ends, ``errored`` on an unexpected error in the worker.

    A QObject child of the dock (``parent``), for the reason
    :class:`~.training_run.TrainingRun` gives.
    """

    def __init__(self, viewer, running: Running, result, drift, *, parent: QObject,
                 changed: Callable[[], None], errored: Callable[[Exception], None]):
        super().__init__(parent)
        self.viewer, self.running = viewer, running
        self.result, self.drift = result, drift  # Labels
        self.changed, self.errored = changed, errored
        self.output: CompletionLayer | None = None  # of the latest completion
        self.redraw = Redraw(self._draw, COMPLETION_FRAME_MS, parent=self)

    @property
    def active(self) -> bool:
        return self.running.get("complete") is not None

    def start(self, layer, keep_rows: int, settings: CompletionSettings, model,
              model_info: dict) -> None:
        """Complete ``layer`` (None: no layer to complete, already said) below
        ``keep_rows`` with ``model``, as the completion form says."""
        if layer is None:
            return
        if model is None:
            show_error("No model yet: train one (Train) or load one (Load model…) first.")
            return
        if problem := texts.fit_problem(model, layer):
            show_error(problem)
            return
        how = settings.config()
        index = shown_slice(self.viewer, layer) if settings.current_slice else ()
        image = np.asarray(layer.data)[index]
        try:  # bad data, a bad cut or too little memory: refused before adding a layer
            # the layer holds an image per sample as well as the worker: twice the copies
            check_completion(model, image, keep_rows, samples=2 * (how.samples or 1))
        except PixelRNNError as exc:
            show_error(str(exc))
            return
        # Added above the cut guide, which stays: removing a layer makes napari run a full
        # garbage collection (0.3-0.5 s on the GUI thread with torch loaded).
        self.output = CompletionLayer(self.viewer, layer, index, keep_rows, how, model,
                                      model_info)
        self.result.value = "Completing…"
        self.show_drift(None)
        job = start_job(completion, model, np.array(image, copy=True), keep_rows, how,
                        connect={"yielded": self._on_row, "returned": self._on_returned,
                                 "errored": self.errored, "finished": self._on_finished})
        self.running.start("complete", job, self.output.total_rows, "Completing")
        self.changed()

    def cancel(self) -> bool:
        """Stop at the next row; the rows made so far stay. False if none runs."""
        if self.output is None or not self.running.quit("complete"):
            return False
        self.output.cancelled = True
        return True

    def layer_removed(self, removed) -> None:
        """The completion stops if its own layer goes (its input may go: it has a copy)."""
        output = self.output
        if output is not None and removed == output.layer and self.active:
            output.cancelled = True
            self.running.quit("complete")
            show_info(f"Completion stopped: its layer '{removed.name}' was removed.")

    def show_drift(self, text: str | None) -> None:
        self.drift.value = f"Warning: {text}" if text else ""
        self.drift.native.setVisible(bool(text))

    def _on_row(self, row: GeneratedRow) -> None:
        """Write one generated row into the new layer; it shows with the next frame."""
        if self.output is not None:
            self.output.write(row)
            self.redraw.request()

    def _draw(self) -> None:
        """One frame: the layer and the bar show the rows written since the last one."""
        if self.output is not None:
            self.output.show_rows()
            self.running.advance("complete", self.output.rows_done)

    def _on_returned(self, result: Completed | Failed | None) -> None:
        """Every row is made: rank, score and add the layers asked for (or say why not)."""
        output = self.output
        self.redraw.cancel()  # the layer is redrawn whole below, or when finished
        if output is None or result is None:  # cancelled
            return
        if isinstance(result, Failed):
            output.info["error"] = result.message
            self.result.value = f"Completion failed: {result.message}"
            show_error(result.message)
            return
        self.result.value = texts.describe_completion(result, output.info.get("train_on"))
        output.finish(result)
        self.show_drift(result.drift)
        if result.drift:
            show_warning(result.drift)

    def _on_finished(self) -> None:
        """Finished, cancelled or failed: free the buttons and draw the final rows."""
        self.redraw.cancel()
        self.running.done("complete")
        self.changed()
        output = self.output
        if output is not None:
            output.stopped()
            if output.cancelled:
                self.result.value = (f"Completion cancelled after {output.rows_done} of "
                                     f"{output.total_rows} rows.")


def shown_slice(viewer, layer) -> tuple[int, ...]:
    """The stack index of the slice of ``layer`` the viewer shows."""
    stack = geometry(layer.data, layer.rgb).stack
    coords = layer.world_to_data(viewer.dims.point)[:len(stack)]
    return tuple(int(np.clip(round(float(c)), 0, n - 1))
                 for c, n in zip(coords, stack, strict=True))
