"""Many completions at once: shapes, seeds, each one's likelihood, ranking, uncertainty."""

import math

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import (
    Completions,
    PixelRNNError,
    complete,
    complete_rows,
    train,
    uncertainty,
)
from napari_pixelrnn.core.data import to_rows
from napari_pixelrnn.core.evaluation import teacher_forced_nll

from .conftest import tiny

KEEP = 24


@pytest.fixture(scope="module")
def noisy():
    """Stripes with noise: a model trained on it is unsure, so samples differ."""
    r, c = np.mgrid[:40, :32]
    image = ((((r + c) // 8) % 2) * 255).astype(np.uint8)
    flip = np.random.default_rng(0).random(image.shape) < 0.1
    return np.where(flip, 255 - image, image).astype(np.uint8)


@pytest.mark.parametrize("settings", [
    {"binarize": True}, {"values": "levels", "levels": 4},
    {"binarize": True, "within_row": "autoregressive"},
    {"values": "mixture", "within_row": "autoregressive"},
    {"architecture": "row-lstm", "crop": 16},
    {"architecture": "row-lstm", "crop": 16, "values": "continuous", "prior": "above"},
], ids=["binary", "levels", "left-to-right", "left-to-right-mixture", "row-lstm",
        "row-lstm-continuous-above"])
def test_each_completion_carries_the_model_likelihood_of_its_values(noisy, settings):
    """The bits/dim a completion is ranked by is the teacher-forced NLL of that very
    completion's masked rows: a sampler scoring other values (or the truth) would differ."""
    model = train(noisy, keep_rows=KEEP, **tiny(steps=30, **({"architecture": "dense"} | settings)))
    result = complete(model, noisy, KEEP, samples=4, seed=1)
    assert isinstance(result, Completions)
    assert result.images.shape == (4, *noisy.shape) and result.images.dtype == np.uint8
    assert (result.images[:, :KEEP] == noisy[:KEEP]).all()
    for image, nats in zip(result.images, result.nats_per_dim):
        rows = torch.from_numpy(to_rows(image, model.data))
        with torch.no_grad():
            expected = float(teacher_forced_nll(model.eval(), rows, KEEP).double().mean())
        assert math.isclose(nats, expected, rel_tol=1e-4, abs_tol=1e-6)
    assert len({img.tobytes() for img in result.images}) > 1  # draws differ
    np.testing.assert_allclose(result.bits_per_dim, result.nats_per_dim / math.log(2))


def test_ranked_puts_the_most_probable_first(noisy):
    model = train(noisy, keep_rows=KEEP, **tiny(steps=30, binarize=True), architecture="dense")
    result = complete(model, noisy, KEEP, samples=6, seed=2)
    ranked = result.ranked()
    assert np.all(np.diff(ranked.nats_per_dim) >= 0)
    order = np.argsort(result.nats_per_dim, kind="stable")
    assert np.array_equal(ranked.images, result.images[order])


def test_samples_are_seeded_and_temperature_zero_repeats_the_deterministic_completion(noisy):
    model = train(noisy, keep_rows=KEEP, **tiny(steps=30, binarize=True), architecture="dense")
    a = complete(model, noisy, KEEP, samples=3, seed=5)
    b = complete(model, noisy, KEEP, samples=3, seed=5)
    c = complete(model, noisy, KEEP, samples=3, seed=6)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    cold = complete(model, noisy, KEEP, samples=3, temperature=0, seed=5)
    assert all(np.array_equal(image, complete(model, noisy, KEEP)) for image in cold.images)


def test_rows_of_every_sample_are_yielded_with_a_leading_sample_axis(noisy):
    model = train(noisy, keep_rows=KEEP, **tiny(binarize=True), architecture="dense")
    steps = complete_rows(model, np.stack([noisy, noisy]), 36, samples=3, seed=0)
    rows = list(steps)
    assert [r.index for r in rows] == [36, 37, 38, 39]
    assert all(r.values.shape == (3, 2, 32) for r in rows)


@pytest.mark.parametrize("samples", [0, -1, 1.5, True, 1001])
def test_a_bad_number_of_samples_is_refused(noisy, samples):
    model = train(noisy, **tiny(binarize=True), architecture="dense")
    with pytest.raises(PixelRNNError, match="samples must be"):
        complete(model, noisy, KEEP, samples=samples)


def test_uncertainty_is_zero_on_kept_rows_and_measures_disagreement(noisy):
    model = train(noisy, keep_rows=KEEP, **tiny(steps=30, binarize=True), architecture="dense")
    images = complete(model, noisy, KEEP, samples=8, seed=0).images
    spread, bits = uncertainty(images, "std"), uncertainty(images, "entropy")
    assert spread.shape == bits.shape == noisy.shape and spread.dtype == np.float32
    assert not spread[:KEEP].any() and not bits[:KEEP].any()
    assert spread[KEEP:].max() > 0 and bits.max() <= math.log2(8) + 1e-6
    # entropy, worked by hand for one pixel of each kind
    for y, x in [(KEEP + 3, 5), (KEEP + 10, 20)]:
        _, counts = np.unique(images[:, y, x], return_counts=True)
        p = counts / counts.sum()
        assert math.isclose(bits[y, x], float(-(p * np.log2(p)).sum()), abs_tol=1e-5)
        assert math.isclose(spread[y, x], float(images[:, y, x].std()), rel_tol=1e-5)


@pytest.mark.parametrize("images,kind,message", [
    (np.zeros((1, 4, 4)), "std", "at least 2 completions"),
    (np.zeros((4, 4)), "std", "at least 2 completions"),
    (np.zeros((3, 4, 4)), "variance", "Unknown uncertainty"),
])
def test_bad_uncertainty_input_is_refused(images, kind, message):
    with pytest.raises(PixelRNNError, match=message):
        uncertainty(images, kind)
