"""The architecture choice (Row LSTM or dense), the validation curve and the mean layer."""

from __future__ import annotations

import numpy as np
import pytest

from napari_pixelrnn._napari.settings import ModelSettings
from napari_pixelrnn.core import TrainConfig, train_steps
from napari_pixelrnn.core import complete as core_complete
from napari_pixelrnn.core.config import ONLY_FOR
from napari_pixelrnn.core.row_lstm import training as row_lstm_training
from napari_pixelrnn.core.row_lstm.draw_check import draw_check_text
from napari_pixelrnn.core.row_lstm.pretrained import step_name
from napari_pixelrnn.core.training import ARCHITECTURE_DEFAULTS

from .conftest import complete, tiny, train


def shown_defaults(settings: ModelSettings) -> dict:
    return {name: getattr(settings, name).value for name in ("hidden_size", "steps", "lr")}


def test_the_architecture_greys_the_other_ones_settings_and_shows_its_defaults(qtbot):
    s = ModelSettings()
    assert s.architecture.value == TrainConfig().architecture == "row-lstm"
    assert shown_defaults(s) == pytest.approx(ARCHITECTURE_DEFAULTS["row-lstm"])
    assert s.values.value == "mixture" and s.components.enabled and not s.levels.enabled
    assert all(getattr(s, name).enabled for name in ONLY_FOR["row-lstm"])
    for name in ONLY_FOR["dense"]:
        assert not getattr(s, name).enabled, name
        assert getattr(s, name).tooltip.startswith("dense architecture only"), name

    s.architecture.value = "dense"
    assert shown_defaults(s) == pytest.approx(ARCHITECTURE_DEFAULTS["dense"])
    assert s.values.value == "continuous" and not s.components.enabled
    for name in ONLY_FOR["row-lstm"]:
        assert not getattr(s, name).enabled, name
        assert getattr(s, name).tooltip.startswith("Row LSTM architecture only"), name
    enabled = {name for name in ONLY_FOR["dense"] if getattr(s, name).enabled}
    assert enabled == {"cell", "mode", "batch_norm", "within_row", "granularity"}
    s.mode.value = "many-to-one"  # the window settings follow the mode, as before
    assert s.context.enabled and s.bidirectional.enabled
    assert s.cell.tooltip == "The recurrent cell that reads the rows."

    # A value model picked by hand stays; the steps typed by hand give way to the defaults.
    s.values.value, s.steps.value = "levels", 7
    s.architecture.value = "row-lstm"
    assert s.values.value == "levels" and s.levels.enabled
    assert shown_defaults(s) == pytest.approx(ARCHITECTURE_DEFAULTS["row-lstm"])
    assert not s.context.enabled and not s.bidirectional.enabled


def test_the_config_carries_only_the_chosen_architectures_settings(qtbot):
    s = ModelSettings()
    s.architecture.value = "dense"
    s.cell.value, s.within_row.value, s.batch_norm.value = "gru", "autoregressive", False
    dense = s.train_config(10, rgb=False)
    assert (dense.architecture, dense.cell, dense.within_row, dense.batch_norm) == (
        "dense", "gru", "autoregressive", False)
    assert (dense.hidden_size, dense.steps) == tuple(
        ARCHITECTURE_DEFAULTS["dense"][k] for k in ("hidden_size", "steps"))

    s.architecture.value = "row-lstm"
    s.kernel.value, s.crop.value, s.flip.value = 5, 16, True
    s.validation.value, s.patience.value, s.weight_decay.value = 0.2, 3, 0.01
    s.components.value = 2
    config = s.train_config(10, rgb=False)
    d = TrainConfig()
    # the greyed dense settings are not sent: they stay at the core's defaults
    assert [getattr(config, n) for n in ONLY_FOR["dense"]] == [
        getattr(d, n) for n in ONLY_FOR["dense"]]
    assert (config.architecture, config.kernel, config.crop, config.flip) == (
        "row-lstm", 5, 16, True)
    assert (config.validation, config.patience, config.weight_decay) == pytest.approx(
        (0.2, 3, 0.01))
    defaults = ARCHITECTURE_DEFAULTS["row-lstm"]
    assert (config.values, config.components, config.hidden_size, config.steps) == (
        "mixture", 2, defaults["hidden_size"], defaults["steps"])


@pytest.fixture
def validate_often(monkeypatch):
    """Validate every 3 steps instead of 50, so a short training draws a curve."""
    monkeypatch.setattr(row_lstm_training, "VALIDATE_EVERY", 3)


