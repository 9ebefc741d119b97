"""Many completions in one batch: ranking, the uncertainty layer, and the drift warning."""

from __future__ import annotations

import numpy as np
import pytest
from napari.utils.notifications import NotificationSeverity

from napari_pixelrnn._napari import jobs
from napari_pixelrnn._napari.texts import describe_completion
from napari_pixelrnn.core import complete as core_complete
from napari_pixelrnn.core import drift_warning, uncertainty

from .conftest import complete, train


@pytest.mark.parametrize("kind", ["std", "entropy"])
def test_uncertainty_layer(open_widget, qtbot, notes, kind):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    stack.scale = (2.0, 1.5, 0.5)
    original = stack.data.copy()
    widget.keep_rows.value = 48
    train(qtbot, widget)
    c = widget.completion
    assert not c.uncertainty.enabled  # one completion has nothing to disagree with
    c.samples.value, c.seed.value = 4, 3
    c.uncertainty.value, c.uncertainty_kind.value = True, kind

    out = complete(qtbot, widget)
    ranked = core_complete(widget.model, original, 48, samples=4, seed=3).ranked()
    np.testing.assert_array_equal(out.data, ranked.images)
    spread = viewer.layers[f"brick_stack uncertainty ({kind})"]  # a new layer, added last
    assert viewer.layers[-1] == spread
    assert spread.data.shape == (4, 64, 64) and spread.data.dtype == np.float32
    np.testing.assert_array_equal(spread.data, uncertainty(ranked.images, kind))
    assert (spread.data[:, :48] == 0).all()  # kept rows: every sample agrees
    assert spread.data[:, 48:].max() > 0  # drawn rows differ somewhere
    np.testing.assert_allclose(spread.scale, stack.scale)
    assert spread.metadata["pixelrnn"]["uncertainty"] == kind
    np.testing.assert_array_equal(stack.data, original)  # the input never changes
    assert not notes.errors


def test_uncertainty_of_the_current_slice_only(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 56
    train(qtbot, widget)
    viewer.dims.set_current_step(0, 1)
    c = widget.completion
    c.slices.value, c.samples.value, c.seed.value = "current", 3, 5
    c.uncertainty.value = True

    out = complete(qtbot, widget)
    ranked = core_complete(widget.model, stack.data[1], 56, samples=3, seed=5).ranked()
    assert out.data.shape == (3, 4, 64, 64)
    np.testing.assert_array_equal(out.data[:, 1], ranked.images)
    spread = viewer.layers["brick_stack uncertainty (std)"].data
    np.testing.assert_array_equal(spread[1], uncertainty(ranked.images))
    assert (spread[[0, 2, 3]] == 0).all()  # slices not completed
    assert not notes.errors


def test_one_drawn_sample_is_scored_and_no_uncertainty(open_widget, qtbot, notes):
    viewer, widget = open_widget("brick_stack")
    stack = viewer.layers["brick_stack"]
    widget.keep_rows.value = 48
    train(qtbot, widget)
    c = widget.completion
    c.samples.value, c.uncertainty.value = 2, True
    c.samples.value, c.draw.value, c.seed.value = 1, True, 11  # the checkbox stays ticked
    assert not c.uncertainty.enabled and c.config().uncertainty is None

    out = complete(qtbot, widget)
    drawn = core_complete(widget.model, stack.data, 48, samples=1, seed=11)
    assert out.data.shape == stack.data.shape  # one sample: no sample axis
    np.testing.assert_array_equal(out.data, drawn.images[0])
    np.testing.assert_allclose(out.metadata["pixelrnn"]["sample_bits_per_dim"],
                               drawn.bits_per_dim)
    assert [layer.name for layer in viewer.layers] == [
        "brick_stack", "pixelrnn cut", "brick_stack completed"]
    assert not notes.errors


def test_drift_warning_is_shown(open_widget, qtbot, notes, monkeypatch):
    real = jobs.evaluate

    def drifting(*args, **kwargs):  # a model that copies the true rows: free-running far off
        scores = real(*args, **kwargs)
        scores["free_running_bits_per_dim"] = 3 * scores["teacher_forced_bits_per_dim"] + 1
        return scores

    monkeypatch.setattr(jobs, "evaluate", drifting)
    _, widget = open_widget("brick_stack")
    widget.keep_rows.value = 48
    train(qtbot, widget)
    out = complete(qtbot, widget)

    info = out.metadata["pixelrnn"]
    expected = drift_warning(info["sampling_loss"])
    assert expected and info["drift_warning"] == expected
    assert widget.drift.value == f"Warning: {expected}"
    assert widget.drift.native.isVisibleTo(widget)
    assert notes.of(NotificationSeverity.WARNING) == [expected]
    free = info["sampling_loss"]["free_running_bits_per_dim"]
    assert f"free-running {free:.4f}" in widget.result.value
    assert not notes.errors

    monkeypatch.setattr(jobs, "evaluate", real)  # the next completion agrees: no warning
    complete(qtbot, widget)
    assert widget.drift.value == "" and not widget.drift.native.isVisibleTo(widget)
    assert len(notes.of(NotificationSeverity.WARNING)) == 1


def test_the_dock_says_when_a_loss_is_worse_than_a_uniform_guess():
    scores = {"masked_rows": 4, "masked_values": 64, "alphabet": 256,
              "teacher_forced_bits_per_dim": 28.0, "free_running_bits_per_dim": 31.0,
              "teacher_forced_bits_per_dim_256": 28.0, "free_running_bits_per_dim_256": 31.0,
              "free_running_psnr_db": 12.0, "free_running_mse": 0.06}
    text = describe_completion(jobs.Completed(scores, None, None, None, None),
                               "rows above the cut")
    assert ("The teacher-forced 28.00 and free-running 31.00 bits/dim are worse than a "
            "uniform guess over the model's 256 values (8 bits/dim)") in text
    better = {**scores, "teacher_forced_bits_per_dim": 4.0, "free_running_bits_per_dim": 5.0}
    assert "uniform" not in describe_completion(
        jobs.Completed(better, None, None, None, None), None)
