"""Redraws at a frame rate: updates share frames, and the last frame shows everything."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QObject

from napari_pixelrnn._napari.completion_layer import CompletionLayer
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
