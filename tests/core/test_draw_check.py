"""The Row LSTM's draw check: after training, how much its draws of its own training rows
vary against those rows (row to row, pixel to pixel; 1 is right), said by the front ends
as a warning before completing."""

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import RowLSTM, load_sample, train, train_steps
from napari_pixelrnn.core.data import DataSpec
from napari_pixelrnn.core.row_lstm.draw_check import (
    WARN,
    DrawCheck,
    check_draws,
    draw_check_text,
)
from napari_pixelrnn.core.training import TrainConfig

from .test_calibration import QUICK, brick_crops


def untrained(bricks):
    """A Row LSTM as built (centred on the value above, its spread the whole range), for
    the bricks' uint8 values, and the crops training on slices 0-2 makes."""
    model = RowLSTM(channels=1, hidden_size=8, prior="above")
    model.data = DataSpec("uint8", 64, 1, False, 0.0, 255.0, None)
    return model.eval(), brick_crops(bricks, model)


def test_draws_of_noise_are_far_noisier_than_the_rows(bricks):
    """An untrained model centred on the value above with a spread of the whole range
    draws noise: both ratios far above 1, and the text warns."""
    model, crops = untrained(bricks)
    check = check_draws(model, crops, seed=0)
    assert check.row_to_row > 5 and check.pixel_to_pixel > 3, check
    model.draw_check = check
    assert "expect completions noisier or streakier than the image" in draw_check_text(model)


def test_draws_that_copy_the_row_above_are_flat_from_row_to_row(bricks):
    """The dense model's failure, copying the last kept row down: with a spread far below
    a level, every drawn value is the one above it (but for the mixture's 1e-3 uniform
    floor), so the drawn rows do not change from row to row (ratio near 0) while each
    keeps the texture of the last true row along the row (near 1: that row's variation
    against the average row's); the text says flatter."""
    model, crops = untrained(bricks)
    with torch.no_grad():  # every value's parameters: centred on the value above, and
        model.row_net.out.weight.zero_()  # the mixture's log-scales (its last third of
        model.row_net.out.bias[-model.config.components:] = -20.0  # outputs) tiny
    check = check_draws(model, crops, seed=0)
    assert check.row_to_row < 0.1 and 0.75 < check.pixel_to_pixel < WARN, check
    model.draw_check = check
    assert draw_check_text(model).endswith("expect completions flatter than the image")


def test_training_checks_the_draws_from_the_kept_rows_only(bricks):
    """Training ends with the check, as the model will draw (its ratios measured, not
    left out); the masked rows are never read: changing them changes nothing."""
    image = load_sample("camera")[:48, :48]
    model = train(image, keep_rows=32, **QUICK)
    check = model.draw_check
    assert isinstance(check, DrawCheck) and check.row_to_row > 0 and check.pixel_to_pixel > 0
    changed = image.copy()
    changed[32:] = 255 - changed[32:]
    assert train(changed, keep_rows=32, **QUICK).draw_check == check


def test_a_stopped_training_is_checked(bricks):
    steps = train_steps(list(bricks[:3]), TrainConfig(**QUICK))
    for _ in range(5):
        progress = next(steps)
    steps.close()
    assert isinstance(progress.model.draw_check, DrawCheck)


@pytest.mark.parametrize("ratios, says", [
    ((1.1, 0.9), None),
    ((1.0, WARN), "noisier or streakier"),
    ((0.5, 1.0), "flatter"),
    ((None, 2.0), "noisier or streakier"),
])
def test_the_text_says_the_ratios_and_warns_beyond_the_limit(ratios, says):
    model = RowLSTM(channels=1)
    model.draw_check = DrawCheck(*ratios)
    text = draw_check_text(model)
    shown = [f"{r:.2f}x" for r in ratios if r is not None]
    assert all(s in text for s in shown) and text.count("x as much") == len(shown)
    assert (says in text) if says else "expect" not in text


def test_rows_that_never_vary_give_no_ratio_and_no_text():
    """A ratio to nothing is no ratio: constant training rows."""
    flat = np.full((3, 40, 40), 100, np.uint8)
    model = train(list(flat), **QUICK)
    assert model.draw_check == DrawCheck(None, None)
    assert draw_check_text(model) is None
    model.draw_check = None  # a loaded model: never checked
    assert draw_check_text(model) is None
