"""The sampler's prepared dense step (:class:`FastStep`) computes ``GenModel.step``'s values
bit for bit, so completions are exactly those of the sampler before it (issue 13)."""

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import GenModel, complete, sampler
from napari_pixelrnn.core.data import DataSpec
from napari_pixelrnn.core.dense.fast_step import FastStep

WIDTH, ROWS, KEEP = 6, 14, 5


def random_model(cell, layers, batch_norm, hidden=20, channels=1, **settings):
    """A random model whose batch norm has moved off its initial statistics and scale
    (the fast step reads them). Hidden sizes 8 and 20 leave the tails of torch's vectorized loops
    that the layout of each operation decides."""
    torch.manual_seed(0)
    model = GenModel(WIDTH * channels, hidden_size=hidden, num_layers=layers, cell=cell,
                     batch_norm=batch_norm, values="continuous", **settings)
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 10, model.config.input_size))  # running statistics move
        for parameter in model.parameters():  # as if trained: no scale stays exactly 1
            parameter.add_(0.1 * torch.randn_like(parameter))
        # locations around mid-grey and spread out: a deterministic completion that is
        # not flat black, so the comparison below has values to disagree on
        model.decoder.weight.mul_(2)
        model.decoder.bias[0::2] += 0.5
    model.eval()
    model.data = DataSpec("uint8", WIDTH, channels, channels > 1, 0.0, 255.0, None)
    return model


def tensors(state):
    return state if isinstance(state, tuple) else (state,)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("hidden", [8, 20])
@pytest.mark.parametrize("batch_norm", [True, False], ids=["norm", "no-norm"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_prepared_step_is_model_step_bit_for_bit(cell, layers, batch_norm, hidden, batch):
    model = random_model(cell, layers, batch_norm, hidden)
    rows = torch.rand(batch, ROWS, WIDTH)
    with torch.no_grad():
        _, state = model.run(rows[:, :KEEP])
        step, expected, got = FastStep(model), state, state
        for t in range(KEEP, ROWS):
            h_expected, expected = model.step(rows[:, t], expected)
            h, got = step(rows[:, t], got)  # its own state, passed back as the sampler does
            assert torch.equal(h, h_expected), t
            for a, b in zip(tensors(got), tensors(expected), strict=True):
                assert torch.equal(a, b), t


def completions(model, image):
    """A deterministic completion and four seeded draws with their scores."""
    drawn = complete(model, image, KEEP, samples=4, seed=0)
    return complete(model, image, KEEP), drawn.images, drawn.nats_per_dim


@pytest.mark.parametrize("channels", [1, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("batch_norm", [True, False], ids=["norm", "no-norm"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_completions_are_those_of_model_step(monkeypatch, cell, layers, batch_norm,
                                             channels):
    """Bit for bit, scores included: each score is a float64 sum of every generated
    value's likelihood, so a last-bit change in any parameter would show in it."""
    model = random_model(cell, layers, batch_norm, channels=channels)
    shape = (ROWS, WIDTH, 3) if channels == 3 else (ROWS, WIDTH)
    image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    fast = completions(model, image)
    monkeypatch.setattr(sampler, "FastStep", lambda m: m.step)  # the sampler before it
    before = completions(model, image)
    for got, expected in zip(fast, before, strict=True):
        np.testing.assert_array_equal(got, expected)
    # the check can fail: the generated rows vary and the draws differ from each other
    assert len(np.unique(fast[0][KEEP:])) > 5
    assert not np.array_equal(fast[1][0], fast[1][1])


def test_pixel_mode_completions_are_those_of_model_step(monkeypatch):
    torch.manual_seed(0)
    model = GenModel(1, hidden_size=20, values="continuous", granularity="pixel").eval()
    with torch.no_grad():
        model.decoder.weight.mul_(4)
        model.decoder.bias[0] += 0.5
    model.data = DataSpec("uint8", WIDTH, 1, False, 0.0, 255.0, None)
    image = np.random.default_rng(0).integers(0, 256, (ROWS, WIDTH)).astype(np.uint8)
    fast = completions(model, image)
    monkeypatch.setattr(sampler, "FastStep", lambda m: m.step)
    for got, expected in zip(fast, completions(model, image), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(fast[1][0], fast[1][1])  # the draws differ: a real check
