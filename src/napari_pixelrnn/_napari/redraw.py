"""Redraw at a frame rate, not once per update.

A worker yields a training step every few tens of ms and a generated row every few ms.
Under software OpenGL every repaint of napari's window costs 40-100 ms on the GUI thread
(the canvas, the loss plot and each label are composited together), so drawing on every
update kept the GUI thread busy and made ticks wait. The runs record each update at
once (cheap) and ask a :class:`Redraw` to draw; it draws what is new at most every
``interval_ms``, so several updates share one frame.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QObject, QTimer

TRAINING_FRAME_MS = 250  # the loss plot, the status line and the bar: 4 frames a second
COMPLETION_FRAME_MS = 200  # the live layer: 5 frames a second, a few rows each


class Redraw(QObject):
    """Calls ``draw`` once, ``interval_ms`` after the first :meth:`request` since the last
    draw; :meth:`flush` draws what is pending now (e.g. when a job ends), :meth:`cancel`
    drops it. A QObject child of ``parent``: its timer dies with it."""

    def __init__(self, draw: Callable[[], None], interval_ms: int, parent: QObject):
        super().__init__(parent)
        self._draw = draw
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    @property
    def pending(self) -> bool:
        return self._pending

    def request(self) -> None:
        """Something changed: draw it with the next frame."""
        self._pending = True
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Draw now what is pending (nothing if nothing is)."""
        self._timer.stop()
        self._fire()

    def cancel(self) -> None:
        self._timer.stop()
        self._pending = False

    def _fire(self) -> None:
        if self._pending:
            self._pending = False
            self._draw()
