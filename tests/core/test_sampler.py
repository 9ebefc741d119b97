"""The sampler keeps the top rows, feeds its own rows back, and never reads masked rows."""

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import PixelRNNError, complete, complete_rows, train
from napari_pixelrnn.core.data import to_rows

from .conftest import tiny


def naive_completion(model, image, keep):
    """Reference: re-run the whole prefix (generated rows included) for every new step,
    and for a left-to-right row, the whole row (values drawn so far) for every value."""
    steps = model.to_steps(torch.from_numpy(to_rows(image, model.data)))
    keep *= model.steps_per_row()
    with torch.no_grad():
        for t in range(keep, steps.shape[1]):
            if model.config.mode == "many-to-many":
                h = model.run(steps[:, :t])[0][:, -1]
            else:
                window = steps[:, max(0, t - model.config.context):t]
                pad = model.config.context - window.shape[1]
                h = model.window(torch.nn.functional.pad(window, (0, 0, pad, 0)))
            if not model.autoregressive:
                steps[:, t] = model.value_model.predict(model.head(h))
                continue
            row = torch.zeros_like(steps[:, t])  # values after j are never read
            for j in range(row.shape[1]):
                row[:, j] = model.value_model.predict(model.head(h, next_rows=row)[:, j])
            steps[:, t] = row
    return steps.reshape(to_rows(image, model.data).shape).numpy()


@pytest.mark.parametrize("settings", [
    {"binarize": True}, {"binarize": False}, {"binarize": True, "cell": "gru"},
    {"binarize": True, "mode": "many-to-one", "context": 4},
    {"binarize": False, "mode": "many-to-one", "context": 4, "bidirectional": True},
    {"values": "levels", "levels": 8},
    {"binarize": True, "within_row": "autoregressive"},
    {"values": "levels", "levels": 8, "within_row": "autoregressive", "cell": "gru"},
    {"values": "continuous", "within_row": "autoregressive", "mode": "many-to-one", "context": 4},
    {"binarize": True, "granularity": "pixel"},
    {"values": "levels", "levels": 4, "granularity": "pixel", "mode": "many-to-one", "context": 8},
], ids=["binary", "continuous", "gru", "many-to-one", "many-to-one-bidi-continuous",
        "levels", "left-to-right-binary", "left-to-right-levels-gru",
        "left-to-right-many-to-one-continuous", "pixel-binary", "pixel-many-to-one-levels"])
def test_incremental_sampler_matches_full_recomputation(stripes, settings):
    """The reference feeds back its own rows; a sampler that fed the true rows (or
    nothing) would differ from it, since the generated rows differ from the truth."""
    image = stripes[:32, :32] if settings.get("granularity") == "pixel" else stripes
    model = train(image, keep_rows=16, **tiny(steps=20, **settings), architecture="dense")
    completed = complete(model, image, keep_rows=10)
    expected = naive_completion(model, image, 10)
    assert not np.array_equal(expected[0, 10:], to_rows(image, model.data)[0, 10:])
    got = to_rows(completed, model.data) if model.data.binary else \
        completed.astype(np.float32).reshape(expected.shape) / 255
    # uint8 rounding of the output; levels land exactly on 0..255 only when K-1 divides 255
    tolerance = 0 if model.data.binary else 1 / 255 + 1e-6
    assert np.abs(got - expected).max() <= tolerance


def test_masked_rows_of_the_input_are_never_read(stripes):
    model = train(stripes, keep_rows=32, **tiny(steps=20, binarize=True), architecture="dense")
    scrambled = stripes.copy()
    scrambled[20:] = np.random.default_rng(0).integers(0, 256, scrambled[20:].shape)
    assert np.array_equal(complete(model, stripes, 20), complete(model, scrambled, 20))


def test_rows_are_yielded_one_at_a_time_in_order(stripes):
    model = train(stripes, **tiny(binarize=True), architecture="dense")
    steps = complete_rows(model, stripes, 60)
    rows = list(steps)
    assert [r.index for r in rows] == [60, 61, 62, 63]
    assert all(r.total == 64 and r.values.shape == (64,) and r.values.dtype == np.uint8 for r in rows)


def test_sampling_is_seeded_and_temperature_zero_is_deterministic(stripes):
    model = train(stripes, **tiny(binarize=True), architecture="dense")
    a = complete(model, stripes, 8, sample=True, seed=3)
    b = complete(model, stripes, 8, sample=True, seed=3)
    c = complete(model, stripes, 8, sample=True, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(complete(model, stripes, 8, sample=True, temperature=0),
                          complete(model, stripes, 8))


def test_stack_slices_are_completed_as_one_batch(stripes):
    stack = np.stack([stripes, np.roll(stripes, 4, axis=1), 255 - stripes])
    model = train(stack, keep_rows=32, **tiny(steps=20, binarize=True), architecture="dense")
    together = complete(model, stack, 16)
    alone = np.stack([complete(model, s, 16) for s in stack])
    assert np.array_equal(together, alone)


def test_a_model_of_another_width_is_refused_naming_both(stripes):
    model = train(stripes, **tiny(binarize=True), architecture="dense")
    with pytest.raises(PixelRNNError, match=r"64 pixels wide.*this image is 32 wide"):
        complete(model, stripes[:, :32], 8)


@pytest.mark.parametrize("keep", [0, -1, 64, 65, 2.5, True, "3"])
def test_keep_rows_out_of_range_is_refused(stripes, keep):
    model = train(stripes, **tiny(binarize=True), architecture="dense")
    with pytest.raises(PixelRNNError, match="keep_rows"):
        complete(model, stripes, keep)


def test_an_untrained_object_is_refused(stripes):
    with pytest.raises(PixelRNNError, match="no data settings"):
        complete(object(), stripes, 8)


def test_iterating_rows_leaves_gradients_on_for_the_caller(stripes):
    model = train(stripes, **tiny(binarize=True), architecture="dense")
    for _ in complete_rows(model, stripes, 60):
        assert torch.is_grad_enabled()  # the generator is suspended here
    assert torch.is_grad_enabled()
