"""The plugin through its manifest: sample data, the dock widget, the layer picker and
the cut guide."""

from __future__ import annotations

import numpy as np

from napari_pixelrnn._napari.cut import GUIDE_NAME
from napari_pixelrnn._napari.settings import BIDIRECTIONAL_WHY
from napari_pixelrnn.core import load_sample

from .conftest import PLUGIN

EXPECTED = {  # key: (shape, rgb)
    "horse": ((256, 256), False),
    "camera": ((128, 128), False),
    "astronaut": ((128, 128, 3), True),
    "brick_stack": ((4, 64, 64), False),
}


def test_every_sample_opens_through_the_manifest(make_napari_viewer):
    viewer = make_napari_viewer()
    for key, (shape, rgb) in EXPECTED.items():
        [layer] = viewer.open_sample(PLUGIN, key)
        assert layer.name == key
        assert layer.data.shape == shape
        assert layer.data.dtype == np.uint8
        assert layer.rgb is rgb
        np.testing.assert_array_equal(layer.data, load_sample(key))
    assert [layer.name for layer in viewer.layers] == list(EXPECTED)


def test_picker_lists_image_layers_and_follows_the_layer_list(open_widget):
    viewer, widget = open_widget("camera")
    camera = viewer.layers["camera"]
    viewer.add_labels(np.zeros((8, 8), dtype=np.uint8), name="labels")
    assert widget.layer_combo.choices == (camera,)  # no labels, no guide shapes

    [stack] = viewer.open_sample(PLUGIN, "brick_stack")
    assert widget.layer_combo.choices == (camera, stack)
    widget.layer_combo.value = stack
    assert (widget.keep_rows.min, widget.keep_rows.max) == (2, 63)
    assert widget.completion.slices.enabled

    viewer.layers.remove(stack)
    assert widget.layer_combo.choices == (camera,)
    assert widget.layer_combo.value is camera
    assert (widget.keep_rows.min, widget.keep_rows.max) == (2, 127)
    assert not widget.completion.slices.enabled  # a single image has no slices
    camera.data = camera.data[:50]  # new data, new height: the slider follows
    assert (widget.keep_rows.max, widget.keep_rows.value) == (49, 25)

    viewer.layers.remove(camera)
    assert widget.layer_combo.choices == ()
    assert not widget.keep_rows.enabled
    assert GUIDE_NAME not in viewer.layers  # nothing to cut


def test_cut_guide_follows_the_slider_and_goes_with_the_widget(open_widget):
    viewer, widget = open_widget("horse")
    horse = viewer.layers["horse"]
    widget.keep_rows.value = 100
    guide = viewer.layers[GUIDE_NAME]
    line, mask = guide.data
    np.testing.assert_allclose(line, [[99.5, -0.5], [99.5, 255.5]])
    np.testing.assert_allclose(mask.min(0), [99.5, -0.5])  # masked: rows 100..255
    np.testing.assert_allclose(mask.max(0), [255.5, 255.5])
    assert guide.shape_type == ["line", "rectangle"]
    assert viewer.layers.selection.active is horse  # adding the guide kept the selection

    widget.keep_rows.value = 30
    assert widget._guide.cut_row() == 29.5
    assert len(viewer.layers) == 2  # moved, not added again

    viewer.window.remove_dock_widget(widget)
    assert GUIDE_NAME not in viewer.layers
    assert [layer.name for layer in viewer.layers] == ["horse"]


def test_settings_allow_only_valid_combinations(open_widget):
    _, widget = open_widget("camera")
    s = widget.settings
    assert s.mode.value == "many-to-many"
    assert not s.bidirectional.enabled and not s.context.enabled
    assert s.bidirectional.tooltip == BIDIRECTIONAL_WHY
    s.mode.value = "many-to-one"
    assert s.bidirectional.enabled and s.context.enabled
    s.bidirectional.value = True
    s.binarize.value = "fixed"
    s.threshold.value = 0.3
    config = s.train_config(keep_rows=64, rgb=False)
    assert (config.mode, config.bidirectional, config.binarize, config.keep_rows) == (
        "many-to-one", True, 0.3, 64)
    s.mode.value = "many-to-many"  # bidirectional would see the row it predicts
    assert s.bidirectional.value is False and not s.bidirectional.enabled
    assert s.train_config(keep_rows=None, rgb=False).bidirectional is False
    assert "auto" in s.device.choices and "cpu" in s.device.choices
