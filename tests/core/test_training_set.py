"""Training on several images, and the pixel-by-pixel mode's limits."""

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import PixelRNNError, complete, evaluate, train
from napari_pixelrnn.core.data import to_rows
from napari_pixelrnn.core.evaluation import teacher_forced_nll

from .conftest import tiny


def bands(height, width, period):
    r, c = np.mgrid[:height, :width]
    return ((((r + c) // period) % 2) * 255).astype(np.uint8)


def nll(model, image):
    rows = torch.from_numpy(to_rows(image, model.data))
    with torch.no_grad():
        return float(teacher_forced_nll(model.eval(), rows, 1).mean())


def test_a_second_image_of_another_height_is_learned_too():
    a, b = bands(48, 32, 8), bands(40, 32, 3)  # different heights and patterns
    only_a = train(a, **tiny(steps=120, hidden_size=32, binarize=True), architecture="dense")
    both = train([a, b], **tiny(steps=120, hidden_size=32, binarize=True), architecture="dense")
    assert nll(both, b) < 0.5 * nll(only_a, b)  # measured 0.20-0.24 vs 0.81-1.07 nats
    assert complete(both, b, 20).shape == b.shape


def test_a_list_of_one_image_trains_exactly_like_the_image():
    a = bands(32, 16, 4)
    one, listed = train(a, **tiny(), architecture="dense"), train([a], **tiny(), architecture="dense")
    for (name, x), (_, y) in zip(one.state_dict().items(), listed.state_dict().items()):
        assert torch.equal(x, y), name


def test_float_images_share_one_intensity_range():
    a = np.linspace(0, 1, 16 * 8, dtype=np.float32).reshape(16, 8)
    model = train([a, a * 5 - 2], **tiny(), architecture="dense")
    assert (model.data.low, model.data.high) == (-2.0, 3.0)


@pytest.mark.parametrize("images,message", [
    ([np.zeros((8, 8), np.uint8), np.zeros((8, 9), np.uint8)], "image 1 is 9 wide"),
    ([np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint16)], "uint16"),
    ([np.zeros((40, 40, 3), np.uint8), np.zeros((40, 40), np.uint8)], "all be colour or all grayscale"),
    ([], "list of training images is empty"),
])
def test_mismatched_training_sets_are_refused_naming_the_image(images, message):
    originals = [i.copy() for i in images]
    with pytest.raises(PixelRNNError, match=message):
        train(images, **tiny(), architecture="dense")
    assert all(np.array_equal(i, o) for i, o in zip(images, originals))


def test_keep_rows_applies_to_every_image():
    a, b = bands(32, 16, 4), bands(24, 16, 4)
    other_b = b.copy()
    other_b[10:] = 255 - other_b[10:]
    x = train([a, b], keep_rows=10, **tiny(binarize=0.5), architecture="dense")
    y = train([a, other_b], keep_rows=10, **tiny(binarize=0.5), architecture="dense")
    for (name, p), (_, q) in zip(x.state_dict().items(), y.state_dict().items()):
        assert torch.equal(p, q), name


def test_pixel_mode_refuses_colour_and_large_images_with_the_limit():
    with pytest.raises(PixelRNNError, match="grayscale"):
        train(np.zeros((40, 40, 3), np.uint8), **tiny(granularity="pixel"), architecture="dense")
    with pytest.raises(PixelRNNError, match=r"16641 steps.*limit of 16384"):
        train(np.zeros((129, 129), np.uint8), **tiny(granularity="pixel"), architecture="dense")


def test_pixel_mode_learns_the_raster_sequence():
    image = bands(16, 16, 4)
    model = train(image, **tiny(steps=150, hidden_size=32, binarize=True, granularity="pixel"), architecture="dense")
    assert model.config.input_size == 1 and model.steps_per_row() == 16
    scores = evaluate(model, image, 8)
    assert scores["free_running_pixel_accuracy_pct"] > 85  # measured 90.6-96.9 over 3 seeds
