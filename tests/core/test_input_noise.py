"""``input_noise``: noise on the rows a Row LSTM reads while training, never on the rows it
predicts, so that drawing (which reads the model's own rows) does not amplify errors."""

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from napari_pixelrnn.core import PixelRNNError, train
from napari_pixelrnn.core.row_lstm import training
from napari_pixelrnn.core.row_lstm.model import RowLSTM, RowLSTMConfig


def _smooth_image(size=48):
    field = gaussian_filter(np.random.default_rng(0).normal(size=(size, size)), 2)
    return np.round((field - field.min()) / np.ptp(field) * 255).astype(np.uint8)


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_noise_reaches_the_rows_read_and_never_the_rows_predicted(monkeypatch, noise):
    seen = []
    original = RowLSTM.forward
    monkeypatch.setattr(RowLSTM, "forward", lambda self, rows, next_rows: (
        seen.append((rows.clone(), next_rows.clone())), original(self, rows, next_rows))[1])
    model = RowLSTM(RowLSTMConfig(hidden_size=8, channels=1))
    rows = torch.rand(4, 16, 16) * 0.8 + 0.1  # away from 0 and 1: no clipping
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    training._step(model, rows, optimizer, noise, 0.0)
    read, predicted = seen[0]
    assert torch.equal(predicted, rows[:, 1:])  # the targets and their left values: true
    difference = read - rows[:, :-1]
    if noise:
        assert abs(difference.std().item() - noise) < 0.1 * noise
        assert 0 <= read.min() and read.max() <= 1
    else:
        assert torch.equal(read, rows[:, :-1])


def test_a_model_trained_on_noisy_rows_is_less_thrown_by_noisy_rows():
    """The point of it: reading rows with errors in them (as drawing does) costs the
    model trained with noise about half what it costs the model trained without."""
    image = _smooth_image()
    rows = torch.as_tensor(image, dtype=torch.float32)[None] / 255
    noisy = (rows + 0.03 * torch.randn(rows.shape, generator=torch.Generator().manual_seed(1))
             ).clamp(0, 1)

    def nats(model, above):
        with torch.no_grad():
            return model.value_model.nll(model(above[:, :-1], rows[:, 1:]),
                                         rows[:, 1:]).mean().item()

    cost = {}
    for noise in (0.0, 0.03):
        model = train(image, steps=150, hidden_size=8, crop=16, validation=0,
                      input_noise=noise, seed=0, threads=1)
        cost[noise] = nats(model, noisy) - nats(model, rows)
    assert cost[0.0] > 0.3  # noise in the rows read does hurt a model trained without
    assert cost[0.03] < 0.75 * cost[0.0]  # measured: 0.43-0.53 of it over seeds 0-2


@pytest.mark.parametrize("setting,accepted", [
    ("input_noise", "a standard deviation from 0 to 1"),
    ("own_rows", "a share of the rows read from 0 to 1")])  # see test_own_rows.py
@pytest.mark.parametrize("bad", [-0.1, 1.5, True, "0.1"])
def test_altered_rows_read_outside_0_to_1_are_refused(setting, accepted, bad):
    with pytest.raises(PixelRNNError, match=f"{setting} must be {accepted}"):
        train(np.zeros((16, 16), np.uint8), steps=1, **{setting: bad})


@pytest.mark.parametrize("setting", ["input_noise", "own_rows"])
def test_the_dense_model_refuses_altered_rows_read(setting):
    with pytest.raises(PixelRNNError, match=f"{setting}=0.01.*row-lstm architecture"):
        train(np.zeros((16, 16), np.uint8), steps=1, architecture="dense", **{setting: 0.01})
