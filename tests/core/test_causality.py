"""No prediction may depend on the row it predicts or any row below it."""

import copy

import pytest
import torch

from napari_pixelrnn.core import GenModel, PixelRNNError
from napari_pixelrnn.core.dense.windows import windows_before
from napari_pixelrnn.core.evaluation import teacher_forced_nll

ROWS, WIDTH, CUT = 12, 10, 5
ARCHITECTURES = [
    {"cell": cell, "mode": mode, "bidirectional": bidi, "values": values, "num_layers": 2, "dropout": 0.2}
    for cell in ("gru", "lstm", "rnn")
    for mode, bidi in (("many-to-many", False), ("many-to-one", False), ("many-to-one", True))
    for values in ("binary", "continuous", "levels")
]


def _id(arch):
    return f"{arch['cell']}-{arch['mode']}{'-bidi' if arch['bidirectional'] else ''}-{arch['values']}"


def next_row_predictions(model, rows):
    """Predictions for rows 1..H-1, each from the rows above, as training computes them."""
    if model.config.mode == "many-to-many":
        return model(rows[:, :-1])
    n, height, _ = rows.shape
    targets = torch.arange(1, height).repeat(n)
    slices = torch.arange(n).repeat_interleave(height - 1)
    return model(windows_before(rows, slices, targets, model.config.context)).reshape(
        n, height - 1, WIDTH, -1)



def leaks(model, training):
    """Whether predictions for rows <= CUT change when rows >= CUT change."""
    torch.manual_seed(0)
    rows = torch.rand(3, ROWS, WIDTH)
    model.train()
    model(rows[:, :-1] if model.config.mode == "many-to-many" else rows[:, :4])  # warm statistics
    perturbed = rows.clone()
    perturbed[:, CUT:] = torch.rand(3, ROWS - CUT, WIDTH)

    def predict(data):
        m = copy.deepcopy(model).train(training)  # same statistics for both runs
        torch.manual_seed(1)  # same dropout masks for both runs
        return next_row_predictions(m, data)

    before, after = predict(rows), predict(perturbed)
    # the check can fail: the prediction of the row after the cut does change
    assert not torch.equal(before[:, CUT:], after[:, CUT:])
    # position t predicts row t + 1: rows <= CUT are predicted by positions < CUT
    return not torch.equal(before[:, :CUT], after[:, :CUT])


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=_id)
def test_predictions_ignore_the_rows_they_predict_and_below(arch, training):
    torch.manual_seed(0)
    assert not leaks(GenModel(WIDTH, hidden_size=8, context=4, levels=5, **arch), training)


class _PlainBatchNorm(torch.nn.BatchNorm1d):
    def forward(self, x):  # normalize (batch, rows, features) with batch statistics
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def test_the_check_catches_plain_batch_norm_in_training():
    model = GenModel(WIDTH, hidden_size=8)
    model.norm = _PlainBatchNorm(8)
    assert leaks(model, training=True)


def test_the_check_catches_a_bidirectional_many_to_many_model():
    model = GenModel(WIDTH, hidden_size=8)
    model.rnn = torch.nn.LSTM(8, 8, batch_first=True, bidirectional=True)
    model.decoder = torch.nn.Linear(16, WIDTH)
    assert leaks(model, training=False)


def test_evaluation_scores_each_row_from_the_rows_above_only():
    torch.manual_seed(0)
    model = GenModel(WIDTH, hidden_size=8, values="continuous").eval()
    rows = torch.rand(2, ROWS, WIDTH)
    perturbed = rows.clone()
    perturbed[:, CUT + 1:] += 0.5
    nll, nll_perturbed = teacher_forced_nll(model, rows, 3), teacher_forced_nll(model, perturbed, 3)
    # masked rows 3..CUT (nll positions 0..CUT-3) keep their score
    assert torch.equal(nll[:, : CUT - 2], nll_perturbed[:, : CUT - 2])
    assert not torch.equal(nll, nll_perturbed)


def test_bidirectional_many_to_many_is_refused_with_the_reason():
    with pytest.raises(PixelRNNError, match="backward direction would read the rows below"):
        GenModel(WIDTH, bidirectional=True, mode="many-to-many")


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_one_step_equals_the_sequence_rnn(cell):
    """The sampler's single-row step must compute what the training-time RNN computes."""
    torch.manual_seed(0)
    model = GenModel(WIDTH, hidden_size=8, num_layers=2, cell=cell, values="continuous").eval()
    rows = torch.rand(3, ROWS, WIDTH)
    with torch.no_grad():
        whole, _ = model.run(rows)
        _, state = model.run(rows[:, :4])
        stepped = []
        for t in range(4, ROWS):
            params, state = model.step(rows[:, t], state)
            stepped.append(params)
    torch.testing.assert_close(torch.stack(stepped, 1), whole[:, 4:], rtol=1e-5, atol=1e-5)


