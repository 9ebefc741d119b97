"""The live loss plot (pyqtgraph): the training loss and the validation loss."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from qtpy.QtWidgets import QVBoxLayout, QWidget

# Both curves are mean negative log-likelihoods per value in bits (the core's
# TrainProgress.loss_bits_per_dim and validation_bits_per_dim).
LOSS_UNITS = "bits/dim"


class LossPlot(QWidget):
    """Loss per training step, and the validation loss on the steps that measured it;
    :meth:`add` records one step, :meth:`draw` shows what was recorded (a training run
    draws a few times a second: each redraw costs tens of ms on the GUI thread).

    :meth:`draw` fits the view to the points itself, not with pyqtgraph's auto range:
    that fits the view while painting and then paints again, two repaints of the window
    a frame (the longest of a frame's pauses 78-98 ms here, 56 ms fitted before the
    paint). Once the user pans or zooms the plot, it stops following until the next
    run or pyqtgraph's auto-range button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._plot = pg.PlotWidget(background=None)
        self._plot.setMinimumHeight(140)
        self._plot.setLabel("bottom", "step")
        self._plot.setLabel("left", f"loss ({LOSS_UNITS})")
        self._plot.getAxis("left").enableAutoSIPrefix(False)  # no "(x0.001)" on the units
        self._plot.showGrid(x=True, y=True, alpha=0.2)
        self._plot.addLegend(offset=(-10, 10))  # top right
        self._curve = self._plot.plot(pen=pg.mkPen("#ffa31a", width=2), name="training")
        self._validation_curve = self._plot.plot(
            pen=pg.mkPen("#3daee9", width=2), symbol="o", symbolSize=5,
            symbolBrush="#3daee9", name="validation")
        self._view = self._plot.getViewBox()
        self._view.disableAutoRange()
        self._view.sigRangeChangedManually.connect(self._stop_following)
        self._following = True  # draw() fits the view to the points
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._steps: list[int] = []
        self._losses: list[float] = []
        self._validation_steps: list[int] = []
        self._validation_losses: list[float] = []

    def reset(self, altered_rows: str | None = None) -> None:
        """Clear the plot for a new run; ``altered_rows``: how that run alters the rows
        it reads (see TrainConfig.altered_rows), said in the training curve's name."""
        name = "training" if altered_rows is None else f"training (rows read: {altered_rows})"
        self._curve.opts["name"] = name
        self._plot.getPlotItem().legend.getLabel(self._curve).setText(name)
        for points in (self._steps, self._losses, self._validation_steps,
                       self._validation_losses):
            points.clear()
        self._curve.setData([], [])
        self._validation_curve.setData([], [])
        self._following = True

    def add(self, step: int, loss: float, validation: float | None = None) -> None:
        """Record one step's training loss, and its validation loss if it was measured."""
        self._steps.append(step)
        self._losses.append(loss)
        if validation is not None:
            self._validation_steps.append(step)
            self._validation_losses.append(validation)

    def add_validation(self, step: int, validation: float) -> None:
        """Record a validation loss measured before any training step (a pretrained
        start's, at step 0)."""
        self._validation_steps.append(step)
        self._validation_losses.append(validation)

    def draw(self) -> None:
        """Show every recorded step."""
        self._curve.setData(self._steps, self._losses)
        self._validation_curve.setData(self._validation_steps, self._validation_losses)
        if any(self._view.autoRangeEnabled()):  # the user pressed the auto-range button
            self._following = True
        if self._following and (view := self.fitted_view()) is not None:
            self._view.setRange(xRange=view[0], yRange=view[1], padding=0.05)
            self._view.updateMatrix()  # now, not while painting (it would paint again)

    def fitted_view(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The (step, loss) ranges that hold every finite point; None before any."""
        losses = np.array(self._losses + self._validation_losses, dtype=float)
        losses = losses[np.isfinite(losses)]
        if not losses.size:
            return None
        return _span(self._steps[0], self._steps[-1]), _span(losses.min(), losses.max())

    def _stop_following(self, *_) -> None:
        self._following = False

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The plotted training (steps, losses)."""
        return np.array(self._steps), np.array(self._losses)

    def validation_points(self) -> tuple[np.ndarray, np.ndarray]:
        """The plotted validation (steps, losses)."""
        return np.array(self._validation_steps), np.array(self._validation_losses)

    def curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What pyqtgraph draws, by legend name (for tests)."""
        return {curve.name(): tuple(np.asarray(a) for a in curve.getData())
                for curve in (self._curve, self._validation_curve)}

    def shown_range(self) -> list[list[float]]:
        """The [[step, step], [loss, loss]] ranges the plot shows (for tests)."""
        return self._view.viewRange()

    def axis_label(self) -> str:
        return self._plot.getAxis("left").labelText


def _span(low: float, high: float) -> tuple[float, float]:
    """``(low, high)``, half a unit either side of a single value."""
    low, high = float(low), float(high)
    return (low - 0.5, high + 0.5) if low == high else (low, high)
