"""``own_rows``: while training, a share of the rows a Row LSTM reads are its own draws of
them (scheduled sampling), never the rows it predicts, so that drawing (which reads the
model's own rows) does not take its errors for structure."""

import torch

from napari_pixelrnn.core import train
from napari_pixelrnn.core.row_lstm import training
from napari_pixelrnn.core.row_lstm.model import RowLSTM, RowLSTMConfig

from .test_input_noise import _smooth_image


def _reads(monkeypatch, share, perfect=False):
    """What the model's forward passes read and predicted in one training step of
    ``share``; with ``perfect``, every draw is half the true value it is a draw of."""
    seen = []
    original = RowLSTM.forward
    monkeypatch.setattr(RowLSTM, "forward", lambda self, rows, next_rows: (
        seen.append((rows.clone(), next_rows.clone())), original(self, rows, next_rows))[1])
    model = RowLSTM(RowLSTMConfig(hidden_size=8, channels=1))
    rows = torch.rand(64, 12, 16) * 0.8 + 0.1
    if perfect:  # marks each draw with the row it stands for
        monkeypatch.setattr(model.value_model, "draw", lambda out, noise: rows[:, 1:] * 0.5)
    training._step(model, rows, torch.optim.SGD(model.parameters(), lr=0.0), 0.0, share)
    return rows, seen


def test_off_reads_the_true_rows_in_one_pass(monkeypatch):
    rows, seen = _reads(monkeypatch, 0.0)
    assert len(seen) == 1 and torch.equal(seen[0][0], rows[:, :-1])


def test_each_row_read_is_a_draw_of_that_same_row_and_the_targets_stay_true(monkeypatch):
    rows, seen = _reads(monkeypatch, 1.0, perfect=True)
    (first_read, first_predicted), (read, predicted) = seen  # the draws' pass, the step's
    assert torch.equal(first_read, rows[:, :-1]) and torch.equal(first_predicted, rows[:, 1:])
    assert torch.equal(predicted, rows[:, 1:])  # the rows predicted and their left values
    assert torch.equal(read[:, 0], rows[:, 0])  # nothing draws the first row
    # row t read is the draw of row t (not of row t + 1, which it predicts)
    assert torch.equal(read[:, 1:], rows[:, 1:-1] * 0.5)


def test_a_share_of_the_rows_read_are_draws(monkeypatch):
    rows, seen = _reads(monkeypatch, 0.5)
    read = seen[1][0]
    kept = (read[:, 1:] == rows[:, 1:-1]).all(-1).float().mean().item()
    assert 0.4 < kept < 0.6  # 640 rows, each drawn with probability 0.5
    changed = read[:, 1:][(read[:, 1:] != rows[:, 1:-1]).any(-1)]
    assert 0 <= changed.min() and changed.max() <= 1
    assert torch.equal(torch.round(changed * 255), changed * 255)  # on the 8-bit bins


def test_a_model_trained_on_its_own_draws_is_less_thrown_by_them():
    """The point of it: reading its own one-row draws instead of the true rows costs the
    model trained on them less than half what it costs the model trained without."""
    image = _smooth_image()
    rows = torch.as_tensor(image, dtype=torch.float32)[None] / 255

    def nats(model, above):
        with torch.no_grad():
            return model.value_model.nll(model(above, rows[:, 1:]), rows[:, 1:]).mean().item()

    cost = {}
    for share in (0.0, 1.0):
        model = train(image, steps=150, hidden_size=8, crop=16, validation=0,
                      own_rows=share, seed=0, threads=1)
        torch.manual_seed(5)
        own = training._with_own_draws(model, rows[:, :-1], rows[:, 1:], 1.0)
        cost[share] = nats(model, own) - nats(model, rows[:, :-1])
    assert cost[0.0] > 0.5  # its own draws do throw a model trained on true rows
    assert cost[1.0] < 0.6 * cost[0.0]  # measured: 0.42-0.47 of it over seeds 0-2
