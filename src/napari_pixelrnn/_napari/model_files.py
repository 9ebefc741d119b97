"""Saving and loading models from the dock: the file dialogs and the user's messages.

A failure is a napari notification; a success is said in the dock's status line (the
widget writes it). napari's notification fades in over the canvas, and each step of the
fade repaints the canvas: 110-115 ms of GUI-thread CPU in the longest pause here with
three image layers, 33-38 ms without it.
"""

from __future__ import annotations

from pathlib import Path

from napari.utils.notifications import show_error
from qtpy.QtWidgets import QFileDialog, QWidget

from ..core import PixelRNNError, load_model, save_model
from .texts import fit_problem

MODEL_FILTER = "napari-pixelrnn model (*.pixelrnn *.safetensors);;All files (*)"
MODEL_SUFFIX = ".pixelrnn"  # what the CLI writes too; the file itself is safetensors


def ask_save_path(parent: QWidget) -> str | None:
    """Ask where to save a model (the widget calls this through ``widget.ask_save_path``)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save model", "", MODEL_FILTER)
    return path or None


def ask_open_path(parent: QWidget) -> str | None:
    """Ask which model to load (the widget calls this through ``widget.ask_open_path``)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load model", "", MODEL_FILTER)
    return path or None


def save(model, path) -> Path | None:
    """Save ``model`` (a suffix-less name gets ``.pixelrnn``); None, said, on failure."""
    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(MODEL_SUFFIX)
    try:
        saved = save_model(model, path)
    except (PixelRNNError, OSError) as exc:
        show_error(f"Could not save the model to {path}: {exc}")
        return None
    return saved


def load(path, layer):
    """The model in ``path`` if it can complete ``layer`` (when given); None, said, if not."""
    try:
        model = load_model(path)
    except PixelRNNError as exc:
        show_error(str(exc))
        return None
    if layer is not None and (problem := fit_problem(model, layer)):
        show_error(f"Model {Path(path).name} was not loaded. {problem}")
        return None
    return model
