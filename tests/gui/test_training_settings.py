"""The value model, within-row order and step settings, and training on several layers."""

from __future__ import annotations

import numpy as np
import torch

from napari_pixelrnn.core import complete as core_complete
from napari_pixelrnn.core import train as core_train

from .conftest import complete, train


def test_value_settings_stay_coherent_and_reach_the_config(open_widget):
    _, widget = open_widget()
    s = widget.settings
    assert (s.values.value, s.binarize.value) == ("continuous", "off")
    assert not s.levels.enabled

    s.binarize.value = "otsu"  # binarizing means binary values
    assert s.values.value == "binary"
    s.values.value = "levels"  # intensities need the image as it is
    assert s.binarize.value == "off" and s.levels.enabled and not s.threshold.enabled
    s.values.value = "binary"  # binary values need a threshold: Otsu's
    assert s.binarize.value == "otsu" and not s.levels.enabled
    s.binarize.value = "off"
    assert s.values.value == "continuous"

    s.values.value, s.levels.value = "levels", 16
    s.within_row.value = "autoregressive"
    config = s.train_config(10, rgb=False)
    assert (config.values, config.levels, config.binarize) == ("levels", 16, False)
    assert (config.within_row, config.granularity) == ("autoregressive", "row")

    s.granularity.value = "pixel"  # one value per step: nothing to its left
    assert s.within_row.value == "independent" and not s.within_row.enabled
    config = s.train_config(10, rgb=False)
    assert (config.within_row, config.granularity) == ("independent", "pixel")
    s.granularity.value = "row"
    assert s.within_row.enabled

    s.binarize.value, s.threshold.value = "fixed", 0.3
    config = s.train_config(None, rgb=False)
    assert (config.values, config.binarize) == ("binary", 0.3)


def test_k_levels_left_to_right(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    s = widget.settings
    s.values.value, s.levels.value, s.within_row.value = "levels", 4, "autoregressive"
    widget.keep_rows.value = 56
    train(qtbot, widget)
    c = widget.model.config
    assert (c.values, c.levels, c.within_row, c.granularity) == (
        "levels", 4, "autoregressive", "row")
    assert widget.model_info["training"]["levels"] == 4
    assert "4 levels, left to right within a row" in widget.train_status.value

    out = complete(qtbot, widget)
    np.testing.assert_array_equal(out.data, core_complete(widget.model, stack.data, 56))
    assert set(np.unique(out.data[:, 56:])) <= {0, 85, 170, 255}  # k / 3 of uint8's range
    info = out.metadata["pixelrnn"]
    assert info["sampling_loss"]["alphabet"] == 4
    assert "4 possible values each" in widget.result.value
    assert not notes.errors


def test_one_pixel_per_step(open_widget, qtbot, notes):
    viewer, widget = open_widget("camera", "astronaut", "horse")
    crop = viewer.add_image(viewer.layers["camera"].data[:16, :12], name="crop")
    widget.layer_combo.value = crop
    widget.keep_rows.value = 10
    widget.settings.granularity.value = "pixel"
    train(qtbot, widget)
    assert widget.model.config.granularity == "pixel"
    out = complete(qtbot, widget)
    np.testing.assert_array_equal(out.data, core_complete(widget.model, crop.data, 10))
    model = widget.model

    # What pixel mode cannot do is the core's clear message, and nothing changes.
    images = ["camera", "astronaut", "horse", "crop", "crop completed"]
    for name, message in (("astronaut", "granularity='pixel' is for grayscale images"),
                          ("horse", "above the limit of 16384 (128 x 128)")):
        widget.layer_combo.value = viewer.layers[name]
        widget.train_button.native.click()
        qtbot.waitUntil(lambda: not widget.is_training, timeout=10_000)
        assert message in notes.errors[-1]
        assert widget.model is model
        assert [x.name for x in viewer.layers if x.name != "pixelrnn cut"] == images
    assert len(notes.errors) == 2


def test_training_on_all_selected_layers(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    shorter = viewer.add_image(stack.data[::-1, :48, ::-1].copy(), name="flipped")  # 48 rows
    widget.layer_combo.value = stack
    widget.keep_rows.value = 40
    widget.train_all.value = True
    viewer.layers.selection = {stack, shorter}
    train(qtbot, widget)

    info = widget.model_info
    assert info["trained_on_layer"] == "brick_stack"
    assert info["trained_on_layers"] == ["brick_stack", "flipped"]
    assert "'brick_stack', 'flipped'" in widget.train_status.value
    # The very model the core trains on both images with the same settings ...
    both = core_train([stack.data, shorter.data], **info["training"])
    alone = core_train(stack.data, **info["training"])
    weights = widget.model.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in both.state_dict().items())
    # ... and not the one it trains on the picked layer alone.
    assert not all(torch.equal(weights[k], v) for k, v in alone.state_dict().items())

    out = complete(qtbot, widget)  # completion uses the picked layer only
    assert out.name == "brick_stack completed"
    np.testing.assert_array_equal(out.data, core_complete(widget.model, stack.data, 40))
    assert out.metadata["pixelrnn"]["trained_on_layers"] == ["brick_stack", "flipped"]
    assert not notes.errors


def test_selected_layers_of_another_width_are_a_notification(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack", "camera")
    stack, camera = viewer.layers["brick_stack"], viewer.layers["camera"]
    before = {layer.name: layer.data.copy() for layer in (stack, camera)}
    widget.layer_combo.value = stack
    widget.train_all.value = True
    viewer.layers.selection = {stack, camera}
    widget.train_button.native.click()
    qtbot.waitUntil(lambda: not widget.is_training, timeout=10_000)

    assert len(notes.errors) == 1  # the core's message, not a traceback
    assert notes.errors[0].startswith("All training images must share width, channels and "
                                      "dtype: image 0 is 64 wide")
    assert "image 1 is 128 wide" in notes.errors[0]
    assert widget.model is None and "No model yet" in widget.train_status.value
    assert [layer.name for layer in viewer.layers] == ["brick_stack", "camera", "pixelrnn cut"]
    for name, data in before.items():
        np.testing.assert_array_equal(viewer.layers[name].data, data)

    widget.train_all.value = False  # the picked layer alone trains fine
    train(qtbot, widget)
    assert widget.model_info["trained_on_layers"] == ["brick_stack"]
    assert len(notes.errors) == 1