def test_row_lstm_flow_with_the_validation_curve(open_widget, qtbot, notes, validate_often):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    original = stack.data.copy()
    tiny(widget, steps=10, architecture="row-lstm")
    s = widget.settings
    s.crop.value, s.patience.value, s.kernel.value = 16, 0, 5
    widget.keep_rows.value = 40
    train(qtbot, widget)

    assert widget.model.architecture == "row-lstm" and widget.model.config.kernel == 5
    # the same run in the core: its losses, converted to bits/dim, are the plotted ones
    updates = list(train_steps(original, TrainConfig(**widget.model_info["training"])))
    plot = widget.loss_plot
    steps, losses = plot.points()
    np.testing.assert_array_equal(steps, np.arange(1, 11))
    np.testing.assert_allclose(losses, [u.loss_bits_per_dim for u in updates])
    steps, validation = plot.validation_points()
    np.testing.assert_array_equal(steps, [3, 6, 9, 10])  # only where the core measured
    np.testing.assert_allclose(validation, [u.validation_bits_per_dim for u in updates
                                            if u.validation_bits_per_dim is not None])
    drawn = plot.curves()
    np.testing.assert_allclose(drawn["validation"][1], validation)
    np.testing.assert_allclose(drawn["training"][1], losses)
    assert plot.axis_label() == "loss (bits/dim)"
    best = updates[-1].best_step
    assert widget.model_info["best_step"] == best
    status = widget.train_status.value
    assert f"last loss {losses[-1]:.4f} bits/dim" in status
    assert f"validation {validation[-1]:.4f} bits/dim (step 10; weights of step {best} kept)" \
        in status
    assert "Row LSTM, 8 features per pixel" in status
    check = draw_check_text(widget.model)  # measured after training, said in the dock
    assert check.startswith("draw check") and f"{check[0].upper()}{check[1:]}." in status

    out = complete(qtbot, widget)
    assert out.data.shape == original.shape and out.data.dtype == original.dtype
    np.testing.assert_array_equal(out.data, core_complete(widget.model, original, 40))
    np.testing.assert_array_equal(stack.data, original)  # the input never changes
    assert out.metadata["pixelrnn"]["training"]["architecture"] == "row-lstm"
    assert not notes.errors


def test_a_pretrained_start_is_plotted_and_named_at_step_0(open_widget, qtbot, validate_often):
    """The start is scored before the first step: the curve starts at step 0 with that
    score, and the dock says whose weights are kept."""
    viewer, widget = open_widget("camera")
    s = widget.settings
    tiny(widget, steps=3, architecture="row-lstm")
    s.hidden_size.value = 32  # the pretrained shape
    s.pretrained.value, s.lr.value = True, 1.0  # the steps are likely worse than the start
    widget.keep_rows.value = 64
    train(qtbot, widget)

    updates = list(train_steps(viewer.layers["camera"].data,
                               TrainConfig(**widget.model_info["training"])))
    assert updates[0].best_step == 0
    steps, validation = widget.loss_plot.validation_points()
    np.testing.assert_array_equal(steps, [0, 3])
    np.testing.assert_allclose(validation, [updates[0].best_bits_per_dim,
                                            updates[-1].validation_bits_per_dim])
    kept = step_name(updates[-1].best_step)
    assert f"(step 3; weights of {kept} kept)" in widget.train_status.value


def test_a_training_curve_on_altered_rows_read_says_so(open_widget, qtbot):
    """With noise or its own draws in the rows read, the training loss is not on true
    rows (unlike the validation's): the curve's name says so, and only for that run."""
    viewer, widget = open_widget("brick_stack")
    s = widget.settings
    tiny(widget, steps=3, architecture="row-lstm")
    widget.keep_rows.value = 40
    plot = widget.loss_plot
    legend = plot._plot.getPlotItem().legend
    for noise, own, name in ((0.01, 0.5, "training (rows read: own draws and noise)"),
                             (0.0, 0.0, "training")):
        s.input_noise.value, s.own_rows.value = noise, own
        train(qtbot, widget)
        assert widget.model.provenance["settings"]["own_rows"] == own
        assert set(plot.curves()) == {name, "validation"}
        assert legend.getLabel(plot._curve).text == name


