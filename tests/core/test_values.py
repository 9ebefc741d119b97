"""Value models: proper distributions, on their own alphabet and over 8-bit intensities."""

import math

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import PixelRNNError, complete, train
from napari_pixelrnn.core.values import EIGHT_BIT, value_model

from .conftest import tiny

KINDS = [("binary", {}), ("binary", {"threshold": 0.3}), ("continuous", {}),
         ("levels", {"levels": 2}), ("levels", {"levels": 7}), ("levels", {"levels": 256})]


def _out(model, count=5):
    torch.manual_seed(0)
    return torch.randn(count, 1, model.params) * 3


@pytest.mark.parametrize("kind,extra", KINDS)
def test_probabilities_over_the_8_bit_intensities_sum_to_one(kind, extra):
    model = value_model(kind, **extra)
    out = _out(model).expand(-1, 256, -1)  # the same distribution, scored at every intensity
    targets = EIGHT_BIT.float()
    if kind == "binary":  # binary models score binarized rows
        targets = (EIGHT_BIT > model.threshold).float()
    nats = model.nll_256(out, targets.expand(out.shape[0], -1))
    torch.testing.assert_close(torch.exp(-nats.double()).sum(-1),
                               torch.ones(out.shape[0], dtype=torch.float64), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("levels", [2, 5, 256])
def test_levels_probabilities_over_their_own_alphabet_sum_to_one(levels):
    model = value_model("levels", levels=levels)
    alphabet = torch.arange(levels) / (levels - 1)
    out = _out(model).expand(-1, levels, -1)
    nats = model.nll(out, alphabet.expand(out.shape[0], -1))
    torch.testing.assert_close(torch.exp(-nats).sum(-1), torch.ones(out.shape[0]))


def test_levels_targets_round_to_the_nearest_level():
    model = value_model("levels", levels=3)  # levels 0, 0.5, 1
    out = torch.tensor([[[0.0, 5.0, 0.0]]])  # almost surely the middle level
    near, far = model.nll(out, torch.tensor([[0.6]])), model.nll(out, torch.tensor([[0.9]]))
    assert float(near) < 0.02 < float(far)


def test_levels_draws_follow_the_softmax_and_temperature_zero_is_the_mode():
    model = value_model("levels", levels=4)
    logits = torch.tensor([0.0, 1.0, 2.0, -1.0])
    out = logits.expand(20000, 1, 4)
    g = torch.Generator().manual_seed(0)
    drawn = model.predict(out, sample=True, generator=g)[:, 0] * 3
    frequencies = torch.bincount(drawn.round().long(), minlength=4).double() / 20000
    torch.testing.assert_close(frequencies, torch.softmax(logits.double(), 0), atol=0.015, rtol=0)
    for mode in (model.predict(out, sample=True, temperature=0, generator=g), model.predict(out)):
        torch.testing.assert_close(mode, torch.full_like(mode, 2 / 3))


def test_levels_model_learns_more_than_two_intensities():
    """A 4-level image: a binary model cannot represent it; a 4-level model completes it."""
    rows = torch.arange(64)[:, None] + torch.arange(32)[None, :]
    image = ((rows // 4) % 4 * 85).numpy().astype("uint8")  # diagonal bands 0, 85, 170, 255
    model = train(image, keep_rows=32, **tiny(steps=200, hidden_size=32, values="levels",
                                              levels=4), architecture="dense")
    assert model.config.values == "levels" and model.value_model.params == 4
    completed = complete(model, image, keep_rows=32)
    assert set(completed[32:].ravel().tolist()) <= {0, 85, 170, 255}
    assert (completed[32:] == image[32:]).mean() > 0.9


@pytest.mark.parametrize("settings,message", [
    ({"values": "levels", "levels": 1}, "levels must be a whole number from 2 to 256"),
    ({"values": "levels", "levels": 300}, "levels must be a whole number from 2 to 256"),
    ({"values": "levels", "binarize": True}, "makes the image binary"),
    ({"values": "gaussian"}, "Unknown values 'gaussian'"),
    ({"within_row": "sideways"}, "Unknown within_row"),
    ({"granularity": "patch"}, "Unknown granularity"),
])
def test_bad_value_settings_are_refused_clearly(stripes, settings, message):
    with pytest.raises(PixelRNNError, match=message):
        train(stripes, **tiny(**settings), architecture="dense")


def test_values_binary_binarizes_and_none_follows_binarize(stripes):
    assert train(stripes, **tiny(values="binary"), architecture="dense").data.binary
    assert train(stripes, **tiny(binarize=True), architecture="dense").config.values == "binary"
    assert train(stripes, **tiny(), architecture="dense").config.values == "continuous"


def test_comparable_bits_put_a_binary_image_on_the_8_bit_scale():
    """A certain binary model pays log2(#intensities in the level) bits on the 8-bit scale."""
    model = value_model("binary", threshold=0.5)  # 0..127 -> 0, 128..255 -> 1
    sure = torch.tensor([[[50.0]]])
    assert float(model.nll(sure, torch.ones(1, 1))) < 1e-6
    assert math.isclose(float(model.nll_256(sure, torch.ones(1, 1))) / math.log(2), 7, abs_tol=1e-4)


@pytest.mark.parametrize("kind", ["continuous", "mixture"])
def test_huge_scales_give_finite_gradients(kind):
    """Black and white images favour huge scales (the end bins take the tails); the
    likelihood of a mid-range value must not turn their gradients into NaN."""
    model = value_model(kind, components=2)
    out = torch.zeros(4, model.params)
    out[:, -1 if kind == "continuous" else slice(-2, None)] = 200.0  # log-scales
    out.requires_grad_(True)
    target = torch.tensor([0.0, 0.3, 0.7, 1.0])
    model.nll(out, target).sum().backward()
    assert torch.isfinite(out.grad).all()


def test_a_row_lstm_on_black_and_white_stripes_trains_without_nan():
    r, c = np.mgrid[:16, :20]
    stripes = ((((r + c) // 4) % 2) * 255).astype(np.uint8)
    losses = []
    model = train(stripes, steps=150, hidden_size=8, patience=0,
                  progress=lambda p: losses.append(p.loss_bits_per_dim))
    assert len(losses) == 150 and np.all(np.isfinite(losses)), losses
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("architecture", ["row-lstm", "dense"])
def test_a_mixtures_components_learn_apart(architecture):
    """A mixture is a mixture only if its components can differ. Its output layer once
    started at zero, which gave every component the same gradients: a trained Row LSTM's
    five components were equal to the last bit, one logistic five times."""
    from napari_pixelrnn.core import load_sample

    image = load_sample("camera")[:40, :40]
    model = train(image, keep_rows=32, values="mixture", steps=60, hidden_size=8,
                  architecture=architecture)
    rows = torch.from_numpy(image[:32].astype(np.float32) / 255)[None]
    with torch.no_grad():
        out = model(rows[:, :-1], rows[:, 1:])
    logits, locations, _ = model.value_model._split(out)
    weights = torch.softmax(logits, -1)
    assert (weights.max(-1).values - weights.min(-1).values).median() > 0.05
    assert ((locations.max(-1).values - locations.min(-1).values) * 255).median() > 0.1
