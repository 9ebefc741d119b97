"""Drawing values: a row's random numbers are drawn in one call, before the row, each
value is drawn in numpy by the same code that draws in torch, and still from the
distribution the model scores."""

import math

import numpy as np
import pytest
import torch

from napari_pixelrnn.core.drawing import Drawing
from napari_pixelrnn.core.values import VALUE_KINDS, value_model

K, TEMPERATURE = 3, 2.0


def _mixture_out(count, logits, locations, log_scales):
    """Parameters ``(count, 3K)`` of one mixture (locations in [0, 1])."""
    model = value_model("mixture", components=len(logits))
    loc_params = (torch.tensor(locations, dtype=torch.float64) - 0.5) / model.LOC_GAIN
    row = torch.cat([torch.tensor(logits, dtype=torch.float64), loc_params,
                     torch.tensor(log_scales, dtype=torch.float64)])
    return model, row.expand(count, -1)


def _old_mixture_draw(model, out, u, temperature):
    """The formula drawn before (Gumbel-max on softmax(logits / T), a logistic scaled by
    T, the floor's share uniform), written out, from the given uniforms ``(..., K + 2)``."""
    k = model.components
    logits, loc, log_scale = model._split(out)
    gumbel = -torch.log(-torch.log(u[..., :k].clamp(1e-10, 1 - 1e-7)))
    pick = (logits / temperature + gumbel).argmax(-1, keepdim=True)
    loc, log_scale = loc.gather(-1, pick)[..., 0], log_scale.gather(-1, pick)[..., 0]
    v = u[..., k].clamp(1e-6, 1 - 1e-6)
    drawn = (loc + temperature * torch.exp(log_scale) * (torch.log(v) - torch.log1p(-v)))
    drawn = torch.where(u[..., k + 1] < model.FLOOR, u[..., k + 1] / model.FLOOR,
                        drawn.clamp(0, 1))
    return torch.round(drawn * 255) / 255


def test_a_fixed_stream_of_uniforms_gives_the_old_formulas_draws():
    torch.manual_seed(0)
    model = value_model("mixture", components=K)
    out = torch.randn(4000, 3 * K, dtype=torch.float64) * 2
    u = torch.rand(4000, K + 2, dtype=torch.float64)
    u[::50, K + 1] *= 2e-3  # some values the floor takes
    for temperature in (TEMPERATURE, 0.7):
        new = model.draw(out, model.noise_from(u, temperature))
        torch.testing.assert_close(new, _old_mixture_draw(model, out, u, temperature),
                                   rtol=0, atol=0)
    # a centre adds to the chosen component what centred_on adds to all of them
    base, log_scale = torch.rand(4000, dtype=torch.float64), torch.randn(4000).double()
    noise = model.noise_from(u, TEMPERATURE)
    torch.testing.assert_close(model.draw(out, noise, (base, log_scale)),
                               model.draw(out + model.centred_on(base, log_scale), noise))
    # the continuous model: a logistic draw scaled by T
    continuous = value_model("continuous")
    out2 = torch.randn(4000, 2, dtype=torch.float64) * 0.3 + torch.tensor([0.5, -3.0])
    v = u[:, K].clamp(1e-6, 1 - 1e-6)
    expected = (out2[:, 0] + 0.7 * out2[:, 1].exp() * (v.log() - (-v).log1p())).clamp(0, 1)
    drawn = continuous.draw(out2, (0.7 * (v.log() - (-v).log1p()),))
    torch.testing.assert_close(drawn, torch.round(expected * 255) / 255, rtol=0, atol=0)
    # binary: a Bernoulli draw, u < sigmoid(logit / T) (what torch.bernoulli draws)
    binary = value_model("binary")
    logits = torch.randn(4000, 1, dtype=torch.float64) * 3
    drawn = binary.draw(logits, (0.7 * (u[:, 0].log() - (-u[:, 0]).log1p()),))
    expected = (u[:, 0] < torch.sigmoid(logits[:, 0] / 0.7)).double()
    assert torch.equal(drawn, expected)
    # levels: Gumbel-max, argmax(logits / T + Gumbel noise)
    levels = value_model("levels", levels=K + 2)
    gumbel = -torch.log(-torch.log(u.clamp(1e-10, 1 - 1e-7)))
    drawn = levels.draw(out[:, :K + 2], (0.7 * gumbel,))
    assert torch.equal(drawn, (out[:, :K + 2] / 0.7 + gumbel).argmax(-1).double() / (K + 1))


def _parameters(kind, count, generator):
    """Random parameters ``(count, P)`` of a value model, in its useful range."""
    model = value_model(kind, levels=6, components=K)
    out = torch.randn(count, model.params, dtype=torch.float64, generator=generator)
    if kind == "continuous":
        out = out * 0.3 + torch.tensor([0.5, -3.0], dtype=torch.float64)
    return model, out


