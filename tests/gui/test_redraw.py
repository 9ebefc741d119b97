"""Redraws at a frame rate: updates share frames, and the last frame shows everything."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QObject

from napari_pixelrnn._napari.completion_layer import CompletionLayer
from napari_pixelrnn._napari.loss_plot import LossPlot
from napari_pixelrnn._napari.redraw import Redraw

from .conftest import complete, train


def test_updates_between_frames_share_one_draw(qtbot):
    owner, updates, drawn = QObject(), [], []
    redraw = Redraw(lambda: drawn.append(len(updates)), 50, parent=owner)
    for step in range(5):
        updates.append(step)
        redraw.request()
    assert drawn == []  # nothing is drawn inside a request
    qtbot.waitUntil(lambda: bool(drawn), timeout=5000)
    assert drawn == [5]  # five updates, one frame
    redraw.flush()
    assert drawn == [5]  # nothing was pending
    updates.append(5)
    redraw.request()
    redraw.flush()  # e.g. when a job ends: drawn at once
    assert drawn == [5, 6] and not redraw.pending
    redraw.request()
    redraw.cancel()
    qtbot.wait(150)
    assert drawn == [5, 6]


def test_the_live_layer_fills_in_a_few_rows_a_frame_and_ends_whole(
        open_widget, qtbot, notes, slow_rows, monkeypatch):
    viewer, widget = open_widget("horse")
    widget.keep_rows.value = 216  # 40 rows, about 20 a second (slow_rows)
    train(qtbot, widget)
    frames = []  # rows written when each frame was drawn
    show_rows = CompletionLayer.show_rows

    def spy(self):
        frames.append(self.rows_done)
        show_rows(self)

    monkeypatch.setattr(CompletionLayer, "show_rows", spy)
    out = complete(qtbot, widget)

    assert len(set(frames)) >= 2 and frames == sorted(frames)  # it filled in live ...
    assert len(frames) < 40  # ... several rows to a frame
    # The canvas and the layer list's thumbnail already show every row: a full refresh
    # now changes no pixel.
    shown = viewer.screenshot(canvas_only=True, flash=False)
    thumbnail = out.thumbnail.copy()
    out.refresh()
    np.testing.assert_array_equal(viewer.screenshot(canvas_only=True, flash=False), shown)
    np.testing.assert_array_equal(out.thumbnail, thumbnail)
    assert not notes.errors


def test_the_loss_plot_fits_its_points_until_the_user_moves_it(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.draw()  # nothing yet: nothing to fit
    for step in range(1, 21):
        plot.add(step, 3.0 - 0.1 * step, 2.5 if step == 10 else None)
    plot.add(21, float("inf"))  # a diverged step is drawn but not fitted
    plot.draw()
    (left, right), (bottom, top) = plot.shown_range()
    assert left < 1 and 21 < right < 23 and bottom < 1.0 and 2.9 < top < 3.2  # padded

    plot._view.setRange(xRange=(5, 8), yRange=(1, 2), padding=0)
    plot._view.sigRangeChangedManually.emit(plot._view.state["mouseEnabled"])  # a drag
    plot.add(22, 0.5)
    plot.draw()
    np.testing.assert_allclose(plot.shown_range(), [[5, 8], [1, 2]])  # left as moved
    plot.reset()  # a new run follows its points again
    plot.add(1, 4.0)
    plot.draw()
    (left, right), (bottom, top) = plot.shown_range()
    assert left < 1 < right and bottom < 4 < top
