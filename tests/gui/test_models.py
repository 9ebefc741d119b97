"""Saving and loading models, and the user errors that must show as notifications."""

from __future__ import annotations

import numpy as np

from napari_pixelrnn.core.provenance import describe_training

from .conftest import complete, train


def test_save_and_load_through_the_buttons(open_widget, qtbot, notes, tmp_path):
    viewer, widget = open_widget("brick_stack")
    widget.keep_rows.value = 40
    train(qtbot, widget)
    first = complete(qtbot, widget).data.copy()

    asked = []
    widget.ask_save_path = lambda parent: asked.append(parent) or str(tmp_path / "bricks")
    widget.save_button.native.click()
    saved = tmp_path / "bricks.pixelrnn"  # the suffix is added when missing
    assert asked == [widget] and saved.is_file()
    trained = widget.train_status.value.split(" Model saved")[0]
    assert trained.startswith("Trained 8 steps")  # what the status said stays
    assert widget.train_status.value == f"{trained} Model saved to {saved}."
    widget.save_model(tmp_path / "again.pixelrnn")  # the status names the last save only
    assert widget.train_status.value == f"{trained} Model saved to {tmp_path / 'again.pixelrnn'}."
    assert not notes.infos  # said in the dock: a notification repaints the canvas

    _, fresh = open_widget()  # a new viewer: no model yet
    fresh.viewer.add_image(viewer.layers["brick_stack"].data, name="bricks")
    fresh.keep_rows.value = 40
    fresh.ask_open_path = lambda parent: str(saved)
    fresh.load_button.native.click()
    assert fresh.model is not None and fresh.model_info == {"checkpoint": str(saved)}
    assert fresh.train_status.value.startswith("Loaded bricks.pixelrnn.")
    # and how it was trained: the file says so
    said = describe_training(widget.model.provenance)
    assert said.startswith("Trained on the 40 rows above the cut, seed 0, 8 of 8 steps")
    assert fresh.train_status.value.endswith(f"px wide. {said}")
    assert not notes.infos
    out = complete(qtbot, fresh)
    np.testing.assert_array_equal(out.data, first)  # same weights, same completion
    assert out.metadata["pixelrnn"]["checkpoint"] == str(saved)
    assert out.metadata["pixelrnn"]["provenance"] == widget.model.provenance
    assert not notes.errors


def test_a_model_of_the_wrong_width_is_refused(open_widget, qtbot, notes, tmp_path):
    viewer, widget = open_widget("brick_stack", "camera")
    widget.layer_combo.value = viewer.layers["brick_stack"]
    train(qtbot, widget)
    path = widget.save_model(tmp_path / "bricks.pixelrnn")
    trained = widget.model

    widget.layer_combo.value = viewer.layers["camera"]  # 128 wide; the model knows 64
    widget.complete_button.native.click()
    assert not widget.is_completing and len(viewer.layers) == 3  # no new layer
    assert notes.errors[-1].startswith("The model was trained on images 64 pixels wide")
    assert "layer 'camera' is 128 pixels wide" in notes.errors[-1]

    assert widget.load_model(path) is False
    assert notes.errors[-1].startswith("Model bricks.pixelrnn was not loaded. The model "
                                       "was trained on images 64 pixels wide")
    assert widget.model is trained  # the refused model replaced nothing
    assert len(notes.errors) == 2


def test_user_errors_are_notifications(open_widget, qtbot, notes, tmp_path):
    viewer, widget = open_widget()  # no layers at all
    widget.train_button.native.click()
    widget.complete_button.native.click()
    widget.save_button.native.click()
    assert not widget.is_training and not widget.is_completing
    assert notes.errors[0].startswith("No image layer:")
    assert notes.errors[1].startswith("No image layer:")
    assert notes.errors[2] == "No model to save: train one or load one first."

    junk = tmp_path / "junk.pixelrnn"
    junk.write_bytes(b"not a checkpoint at all")
    assert widget.load_model(junk) is False
    assert "junk.pixelrnn is not a napari-pixelrnn checkpoint" in notes.errors[3]

    viewer.add_image(np.zeros((1, 16), dtype=np.uint8), name="one row")
    assert not widget.keep_rows.enabled  # nothing to cut in a single row
    widget.train()
    assert notes.errors[4].startswith("The image has 1 row(s); at least 2 rows")

    viewer.add_image(np.zeros((2, 16), dtype=np.uint8), name="two rows")
    widget.layer_combo.value = viewer.layers["two rows"]
    assert widget.keep_rows.max == 1
    widget.train()  # one row above the cut is too little to learn from (the core says)
    assert not widget.is_training  # refused up front, before any worker starts
    assert notes.errors[5] == "Training needs at least 2 rows to keep (keep_rows >= 2)."
    assert widget.model is None and "No model yet" in widget.train_status.value
    assert len(notes.errors) == 6


def test_a_loaded_model_says_its_level_calibration(open_widget, tmp_path):
    from napari_pixelrnn.core import load_sample, save_model
    from napari_pixelrnn.core import train as train_model

    bricks = load_sample("brick_stack")
    model = train_model(list(bricks[:3]), steps=10, hidden_size=8, crop=16, calibrate=True)
    offset = model.drift.item() * 255
    _, widget = open_widget("brick_stack")
    widget.load_model(save_model(model, tmp_path / "calibrated.pixelrnn"))
    assert widget.train_status.value.endswith(
        f"Level calibration: drawing moves every value's centre by {offset:+.2f} levels "
        "(per channel), fitted on the training rows. "
        + describe_training(model.provenance))  # then how it was trained
    model.drift.zero_()  # uncalibrated: nothing said
    widget.load_model(save_model(model, tmp_path / "plain.pixelrnn"))
    assert "Level calibration" not in widget.train_status.value