@pytest.mark.parametrize("kind", VALUE_KINDS)
@pytest.mark.parametrize("random", [False, True])
def test_a_value_drawn_in_numpy_is_the_value_drawn_in_torch(kind, random):
    """A row drawn left to right runs each value model's draw on numpy arrays; all at
    once, the same code runs on tensors: the same values from the same numbers, centred
    or not."""
    g = torch.Generator().manual_seed(0)
    model, out = _parameters(kind, 3000, g)
    noise = model.noise((3000,), 1.5, g, out) if random else None
    as_numpy = None if noise is None else tuple(n.numpy() for n in noise)
    torch.testing.assert_close(torch.from_numpy(model.draw(out.numpy(), as_numpy)),
                               model.draw(out, noise), rtol=0, atol=0)
    if hasattr(model, "centred_on"):
        base = torch.rand(3000, dtype=torch.float64, generator=g)
        log_scale = torch.randn(3000, dtype=torch.float64, generator=g) - 2
        drawn = model.draw(out.numpy(), as_numpy, (base.numpy(), log_scale.numpy()))
        torch.testing.assert_close(torch.from_numpy(drawn), model.draw(out, noise, (base, log_scale)),
                                   rtol=0, atol=0)


def _row_draws(model, out, width, seed):
    """``out`` ``(M, P)`` drawn as ``width`` values of ``M`` rows, left to right (numpy,
    as a row is)."""
    g = torch.Generator().manual_seed(seed)
    draw = Drawing(model, True, TEMPERATURE, g).row(out.shape[0], width, out)
    return torch.from_numpy(np.stack([draw(j, out.numpy()) for j in range(width)], 1))


def test_row_draws_follow_the_mixture_at_its_temperature_with_the_floors_share():
    """Chi-square over the three components and 'far from all' (the floor's uniform):
    a component picked without the noise or the temperature, or a floor left out,
    moves these counts by hundreds of standard deviations."""
    locations = [0.15, 0.5, 0.85]
    model, out = _mixture_out(5000, [0.0, 1.0, 2.5], locations, [math.log(0.002)] * K)
    model.FLOOR = 0.2  # large enough to count
    drawn = _row_draws(model, out, 40, seed=0).flatten().numpy()
    distance = np.abs(drawn[:, None] - np.array(locations))
    category = np.where(distance.min(1) < 0.05, distance.argmin(1), K)
    observed = np.bincount(category, minlength=K + 1)
    # expected: (1 - FLOOR) softmax(logits / T) per component, plus the floor's uniform
    # over the 8-bit bins (the end bins half as wide) wherever it lands
    mixture = torch.softmax(torch.tensor([0.0, 1.0, 2.5]) / TEMPERATURE, 0).numpy()
    bins = np.arange(256) / 255
    weight = np.full(256, 1 / 255)
    weight[[0, -1]] /= 2
    near = np.abs(bins[:, None] - np.array(locations)) < 0.05
    floor = np.append(weight @ near, weight[~near.any(1)].sum())
    expected = drawn.size * ((1 - model.FLOOR) * np.append(mixture, 0) + model.FLOOR * floor)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < 21.1, (observed, expected)  # 3 degrees of freedom, p = 1e-4


@pytest.mark.parametrize("kind", ["mixture", "continuous"])
def test_row_draws_spread_as_the_logistic_scaled_by_the_temperature(kind):
    scale = 0.02
    if kind == "mixture":
        model, out = _mixture_out(5000, [0.0], [0.5], [math.log(scale)])
        model.FLOOR = 0.0
    else:
        model = value_model("continuous")
        out = torch.tensor([0.5, math.log(scale)], dtype=torch.float64).expand(5000, -1)
    drawn = _row_draws(model, out, 20, seed=1).flatten()
    expected = TEMPERATURE * scale * math.pi / math.sqrt(3)  # a logistic's standard deviation
    assert abs(float(drawn.std()) / expected - 1) < 0.03
    assert abs(float(drawn.mean()) - 0.5) < 0.002


@pytest.mark.parametrize("kind", ["binary", "levels"])
def test_row_draws_follow_the_softmax_at_the_temperature(kind):
    """Binary and levels rows drawn left to right: chi-square of the counts against
    sigmoid(logit / T) or softmax(logits / T); drawn at T = 1 instead, the counts move by
    tens of standard deviations."""
    logits = [0.8] if kind == "binary" else [0.0, 1.0, 2.5, -1.0]
    model = value_model(kind, levels=len(logits))
    out = torch.tensor(logits, dtype=torch.float64).expand(5000, -1)
    drawn = _row_draws(model, out, 20, seed=2).flatten().numpy()
    if kind == "binary":
        p = 1 / (1 + math.exp(-logits[0] / TEMPERATURE))
        expected = drawn.size * np.array([1 - p, p])
        observed = np.bincount(drawn.astype(int), minlength=2)
    else:
        expected = drawn.size * torch.softmax(torch.tensor(logits) / TEMPERATURE, 0).numpy()
        observed = np.bincount(np.round(drawn * (len(logits) - 1)).astype(int), minlength=4)
    chi2 = ((observed - expected) ** 2 / expected).sum()
    assert chi2 < (15.1 if kind == "binary" else 21.1), (observed, expected)  # p = 1e-4


def test_row_draws_are_seeded_and_deterministic_without_sampling():
    model, out = _mixture_out(16, [0.0, 1.0, 2.5], [0.15, 0.5, 0.85], [math.log(0.05)] * K)
    assert torch.equal(_row_draws(model, out, 8, seed=3), _row_draws(model, out, 8, seed=3))
    assert not torch.equal(_row_draws(model, out, 8, seed=3), _row_draws(model, out, 8, seed=4))
    draw = Drawing(model, False, TEMPERATURE, None).row(16, 8, out)
    # the heaviest component's centre
    assert torch.equal(torch.from_numpy(draw(0, out.numpy())), model.predict(out))