def test_a_row_lstm_completes_a_layer_of_another_width(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    tiny(widget, steps=2, architecture="row-lstm")
    widget.keep_rows.value = 40
    train(qtbot, widget)
    narrow = viewer.add_image(viewer.layers["brick_stack"].data[:, :, :40].copy(),
                              name="narrow")
    widget.layer_combo.value = narrow
    widget.keep_rows.value = 48
    out = complete(qtbot, widget)
    assert out.name == "narrow completed" and out.data.shape == (4, 64, 40)
    np.testing.assert_array_equal(out.data, core_complete(widget.model, narrow.data, 48))
    assert not notes.errors

    widget.settings.architecture.value = "dense"  # a dense model is bound to its width
    widget.layer_combo.value = viewer.layers["brick_stack"]
    widget.settings.steps.value = 2
    train(qtbot, widget)
    widget.layer_combo.value = narrow
    widget.complete_button.native.click()
    assert len(notes.errors) == 1 and "trained on images 64 pixels wide" in notes.errors[0]


def test_the_mean_of_the_samples_as_a_new_layer(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 48
    train(qtbot, widget)
    c = widget.completion
    assert not c.mean.enabled  # one completion: nothing to average
    c.samples.value, c.seed.value = 4, 3
    assert c.mean.enabled
    c.mean.value = True
    out = complete(qtbot, widget)
    mean = viewer.layers["brick_stack mean of 4 draws"]
    drawn = core_complete(widget.model, stack.data, 48, samples=4, seed=3)
    assert mean.data.shape == stack.data.shape and mean.data.dtype == stack.data.dtype
    np.testing.assert_array_equal(mean.data, drawn.mean())
    np.testing.assert_array_equal(
        mean.data, np.round(out.data.astype(float).mean(0)).astype(np.uint8))
    np.testing.assert_allclose(mean.scale, stack.scale)
    np.testing.assert_allclose(mean.contrast_limits, stack.contrast_limits)
    assert mean.metadata["pixelrnn"]["posterior_mean_of"] == 4
    assert mean.metadata["pixelrnn"]["completed_layer"] == "brick_stack completed"
    assert [layer.name for layer in viewer.layers] == [
        "brick_stack", "pixelrnn cut", "brick_stack completed", "brick_stack mean of 4 draws"]

    c.samples.value = 1  # the option needs samples: no mean layer for one completion
    assert not c.mean.enabled and not c.config().mean
    complete(qtbot, widget)
    assert sum(layer.name.endswith("draws") for layer in viewer.layers) == 1
    assert not notes.errors


def test_the_mean_of_the_current_slice(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 56
    train(qtbot, widget)
    viewer.dims.set_current_step(0, 1)
    c = widget.completion
    c.slices.value, c.samples.value, c.seed.value, c.mean.value = "current", 3, 5, True
    out = complete(qtbot, widget)
    mean = viewer.layers["brick_stack mean of 3 draws"].data
    drawn = core_complete(widget.model, stack.data[1], 56, samples=3, seed=5)
    np.testing.assert_array_equal(mean[1], drawn.mean())
    for other in (0, 2, 3):  # not completed: what the completion layer shows there
        np.testing.assert_array_equal(mean[other], out.data[0, other])
    assert not notes.errors


def test_a_saved_row_lstm_loads_for_a_layer_of_another_width(open_widget, qtbot, notes,
                                                              tmp_path):
    viewer, widget = open_widget("brick_stack", "camera")
    tiny(widget, steps=2, architecture="row-lstm")
    widget.layer_combo.value = viewer.layers["brick_stack"]  # 64 wide
    train(qtbot, widget)
    path = widget.save_model(tmp_path / "bricks.pixelrnn")

    _, fresh = open_widget("camera")  # 128 wide
    camera = fresh.viewer.layers["camera"]
    fresh.keep_rows.value = 120
    assert fresh.load_model(path) is True
    assert fresh.model.architecture == "row-lstm"
    assert "Row LSTM, 8 features per pixel" in fresh.train_status.value
    out = complete(qtbot, fresh)
    np.testing.assert_array_equal(out.data, core_complete(fresh.model, camera.data, 120))
    assert not notes.errors

    colour = fresh.viewer.add_image(viewer.layers["brick_stack"].data[0, :40, :40, None]
                                    .repeat(3, -1), rgb=True, name="colour")
    fresh.layer_combo.value = colour
    fresh.complete_button.native.click()
    assert notes.errors == [(
        "The model was trained on images with 1 channel(s); layer 'colour' has 3. Pick a "
        "layer with the same channels, or train a new model on this one.")]
    assert fresh.load_model(path) is False  # refused for the picked colour layer


def test_stop_keeps_the_best_validated_row_lstm(open_widget, qtbot, notes, validate_often):
    viewer, widget = open_widget("brick_stack")
    tiny(widget, steps=100_000, architecture="row-lstm")
    widget.keep_rows.value = 40
    widget.train_button.native.click()
    qtbot.waitUntil(lambda: len(widget.loss_plot.validation_points()[0]) >= 2, timeout=60_000)
    widget.train_button.native.click()  # Stop
    qtbot.waitUntil(lambda: not widget.is_training, timeout=60_000)
    done = len(widget.loss_plot.points()[0])
    best = widget.model_info["best_step"]
    validated, losses = widget.loss_plot.validation_points()
    assert best == validated[np.argmin(losses)]  # the lowest validation loss plotted
    assert widget.train_status.value.startswith(
        f"Stopped at step {done}; the weights of step {best}, the best on the validation "
        "rows, are kept")
    out = complete(qtbot, widget)
    stack = viewer.layers["brick_stack"]
    np.testing.assert_array_equal(out.data, core_complete(widget.model, stack.data, 40))
    assert not notes.errors


def test_early_stopping_is_said(open_widget, qtbot, notes, validate_often, monkeypatch):
    scores = iter([2.0, 1.0, 1.5, 1.25])  # better, then worse twice: patience 2 runs out
    monkeypatch.setattr(row_lstm_training, "_validate", lambda model, crops: next(scores))
    _, widget = open_widget("brick_stack")
    tiny(widget, steps=1000, architecture="row-lstm")
    widget.settings.patience.value = 2
    widget.keep_rows.value = 40
    train(qtbot, widget)
    np.testing.assert_array_equal(widget.loss_plot.validation_points()[0], [3, 6, 9, 12])
    assert widget.train_status.value.startswith(
        "Stopped early at step 12 of 1000: the validation loss stopped improving; last loss ")
    assert "validation 1.2500 bits/dim (step 12; weights of step 6 kept)" in \
        widget.train_status.value
    assert not notes.errors
