"""The whole user flow: open a sample, cut, train a few steps, complete."""

from __future__ import annotations

import numpy as np

from napari_pixelrnn._napari.cut import GUIDE_NAME
from napari_pixelrnn.core import complete as core_complete
from napari_pixelrnn.core import load_sample

from .conftest import complete, train


def test_open_cut_train_complete(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    stack.scale, stack.translate = (2.0, 1.5, 0.5), (0.0, 10.0, -4.0)
    original = stack.data.copy()
    widget.keep_rows.value = 40

    train(qtbot, widget)
    steps, losses = widget.loss_plot.points()
    np.testing.assert_array_equal(steps, np.arange(1, 9))  # one point per step
    assert np.isfinite(losses).all()
    assert widget.train_button.text == "Train"
    assert widget.model_info["training"]["keep_rows"] == 40  # rows above the cut only

    out = complete(qtbot, widget)
    assert out.name == "brick_stack completed"
    assert out.data.shape == (4, 64, 64) and out.data.dtype == np.uint8
    np.testing.assert_array_equal(out.data[:, :40], original[:, :40])  # kept rows
    # The rows written live into the layer are the core's (deterministic) completion.
    np.testing.assert_array_equal(out.data, core_complete(widget.model, original, 40))
    np.testing.assert_array_equal(stack.data, original)  # the input never changes
    np.testing.assert_array_equal(stack.data, load_sample("brick_stack"))
    np.testing.assert_allclose(out.scale, stack.scale)
    np.testing.assert_allclose(out.translate, stack.translate)
    assert out.colormap.name == stack.colormap.name
    np.testing.assert_allclose(out.contrast_limits, stack.contrast_limits)

    info = out.metadata["pixelrnn"]
    assert info["finished"] and info["keep_rows"] == 40 and info["slices"] == "all"
    assert info["training"]["hidden_size"] == 32 and info["model"]["cell"] == "lstm"
    loss = info["sampling_loss"]
    assert loss["masked_rows"] == 24 and loss["masked_values"] == 4 * 24 * 64
    assert np.isclose(loss["teacher_forced_bits_per_dim"],
                      loss["teacher_forced_nats_per_dim"] / np.log(2))
    shown = widget.result.value  # both losses side by side, with their units
    assert "bits/dim" in shown
    assert f"teacher-forced {loss['teacher_forced_bits_per_dim']:.4f}" in shown
    assert f"free-running {loss['free_running_bits_per_dim']:.4f}" in shown
    assert f"{loss['free_running_bits_per_dim_256']:.4f} bits/dim" in shown
    assert info["drift_warning"] is None and not widget.drift.value  # no drift here
    assert widget.drift.native.isHidden()
    # the completion is added above the cut guide, which stays (see the next test)
    assert [layer.name for layer in viewer.layers] == [
        "brick_stack", GUIDE_NAME, "brick_stack completed"]
    assert not notes.errors


def test_a_completion_covers_the_cut_guide_and_removes_no_layer(open_widget, qtbot, notes):
    """Complete leaves the guide where it is and adds its layer above it: napari runs a
    full garbage collection on every layer removal (0.3-0.5 s on the GUI thread)."""
    viewer, widget = open_widget("horse")
    widget.keep_rows.value = 200
    train(qtbot, widget)
    removed = []
    viewer.layers.events.removed.connect(lambda event: removed.append(event.value.name))

    complete(qtbot, widget)
    assert removed == []
    assert [layer.name for layer in viewer.layers] == ["horse", GUIDE_NAME, "horse completed"]
    assert widget._guide.cut_row() == 199.5
    widget.keep_rows.value = 150  # choosing another cut brings the guide back on top
    assert [layer.name for layer in viewer.layers] == ["horse", "horse completed", GUIDE_NAME]
    assert widget._guide.cut_row() == 149.5
    widget.keep_rows.value = 140  # on top already: moved, not reordered
    assert [layer.name for layer in viewer.layers] == ["horse", "horse completed", GUIDE_NAME]
    assert removed == []
    assert not notes.errors


def test_several_samples_stack_along_a_new_axis(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 48
    train(qtbot, widget)
    c = widget.completion
    c.samples.value, c.temperature.value, c.seed.value = 3, 1.0, 7
    assert c.temperature.enabled  # samples > 1 draw values

    out = complete(qtbot, widget)
    assert out.data.shape == (3, 4, 64, 64) and out.data.dtype == np.uint8
    assert len(out.scale) == 4 and out.scale[0] == 1
    # One batch, most probable first: the core's ranked completions, pixel for pixel.
    ranked = core_complete(widget.model, stack.data, 48, samples=3, seed=7).ranked()
    np.testing.assert_array_equal(out.data, ranked.images)
    for i in range(3):
        np.testing.assert_array_equal(out.data[i, :, :48], stack.data[:, :48])
    assert not np.array_equal(out.data[0], out.data[1])
    info = out.metadata["pixelrnn"]
    assert info["completion"]["samples"] == 3
    bits = info["sample_bits_per_dim"]
    np.testing.assert_allclose(bits, ranked.bits_per_dim)
    assert bits == sorted(bits)  # the layer's order: lowest bits/dim first
    assert ", ".join(f"{b:.4f}" for b in bits) in widget.result.value
    assert [layer.name for layer in viewer.layers] == [  # no uncertainty layer unless asked
        "brick_stack", GUIDE_NAME, "brick_stack completed"]
    assert not notes.errors


def test_current_slice_only(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 56
    train(qtbot, widget)
    viewer.dims.set_current_step(0, 2)
    widget.completion.slices.value = "current"

    out = complete(qtbot, widget)
    assert out.data.shape == stack.data.shape
    np.testing.assert_array_equal(
        out.data[2], core_complete(widget.model, stack.data[2], 56))
    blank = np.uint8(stack.contrast_limits[0])
    for other in (0, 1, 3):  # not completed: kept rows, then blank rows
        np.testing.assert_array_equal(out.data[other, :56], stack.data[other, :56])
        assert (out.data[other, 56:] == blank).all()
    assert out.metadata["pixelrnn"]["slice_index"] == [2]
    assert out.metadata["pixelrnn"]["sampling_loss"]["masked_values"] == 8 * 64
    assert not notes.errors


def test_binary_rgb_whole_image_training(open_widget, qtbot, notes):
    """Colour layers keep their channels; training on the whole image is recorded."""
    viewer, widget = open_widget("astronaut")
    astronaut = viewer.layers["astronaut"]
    crop = viewer.add_image(astronaut.data[:24, :40], rgb=True, name="crop")
    widget.layer_combo.value = crop
    widget.keep_rows.value = 16
    widget.train_on.value = "whole"
    widget.settings.binarize.value = "otsu"
    train(qtbot, widget)
    assert widget.model_info["training"]["keep_rows"] is None

    out = complete(qtbot, widget)
    assert out.rgb and out.data.shape == (24, 40, 3) and out.data.dtype == np.uint8
    np.testing.assert_array_equal(out.data[:16], crop.data[:16])
    # a binary model gives back the input's own two values: its darkest and brightest
    assert set(np.unique(out.data[16:])) <= {crop.data.min(), crop.data.max()}
    info = out.metadata["pixelrnn"]
    assert "free_running_pixel_accuracy_pct" in info["sampling_loss"]
    # scored against the binarized image and against the original, each named
    original_psnr = info["sampling_loss"]["free_running_psnr_db_vs_original"]
    assert f"against the original, PSNR {original_psnr:.2f} dB" in widget.result.value
    assert "against the binarized image" in widget.result.value
    assert info["train_on"] == "whole image"
    assert "saw these rows in training" in widget.result.value
    assert not notes.errors
