"""A row drawn left to right (numpy, value by value) is what the teacher-forced parameters
of that same row say: their median or mode at temperature 0, and with the same random
numbers, the same draws; every value model, grey and colour, the Row LSTM with either
prior and the dense model's left-to-right rows."""

import pytest
import torch

from napari_pixelrnn.core import GenModel, RowLSTM, RowLSTMConfig
from napari_pixelrnn.core.drawing import Drawing
from napari_pixelrnn.core.values import VALUE_KINDS

PIXELS, ROWS, DRAWS = 7, 5, 6

MODELS = [("row-lstm", "edge"), ("row-lstm", "above"), ("dense", None)]


def _model(architecture, prior, values, channels):
    """A random model in float64 (so the numpy and torch paths agree to ~1e-15 and no
    value lands on the other side of a bin edge by rounding alone), with an output layer
    that is not near zero, so every input shows in the parameters."""
    torch.manual_seed(0)
    if architecture == "row-lstm":
        model = RowLSTM(RowLSTMConfig(channels=channels, hidden_size=8, values=values,
                                      levels=5, components=3, prior=prior))
    else:
        model = GenModel(PIXELS * channels, hidden_size=8, values=values, levels=5,
                         components=3, within_row="autoregressive")
        if hasattr(model, "marginal"):  # a per-value centre that is not neutral
            model.marginal[0] = torch.rand(PIXELS * channels)
            model.marginal[1] = torch.rand(PIXELS * channels) - 4
    torch.nn.init.normal_(model.row_net.out.weight, std=0.5)
    return model.double().eval()


def _features(model, channels):
    """What the model knows before the next row, for DRAWS rows: the step's output."""
    rows = torch.rand(DRAWS, ROWS, PIXELS * channels, dtype=torch.float64,
                      generator=torch.Generator().manual_seed(1))
    features = model.run(rows)[0][:, -1]
    # outputs centred on zero: relu features through one weight vector per output give
    # every value of a row the same sign (all 0 in a binary row), which tests too little
    some_row = torch.rand(DRAWS, PIXELS * channels, dtype=torch.float64,
                          generator=torch.Generator().manual_seed(2))
    model.row_net.out.bias -= model.head(features, next_rows=some_row).mean((0, 1))
    return features


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("values", VALUE_KINDS)
@pytest.mark.parametrize("architecture,prior", MODELS)
def test_a_drawn_row_is_what_its_teacher_forced_parameters_say(architecture, prior, values,
                                                              channels):
    model = _model(architecture, prior, values, channels)
    vm = model.value_model
    with torch.no_grad():
        features = _features(model, channels)
        width = PIXELS * channels
        # temperature 0: the most probable value (binary, levels) or the median
        row, params = model.row_sampler(Drawing(vm, True, 0.0, None))(features)
        teacher = model.head(features, next_rows=row)
        torch.testing.assert_close(params, teacher, rtol=0, atol=1e-12)
        assert torch.equal(row, vm.predict(teacher))
        assert len(row.unique()) > 1  # the check can fail
        # drawn: the same random numbers, given to the teacher-forced parameters at once
        temperature = 1.3
        g = torch.Generator().manual_seed(2)
        row, params = model.row_sampler(Drawing(vm, True, temperature, g))(features)
        teacher = model.head(features, next_rows=row)
        torch.testing.assert_close(params, teacher, rtol=0, atol=1e-12)
        g = torch.Generator().manual_seed(2)
        noise = vm.noise((width, DRAWS), temperature, g, features)  # the row's, value-major
        expected = vm.draw(teacher, tuple(n.transpose(0, 1) for n in noise))
        assert torch.equal(row, expected)
        assert not torch.equal(row, vm.predict(teacher))  # the check can fail