# --- within a row: value j of a left-to-right row sees values 0..j-1 only -------------
PIXELS, CHANNELS = 4, 3
VALUES = PIXELS * CHANNELS  # a colour row, flattened as (pixel, channel): R, G, B, R, ...
LEFT_TO_RIGHT = [{"mode": mode, "values": values, "within_row": "autoregressive", "levels": 5}
                 for mode in ("many-to-many", "many-to-one")
                 for values in ("binary", "continuous", "levels")]


def row_params(model, rows, target):
    """Teacher-forced parameters of row ``target``, ``(N, D, P)``."""
    if model.config.mode == "many-to-many":
        return model(rows[:, :-1], next_rows=rows[:, 1:])[:, target - 1]
    n = rows.shape[0]
    windows = windows_before(rows, torch.arange(n), torch.full((n,), target), model.config.context)
    return model(windows, next_rows=rows[:, target])


def within_row_leaks(model, value):
    """Whether value ``value`` of row CUT changes when it, later values of the row, or
    later rows change; and check that the value before it does matter."""
    torch.manual_seed(0)
    rows = torch.rand(2, ROWS, VALUES).round()  # 0/1 values suit every value model
    later = rows.clone()
    later[:, CUT, value:] = 1 - later[:, CUT, value:]
    later[:, CUT + 1:] = 1 - later[:, CUT + 1:]
    model.eval()
    with torch.no_grad():
        before = row_params(model, rows, CUT)
        if value > 0:  # the check can fail: the previous value is read
            earlier = rows.clone()
            earlier[:, CUT, value - 1] = 1 - earlier[:, CUT, value - 1]
            assert not torch.equal(before[:, value], row_params(model, earlier, CUT)[:, value])
        return not torch.equal(before[:, :value + 1], row_params(model, later, CUT)[:, :value + 1])


@pytest.mark.parametrize("arch", LEFT_TO_RIGHT, ids=lambda a: f"{a['mode']}-{a['values']}")
def test_each_value_sees_only_the_values_to_its_left(arch):
    torch.manual_seed(0)
    model = GenModel(VALUES, hidden_size=8, context=4, **arch)
    for value in range(VALUES):
        assert not within_row_leaks(model, value), value


def colour_order(model):
    """Which channels of a pixel change which others' parameters: (G->R, B->R, B->G,
    R->G, R->B, G->B). Raster order within a pixel means the first three are False."""
    rows = torch.rand(2, ROWS, VALUES).round()
    red, green, blue = (2 * CHANNELS + c for c in range(3))

    def changes(changed, seen):
        other = rows.clone()
        other[:, CUT, changed] = 1 - other[:, CUT, changed]
        with torch.no_grad():
            return not torch.equal(row_params(model, rows, CUT)[:, seen],
                                   row_params(model, other, CUT)[:, seen])

    return tuple(changes(a, b) for a, b in ((green, red), (blue, red), (blue, green),
                                            (red, green), (red, blue), (green, blue)))


def test_colours_are_generated_red_then_green_then_blue():
    """Within a pixel, R sees neither G nor B, G sees R, and B sees R and G."""
    torch.manual_seed(0)
    model = GenModel(VALUES, hidden_size=8, values="levels", levels=5,
                     within_row="autoregressive").eval()
    assert colour_order(model) == (False, False, False, True, True, True)


def test_the_check_catches_a_row_net_that_reads_the_value_it_predicts(monkeypatch):
    from napari_pixelrnn.core import row_net

    def unshifted(self, features, row):  # the mutant: value j reads value j
        lead, width = row.shape[:-1], row.shape[-1]
        out = self._stack(features.reshape(-1, width, row_net.FEATURES), row.reshape(-1, width))
        return out.reshape(*lead, width, -1)

    monkeypatch.setattr(row_net.CausalRowNet, "forward", unshifted)
    torch.manual_seed(0)
    model = GenModel(VALUES, hidden_size=8, within_row="autoregressive")
    assert within_row_leaks(model, 3)


def test_an_autoregressive_model_needs_the_true_row_to_score_it():
    model = GenModel(VALUES, hidden_size=8, within_row="autoregressive")
    with pytest.raises(PixelRNNError, match="needs the next rows"):
        model(torch.rand(1, 3, VALUES))


def test_pixel_mode_predicts_each_pixel_from_the_pixels_before_it_only():
    torch.manual_seed(0)
    model = GenModel(1, hidden_size=8, granularity="pixel").eval()
    pixels = torch.rand(2, 40, 1)
    other = pixels.clone()
    other[:, 20:] = torch.rand(2, 20, 1)
    with torch.no_grad():
        a, b = model(pixels[:, :-1]), model(other[:, :-1])
    assert torch.equal(a[:, :20], b[:, :20]) and not torch.equal(a[:, 20:], b[:, 20:])
