"""More faults mid-run: switching layers while training, loading a model while
generating, and no worker thread left behind once the viewer is closed."""

from __future__ import annotations

from qtpy.QtCore import QThreadPool

from napari_pixelrnn.core import save_model

from .conftest import WAIT_MS, train, wait_idle

LONG = 100_000


def test_switching_the_picked_layer_while_training(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack", "camera")
    widget.layer_combo.value = viewer.layers["brick_stack"]
    widget.keep_rows.value = 32
    widget.settings.steps.value = 6
    widget.train()
    widget.layer_combo.value = viewer.layers["camera"]  # while the worker runs
    wait_idle(qtbot, widget)
    # the model learned the layer picked when Train was pressed (64 wide), from its copy
    assert widget.model.data.width == 64 and widget.model_info["trained_on_layer"] == "brick_stack"
    assert widget.model_info["steps_done"] == 6
    widget.complete()  # camera is 128 wide: refused with a message, nothing added
    assert "64 pixels wide" in notes.errors[-1] and "camera completed" not in viewer.layers


def test_loading_a_model_while_generating_is_refused(open_widget, qtbot, notes, tmp_path,
                                                     slow_rows):
    _, widget = open_widget("brick_stack")
    train(qtbot, widget)
    other = save_model(widget.model, tmp_path / "other.pixelrnn")
    model = widget.model
    widget.completion.samples.value = 64  # slowed rows: long enough to still be running
    widget.complete()
    qtbot.waitUntil(lambda: widget.completion_run.output.rows_done >= 1, timeout=WAIT_MS)
    assert not widget.load_button.enabled
    assert widget.load_model(other) is False
    assert notes.infos[-1] == "Wait for training or completion to end before loading a model."
    assert widget.model is model
    widget.cancel()
    wait_idle(qtbot, widget)
    assert not notes.errors


def test_no_worker_thread_outlives_the_viewer(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    widget.settings.steps.value = LONG
    widget.train()
    qtbot.waitUntil(lambda: len(widget.loss_plot.points()[0]) >= 1, timeout=WAIT_MS)
    assert QThreadPool.globalInstance().activeThreadCount() >= 1
    viewer.close()
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0,
                    timeout=WAIT_MS)
    assert not notes.errors


def _counting(job, produced: list):
    """Wrap a worker generator so the test sees how many items it really produced."""

    def wrapped(*args):
        generator = job(*args)
        try:
            while True:
                item = next(generator)
                produced.append(item)
                yield item
        except StopIteration as done:
            return done.value
        finally:
            generator.close()

    return wrapped


def test_stop_ends_training_within_one_step(open_widget, qtbot, notes, monkeypatch):
    import napari_pixelrnn._napari.training_run as run_module

    produced = []
    monkeypatch.setattr(run_module, "training", _counting(run_module.training, produced))
    _, widget = open_widget("brick_stack")
    widget.settings.steps.value = LONG
    widget.train()
    qtbot.waitUntil(lambda: len(produced) >= 3, timeout=WAIT_MS)
    widget.stop()
    at_stop = len(produced)
    wait_idle(qtbot, widget)
    assert len(produced) <= at_stop + 1  # the step in flight may finish, no more
    assert not notes.errors


def test_cancel_ends_generation_within_one_row(open_widget, qtbot, notes, monkeypatch,
                                               slow_rows):
    import napari_pixelrnn._napari.completion_run as run_module

    produced = []
    monkeypatch.setattr(run_module, "completion", _counting(run_module.completion, produced))
    _, widget = open_widget("brick_stack")
    train(qtbot, widget)
    widget.completion.samples.value = 64
    widget.complete()
    qtbot.waitUntil(lambda: len(produced) >= 3, timeout=WAIT_MS)
    widget.cancel()
    at_cancel = len(produced)
    wait_idle(qtbot, widget)
    assert len(produced) <= at_cancel + 1
    assert len(produced) < 32  # far from done: one item per row, all samples at once
    assert not notes.errors
