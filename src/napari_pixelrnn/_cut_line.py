"""The cut guide: a Shapes layer with a line at the cut and a tint over the masked rows.

It exists only while a cut is being chosen; :meth:`CutGuide.hide` removes the layer.
"""

from __future__ import annotations

import contextlib

import numpy as np

GUIDE_NAME = "pixelrnn cut"
LINE_COLOR = "#ffd21f"
MASK_COLOR = [0.19, 0.5, 1.0, 0.35]  # a translucent blue: "these rows will be generated"


@contextlib.contextmanager
def keep_selection(viewer):
    """Adding a layer selects it; restore the user's selection afterwards."""
    selection = viewer.layers.selection
    before, active = set(selection), selection.active
    try:
        yield
    finally:
        selection.clear()
        selection.update(layer for layer in before if layer in viewer.layers)
        if active is not None and active in viewer.layers:
            selection.active = active


class CutGuide:
    """Shows where an image layer is cut: rows ``>= keep_rows`` are masked."""

    def __init__(self, viewer):
        self.viewer = viewer
        self.layer = None  # the Shapes layer while shown

    @property
    def shown(self) -> bool:
        return self.layer is not None and self.layer in self.viewer.layers

    def show(self, image_layer, keep_rows: int) -> None:
        """Draw (or move) the guide over ``image_layer`` with the cut after ``keep_rows``."""
        height, width = _height_width(image_layer)
        cut = keep_rows - 0.5  # pixel centres are at integers; the cut lies between rows
        line = np.array([[cut, -0.5], [cut, width - 0.5]])
        mask = np.array([[cut, -0.5], [cut, width - 0.5], [height - 0.5, width - 0.5],
                         [height - 0.5, -0.5]])
        scale, translate = image_layer.scale[-2:], image_layer.translate[-2:]
        if self.shown:
            self.layer.data = [line, mask]
            self.layer.scale, self.layer.translate = scale, translate
            self.layer.edge_width = [_line_width(height), 0]
            return
        with keep_selection(self.viewer):
            self.layer = self.viewer.add_shapes(
                [line, mask], shape_type=["line", "rectangle"], name=GUIDE_NAME,
                edge_color=[LINE_COLOR, "transparent"], face_color=["transparent", MASK_COLOR],
                edge_width=[_line_width(height), 0], scale=scale, translate=translate,
            )

    def hide(self) -> None:
        """Remove the guide layer, if it is still in the viewer."""
        layer, self.layer = self.layer, None
        if layer is not None and layer in self.viewer.layers:
            self.viewer.layers.remove(layer)

    def cut_row(self) -> float | None:
        """Where the line is drawn, in data rows (for tests and scripts)."""
        return float(self.layer.data[0][0, 0]) if self.shown else None


def _height_width(image_layer) -> tuple[int, int]:
    shape = image_layer.data.shape
    if image_layer.rgb:
        shape = shape[:-1]
    return int(shape[-2]), int(shape[-1])


def _line_width(height: int) -> float:
    return max(1.0, height / 128)
