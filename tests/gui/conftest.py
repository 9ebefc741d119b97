"""Fixtures for the GUI tests: a viewer with the dock widget, tiny settings, and a
record of napari notifications."""

from __future__ import annotations

import time

import pytest
from napari.utils.notifications import NotificationSeverity, notification_manager

from napari_pixelrnn._napari.widget import PixelRNNWidget

PLUGIN, WIDGET = "napari-pixelrnn", "Train and complete"
WAIT_MS = 60_000  # generous: the test machine may be shared


class Notes:
    """napari notifications shown during a test, by severity."""

    def __init__(self):
        self.records: list = []

    def __call__(self, notification):
        self.records.append(notification)

    def of(self, severity) -> list[str]:
        return [str(n.message) for n in self.records if n.severity == severity]

    @property
    def errors(self) -> list[str]:
        return self.of(NotificationSeverity.ERROR)

    @property
    def infos(self) -> list[str]:
        return self.of(NotificationSeverity.INFO)


@pytest.fixture
def notes():
    """Every napari notification shown during the test (tests assert on them)."""
    record = Notes()
    notification_manager.notification_ready.connect(record)
    yield record
    notification_manager.notification_ready.disconnect(record)


@pytest.fixture
def open_widget(make_napari_viewer, qtbot):
    """``open_widget(*samples)``: a viewer with those samples opened through the manifest
    and the dock widget added through it, set to train a tiny network quickly."""

    def factory(*samples: str):
        viewer = make_napari_viewer()
        for key in samples:
            viewer.open_sample(PLUGIN, key)
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, WIDGET)
        assert isinstance(widget, PixelRNNWidget)
        tiny(widget)
        return viewer, widget

    return factory


@pytest.fixture
def slow_rows(monkeypatch):
    """Slow generation to ~20 rows a second in the worker: the samples of a completion
    are drawn in one batch, so even 64 of them finish too soon to cancel mid-way."""
    import napari_pixelrnn._napari.completion_run as run_module

    real = run_module.completion

    def slow(*args):
        generator = real(*args)
        try:
            while True:
                try:
                    row = next(generator)
                except StopIteration as done:
                    return done.value
                time.sleep(0.05)
                yield row
        finally:
            generator.close()

    monkeypatch.setattr(run_module, "completion", slow)


def tiny(widget: PixelRNNWidget, steps: int = 8, architecture: str = "dense") -> None:
    """A small, quick network. Dense by default: most GUI tests were written for the lab
    note's model (cells, modes, pixel steps); tests of the Row LSTM pick it."""
    s = widget.settings
    s.architecture.value = architecture
    s.hidden_size.value = 32 if architecture == "dense" else 8
    s.steps.value = steps
    if architecture == "dense":
        s.cell.value = "lstm"


def wait_idle(qtbot, widget: PixelRNNWidget, timeout: int = WAIT_MS) -> None:
    """Wait until no training or completion runs (their finished handlers have run)."""
    qtbot.waitUntil(lambda: not widget.is_training and not widget.is_completing,
                    timeout=timeout)


def train(qtbot, widget: PixelRNNWidget) -> None:
    widget.train_button.native.click()
    assert widget.is_training
    wait_idle(qtbot, widget)
    assert widget.model is not None


def complete(qtbot, widget: PixelRNNWidget):
    before = widget.completed_layer
    widget.complete_button.native.click()
    wait_idle(qtbot, widget)
    assert widget.completed_layer is not before
    return widget.completed_layer
