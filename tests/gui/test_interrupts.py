"""Stopping, cancelling, removing layers and closing the viewer while workers run."""

from __future__ import annotations

import numpy as np
import pytest

from napari_pixelrnn.core import complete as core_complete

from .conftest import WAIT_MS, complete, train, wait_idle

LONG = 100_000  # steps that would take far longer than any test


def test_stop_training_keeps_a_usable_model(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    widget.settings.steps.value = LONG
    widget.keep_rows.value = 32
    widget.train_button.native.click()
    qtbot.waitUntil(lambda: len(widget.loss_plot.points()[0]) >= 3, timeout=WAIT_MS)
    assert widget.train_button.text == "Stop"
    assert not widget.complete_button.enabled  # one job at a time
    widget.train()  # a second training cannot start
    assert notes.infos[-1] == "Training is already running; press Stop to end it."

    widget.train_button.native.click()  # Stop
    wait_idle(qtbot, widget)
    done = len(widget.loss_plot.points()[0])
    assert 3 <= done < LONG
    assert widget.train_status.value.startswith(f"Stopped at step {done};")
    assert widget.train_button.text == "Train" and widget.complete_button.enabled
    assert not widget.model.training  # stopped models are ready to generate

    out = complete(qtbot, widget)  # the stopped model completes
    stack = viewer.layers["brick_stack"]
    np.testing.assert_array_equal(out.data, core_complete(widget.model, stack.data, 32))
    assert out.metadata["pixelrnn"]["finished"]
    assert not notes.errors


def test_stop_or_cancel_with_nothing_running_is_a_notification(open_widget, notes):
    _, widget = open_widget("camera")
    widget.stop()
    widget.cancel()
    assert notes.infos == ["Nothing to stop: no training is running.",
                           "Nothing to cancel: no completion is running."]


def test_cancel_completion_keeps_the_rows_made_so_far(open_widget, qtbot, notes, slow_rows):
    viewer, widget = open_widget("horse")
    horse = viewer.layers["horse"]
    widget.keep_rows.value = 8
    widget.settings.steps.value = 3
    train(qtbot, widget)
    widget.completion.samples.value = 64  # 248 slowed rows: far more than we wait for
    widget.complete_button.native.click()
    assert widget.complete_button.text == "Cancel" and not widget.train_button.enabled
    output = widget.completion_run.output
    qtbot.waitUntil(lambda: output.rows_done >= 2, timeout=WAIT_MS)
    widget.complete_button.native.click()  # Cancel
    wait_idle(qtbot, widget)

    out = widget.completed_layer
    assert out.data.shape == (64, 256, 256)
    assert 2 <= output.rows_done < output.total_rows
    info = out.metadata["pixelrnn"]
    assert info["cancelled_after_rows"] == output.rows_done
    assert not info["finished"] and "sampling_loss" not in info
    reached = 8 + output.rows_done  # every sample got the same rows, the rest stay blank
    assert (out.data[:, reached:] == np.uint8(horse.contrast_limits[0])).all()
    np.testing.assert_array_equal(out.data[:, :8], np.broadcast_to(horse.data[:8],
                                                                   (64, 8, 256)))
    assert widget.result.value.startswith("Completion cancelled after")
    assert widget.complete_button.text == "Complete" and widget.train_button.enabled
    assert not notes.errors


def test_removing_the_layer_while_training_crashes_nothing(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    widget.settings.steps.value = 30
    widget.train_button.native.click()
    qtbot.waitUntil(lambda: len(widget.loss_plot.points()[0]) >= 1, timeout=WAIT_MS)
    viewer.layers.remove("brick_stack")  # training owns a copy and carries on
    assert widget.layer_combo.value is None
    assert len(viewer.layers) == 0  # the guide went with its layer
    wait_idle(qtbot, widget)
    assert widget.train_status.value.startswith("Trained 30 steps")
    widget.complete()  # nothing left to complete
    assert notes.errors == [notes.errors[0]] and "No image layer" in notes.errors[0]
    assert len(viewer.layers) == 0


def test_removing_layers_while_completing(open_widget, qtbot, notes, slow_rows):
    viewer, widget = open_widget("horse")
    widget.keep_rows.value = 8
    widget.settings.steps.value = 3
    train(qtbot, widget)
    widget.completion.samples.value = 64

    widget.complete()  # removing the output layer stops its completion
    qtbot.waitUntil(lambda: widget.completion_run.output.rows_done >= 1, timeout=WAIT_MS)
    viewer.layers.remove(widget.completed_layer)
    wait_idle(qtbot, widget)
    assert notes.infos[-1] == "Completion stopped: its layer 'horse completed (draw order)' was removed."
    assert [layer.name for layer in viewer.layers] == ["horse", "pixelrnn cut"]

    widget.completion.samples.value = 1
    widget.keep_rows.value = 216  # 40 slowed rows
    widget.complete()  # removing the input layer does not: the worker owns a copy
    out = widget.completed_layer
    assert widget.is_completing
    viewer.layers.remove("horse")
    wait_idle(qtbot, widget)
    assert out.metadata["pixelrnn"]["finished"]
    assert out.data.shape == (256, 256)
    assert widget.layer_combo.value == out  # the only image left is picked
    assert [layer.name for layer in viewer.layers] == ["horse completed", "pixelrnn cut"]
    assert not notes.errors


@pytest.mark.parametrize("job", ["training", "completion"])
def test_closing_the_viewer_while_a_worker_runs(open_widget, qtbot, notes, job, slow_rows):
    viewer, widget = open_widget("brick_stack")
    if job == "completion":
        train(qtbot, widget)
        widget.completion.samples.value = 64
        widget.complete()
        running = widget._running.get("complete")
        qtbot.waitUntil(lambda: widget.completion_run.output.rows_done >= 1, timeout=WAIT_MS)
    else:
        widget.settings.steps.value = LONG
        widget.train()
        running = widget._running.get("train")
        qtbot.waitUntil(lambda: len(widget.loss_plot.points()[0]) >= 1, timeout=WAIT_MS)
    viewer.close()
    assert running.stop_requested  # the worker was asked to stop ...
    qtbot.waitUntil(lambda: not running.worker.is_running, timeout=WAIT_MS)  # ... and did
    assert not notes.errors


def test_closing_the_dock_widget_while_training(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    widget.settings.steps.value = LONG
    widget.train()
    running = widget._running.get("train")
    qtbot.waitUntil(lambda: len(widget.loss_plot.points()[0]) >= 1, timeout=WAIT_MS)
    viewer.window.remove_dock_widget(widget)
    assert running.stop_requested
    qtbot.waitUntil(lambda: not running.worker.is_running, timeout=WAIT_MS)
    assert [layer.name for layer in viewer.layers] == ["brick_stack"]  # guide removed
    viewer.add_image(np.zeros((8, 8)), name="new")  # the closed widget stays closed
    assert "pixelrnn cut" not in viewer.layers
    assert not notes.errors
