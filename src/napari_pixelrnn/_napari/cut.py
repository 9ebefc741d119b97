"""Choosing the cut: the layer picker and row slider (:class:`CutPicker`, which also says
which layers a job may read) and the guide, a Shapes layer with a line at the cut and a
tint over the masked rows (:class:`CutGuide`).

The guide lives as long as the dock shows a cut (a layer that can be cut is picked);
:meth:`CutGuide.hide` removes it when none is, or when the dock closes. A completion does
not remove it: its layer is added above the guide and covers it (removing a layer makes
napari run a full garbage collection on the GUI thread, 0.3-0.5 s with torch loaded), and
moving the cut brings the guide back on top.
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
            layers = self.viewer.layers  # on top again, e.g. over a completion since
            layers.move(layers.index(self.layer), len(layers))  # (no-op if it is)
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
    from ..core import geometry

    shape = geometry(image_layer.data, bool(image_layer.rgb))
    return shape.height, shape.width


def _line_width(height: int) -> float:
    return max(1.0, height / 128)


class CutPicker:
    """The image layer picker, the cut slider bounded by the layer's height, and the
    guide that shows the cut. ``alive`` raises once the owning widget is gone (napari
    then disconnects the callback that raised)."""

    def __init__(self, viewer, alive=lambda: None):
        from magicgui.widgets import ComboBox, Slider

        self.viewer, self.guide, self._alive = viewer, CutGuide(viewer), alive
        self.layer_combo = ComboBox(label="Image layer", choices=self.image_layers,
                                    tooltip="The image to learn from and complete.")
        self.keep_rows = Slider(label="Rows to keep", min=1, max=1, value=1, enabled=False,
                                tooltip="Rows above the cut are kept; the rows below it are "
                                        "masked and generated.")
        self.min_keep = 1  # 2 when training on the rows above: it needs two rows
        self.closed = False
        self._watched = None  # the picked layer, whose data changes we follow
        self.layer_combo.changed.connect(self.on_layer_changed)
        self.keep_rows.changed.connect(self.show_guide)

    @property
    def layer(self):
        return self.layer_combo.value

    @property
    def usable(self) -> bool:
        """Whether the picked layer can be cut: single resolution, 2 rows or more."""
        layer = self.layer
        return layer is not None and not layer.multiscale and _height(layer) >= 2

    def picked(self):
        """The picked layer if a job can read it; None, said, if not."""
        from napari.utils.notifications import show_error

        layer = self.layer
        if layer is None or layer not in self.viewer.layers:
            show_error("No image layer: open an image (or File > Open Sample > "
                       "napari-pixelrnn) and pick it in 'Image layer'.")
            return None
        if layer.multiscale:
            show_error(f"Layer '{layer.name}' is multiscale; pick a single-resolution image.")
            return None
        return layer

    def training_layers(self, also_selected: bool) -> list | None:
        """The picked layer, then (``also_selected``) the other selected image layers;
        None, said, if one cannot be read."""
        from napari.layers import Image
        from napari.utils.notifications import show_error

        from .texts import quoted

        picked = self.picked()
        if picked is None or not also_selected:
            return None if picked is None else [picked]
        layers = self.viewer.layers
        others = [layer for layer in layers
                  if layer in layers.selection and isinstance(layer, Image) and layer != picked]
        if multiscale := [layer.name for layer in others if layer.multiscale]:
            show_error(f"Layer(s) {quoted(multiscale)} are multiscale; deselect them "
                       "or pick single-resolution images to train on.")
            return None
        return [picked, *others]

    def image_layers(self, _widget=None) -> list:
        from napari.layers import Image

        return [(layer.name, layer) for layer in self.viewer.layers
                if isinstance(layer, Image)]

    def reset_choices(self) -> None:
        """Refresh the layer picker; follow a new pick (e.g. when the last one went)."""
        self.layer_combo.reset_choices()
        if self.layer != self._watched:
            self.on_layer_changed()

    def on_layer_changed(self, *_) -> None:
        """A new layer is picked: bound the slider by its height, move the guide."""
        if self.closed:
            return
        self._watch(self.layer)
        self.keep_rows.enabled = self.usable
        if not self.usable:
            self.guide.hide()
            return
        height = _height(self.layer)
        with self.keep_rows.changed.blocked():
            self.keep_rows.min = min(self.min_keep, height - 1)
            self.keep_rows.max = height - 1
            self.keep_rows.value = max(height // 2, self.keep_rows.min)
        self.show_guide()

    def set_min_keep(self, rows: int) -> None:
        """The fewest rows the slider offers (2 to train on the rows above the cut)."""
        self.min_keep = rows
        if self.usable:
            with self.keep_rows.changed.blocked():
                self.keep_rows.min = min(rows, _height(self.layer) - 1)
            self.show_guide()

    def _watch(self, layer) -> None:
        """Follow the picked layer's data, so the slider stays within its height."""
        if self._watched is not None:
            self._watched.events.data.disconnect(self._on_layer_data)
        self._watched = layer
        if layer is not None:
            layer.events.data.connect(self._on_layer_data)

    def _on_layer_data(self, *_) -> None:
        """The picked layer got new data: re-bound the slider if its height changed."""
        self._alive()
        if not self.closed and self.usable and self.keep_rows.max != _height(self.layer) - 1:
            self.on_layer_changed()

    def show_guide(self, *_) -> None:
        """Draw the cut where the slider says."""
        if not self.closed and self.layer is not None and self.keep_rows.enabled:
            self.guide.show(self.layer, self.keep_rows.value)

    def close(self) -> None:
        self.closed = True
        self.guide.hide()
        self._watch(None)


def _height(layer) -> int:
    from ..core import geometry

    return geometry(layer.data, bool(layer.rgb)).height
