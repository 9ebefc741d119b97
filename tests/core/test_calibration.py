"""The Row LSTM's level calibration: one offset per channel, fitted on the training rows
so that the model's own continuations keep their level, added to every value's centre
when drawing and left out of the scores."""

import copy
import functools

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import (
    complete,
    evaluate,
    load_model,
    load_sample,
    save_model,
    train,
    train_steps,
)
from napari_pixelrnn.core.row_lstm.calibration import calibrate_drift
from napari_pixelrnn.core.row_lstm.crops import CropSet
from napari_pixelrnn.core.training import TrainConfig

from .test_sampler import naive_completion

QUICK = {"steps": 40, "hidden_size": 8, "crop": 16, "seed": 0}
LEVEL = 1 / 255


@pytest.fixture(scope="module")
def brick_model(bricks):
    return train(list(bricks[:3]), calibrate=True, **QUICK)


def copy_of(model):
    """A copy to change, leaving the module's fixture as trained."""
    return copy.deepcopy(model).eval()


def brick_crops(bricks, model):
    """The crops ``train`` made for ``brick_model`` (the default validation and flip)."""
    return CropSet(list(bricks[:3]), model.data, crop=QUICK["crop"], validation=0.1,
                   flip=True, device=torch.device("cpu"))


@pytest.mark.parametrize("prior", ["edge", "above"])
@pytest.mark.parametrize("values", ["continuous", "mixture"])
def test_drawing_moves_every_centre_by_the_offset(values, prior, monkeypatch):
    """Drawing left to right (numpy) adds the offset to every value's centre: the
    deterministic completion equals the reference that re-runs the model, centres moved
    by the offset (torch), for every value; and the offset does move it."""
    image = load_sample("camera")[:40, :32]
    model = train(image, keep_rows=24, values=values, prior=prior, **QUICK)
    assert not model.drift.any()
    plain = complete(model, image, 16)
    model.drift.fill_(6 * LEVEL)
    completed = complete(model, image, 16)
    monkeypatch.setattr(model, "_offset", functools.partial(model._offset, drifted=True))
    expected = naive_completion(model, image, 16)
    got = completed.astype(np.float32).reshape(expected.shape) / 255
    assert np.abs(got - expected).max() <= 1e-6
    assert completed[16:].astype(float).mean() > plain[16:].astype(float).mean() + 2


def test_calibration_cancels_a_bias_of_the_network(bricks, brick_model):
    """Shift every location the network gives by +2 or -3 levels: the fitted offset moves
    by as much the other way (to a tenth of a level), so the draws keep their level."""
    model = copy_of(brick_model)
    crops = brick_crops(bricks, model)
    calibrate_drift(model, crops, seed=0)
    fitted = model.drift.item()
    assert fitted == pytest.approx(brick_model.drift.item())  # what train() fitted
    components, gain = model.value_model.components, model.value_model.LOC_GAIN
    for bias in (2, -3):
        with torch.no_grad():
            model.row_net.out.bias[components:2 * components] += bias * LEVEL / gain
        calibrate_drift(model, crops, seed=0)
        assert model.drift.item() == pytest.approx(fitted - bias * LEVEL, abs=0.1 * LEVEL)
        with torch.no_grad():
            model.row_net.out.bias[components:2 * components] -= bias * LEVEL / gain


def test_calibrated_draws_keep_the_level_of_unseen_rows(bricks, brick_model):
    """The point of it: a model biased by 2 levels draws slice 3's masked rows far too
    bright; calibrated on the training slices only, its draws come back to the truth's
    level."""
    model = copy_of(brick_model)
    components, gain = model.value_model.components, model.value_model.LOC_GAIN
    with torch.no_grad():
        model.row_net.out.bias[components:2 * components] += 2 * LEVEL / gain
    model.drift.zero_()
    truth = bricks[3][32:].astype(float).mean()

    def drawn_level():
        return complete(model, bricks[3], 32, samples=8, seed=0).images[:, 32:].mean()

    biased = drawn_level()
    calibrate_drift(model, brick_crops(bricks, model), seed=0)
    assert biased - truth > 10
    assert abs(drawn_level() - truth) < (biased - truth) / 4


def test_train_fits_an_offset_when_asked_and_for_intensities_only(bricks, brick_model):
    assert brick_model.drift.abs().item() > 0  # fitted: not exactly the trial at zero
    assert not train(list(bricks[:3]), **QUICK).drift.any()  # off by default
    for settings in ({"values": "levels", "levels": 8}, {"binarize": True}):  # no centre
        assert not train(list(bricks[:3]), calibrate=True, **settings, **QUICK).drift.any()


def test_a_stopped_training_keeps_a_calibrated_model(bricks):
    """Stopping (closing the training generator, as the widget and Ctrl-C do) keeps the
    model trained so far, its best weights restored and its offset fitted."""
    steps = train_steps(list(bricks[:3]), TrainConfig(calibrate=True, **QUICK))
    for _ in range(10):
        progress = next(steps)
    steps.close()
    assert progress.step == 10 and progress.model.drift.abs().item() > 0


def test_scores_are_the_trained_models_and_draws_the_corrected_ones(bricks, brick_model):
    """The likelihood of the masked rows and each draw's bits leave the offset out (it
    would cost 0.2 bits per value on the bricks: the predictions are sharper than a
    level); what is drawn moves with it."""
    model = copy_of(brick_model)

    def scores(offset):
        model.drift.fill_(offset * LEVEL)
        draws = complete(model, bricks[3], 32, samples=2, seed=0)
        bits = evaluate(model, bricks[3], 32)["teacher_forced_bits_per_dim_256"]
        rescored = evaluate(model, draws.images[0], 32)["teacher_forced_bits_per_dim_256"]
        return bits, draws, rescored

    bits, draws, rescored = scores(-1)
    bits_without, draws_without, _ = scores(0)
    assert bits == bits_without
    assert not np.array_equal(draws.images, draws_without.images)
    # a draw's bits are its likelihood under the trained model, as evaluate scores it
    model.drift.fill_(-LEVEL)
    assert draws.bits_per_dim[0] == pytest.approx(rescored, rel=1e-4)


def test_checkpoints_keep_the_offset_and_older_ones_load_without_one(tmp_path, bricks,
                                                                    brick_model):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = save_model(brick_model, tmp_path / "bricks.pixelrnn")
    assert torch.equal(load_model(path).drift, brick_model.drift)
    with safe_open(path, "pt") as file:
        metadata = file.metadata()
    tensors = load_file(path)
    del tensors["drift"]
    save_file(tensors, path, metadata={**metadata, "format_version": "6"})
    older = load_model(path)  # format 6 had none: drawn as it was trained
    assert not older.drift.any()
    model = copy_of(brick_model)
    model.drift.zero_()
    a = complete(model, bricks[3], 32, samples=2, seed=1)
    assert np.array_equal(a.images, complete(older, bricks[3], 32, samples=2, seed=1).images)
