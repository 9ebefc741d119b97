"""The live training-loss plot (pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from qtpy.QtWidgets import QVBoxLayout, QWidget

LOSS_UNITS = "nats/value"  # the core's teacher-forced loss is a mean NLL in nats per value


class LossPlot(QWidget):
    """Loss per training step; :meth:`add` appends one point."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._plot = pg.PlotWidget(background=None)
        self._plot.setMinimumHeight(140)
        self._plot.setLabel("bottom", "step")
        self._plot.setLabel("left", f"loss ({LOSS_UNITS})")
        self._plot.getAxis("left").enableAutoSIPrefix(False)  # no "(x0.001)" on the units
        self._plot.showGrid(x=True, y=True, alpha=0.2)
        self._curve = self._plot.plot(pen=pg.mkPen("#ffa31a", width=2))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._steps: list[int] = []
        self._losses: list[float] = []

    def reset(self) -> None:
        self._steps.clear()
        self._losses.clear()
        self._curve.setData([], [])

    def add(self, step: int, loss: float) -> None:
        self._steps.append(step)
        self._losses.append(loss)
        self._curve.setData(self._steps, self._losses)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The plotted (steps, losses)."""
        return np.array(self._steps), np.array(self._losses)
