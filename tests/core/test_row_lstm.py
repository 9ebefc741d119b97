"""The Row LSTM family: causality, incremental sampling, any width, checkpoints, training."""

import copy
import json
import math

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import (
    PixelRNNError,
    RowLSTM,
    RowLSTMConfig,
    complete,
    complete_rows,
    evaluate,
    load_model,
    load_sample,
    save_model,
    train,
    train_steps,
)
from napari_pixelrnn.core.data import DataSpec, to_rows
from napari_pixelrnn.core.training import TrainConfig

from .test_causality import CHANNELS, CUT, PIXELS, ROWS, VALUES, colour_order, within_row_leaks
from .test_sampler import naive_completion

VALUE_KINDS = ["binary", "continuous", "levels", "mixture"]


def row_lstm(channels=1, values="mixture", **settings):
    torch.manual_seed(0)
    model = RowLSTM(RowLSTMConfig(channels=channels, hidden_size=8, values=values, levels=5,
                                  components=3, **settings))
    model.data = DataSpec("uint8", PIXELS, channels, channels > 1, 0.0, 255.0,
                          0.5 if values == "binary" else None)
    # a new model's output layer starts at zero (a constant guess): give it weights, so
    # that every input can show in the output and a leak would
    torch.nn.init.normal_(model.row_net.out.weight)
    return model.eval()


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("values", VALUE_KINDS)
def test_predictions_ignore_the_rows_below_the_row_they_predict(values, layers):
    """Row t is predicted from rows < t (and its own values to the left, checked value by
    value below): changing rows >= CUT changes no prediction of rows < CUT."""
    model = row_lstm(CHANNELS, values, num_layers=layers, dropout=0.3)
    torch.manual_seed(0)
    rows = torch.rand(2, ROWS, VALUES).round()
    below = rows.clone()
    below[:, CUT:] = 1 - below[:, CUT:]
    for training in (False, True):
        m = copy.deepcopy(model).train(training)
        with torch.no_grad():
            torch.manual_seed(1)  # the same dropout masks for both runs
            before = m(rows[:, :-1], next_rows=rows[:, 1:])
            torch.manual_seed(1)
            after = m(below[:, :-1], next_rows=below[:, 1:])
        # position t predicts row t + 1
        assert torch.equal(before[:, :CUT - 1], after[:, :CUT - 1])
        assert not torch.equal(before[:, CUT - 1:], after[:, CUT - 1:])  # the check can fail


@pytest.mark.parametrize("values", VALUE_KINDS)
def test_each_value_sees_only_the_values_to_its_left(values):
    model = row_lstm(CHANNELS, values)
    for value in range(VALUES):
        assert not within_row_leaks(model, value), value


def test_colours_are_generated_red_then_green_then_blue():
    assert colour_order(row_lstm(CHANNELS, "levels")) == (False, False, False, True, True, True)


def test_the_check_catches_a_row_state_that_reads_the_row_it_predicts(monkeypatch):
    """A mutant whose state for row t + 1 includes row t + 1 itself (an off-by-one)."""
    model = row_lstm(CHANNELS, "levels")
    honest_run = RowLSTM.run

    def peeking(self, rows, state=None):
        shifted = torch.cat([rows[:, 1:], rows[:, -1:]], 1)  # position t reads row t + 1
        return honest_run(self, shifted, state)

    assert not within_row_leaks(model, 0)
    monkeypatch.setattr(RowLSTM, "run", peeking)
    assert within_row_leaks(model, 0)


def test_one_row_step_equals_the_whole_sequence():
    model = row_lstm(CHANNELS, "mixture", num_layers=2)
    rows = torch.rand(3, ROWS, VALUES)
    with torch.no_grad():
        whole, _ = model.run(rows)
        _, state = model.run(rows[:, :4])
        stepped = []
        for t in range(4, ROWS):
            features, state = model.step(rows[:, t], state)
            stepped.append(features)
    torch.testing.assert_close(torch.stack(stepped, 1), whole[:, 4:], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("values", ["binary", "levels", "mixture"])
def test_incremental_sampler_matches_full_recomputation(stripes, values):
    settings = {"binarize": True} if values == "binary" else {"values": values, "levels": 8}
    model = train(stripes, keep_rows=40, steps=20, hidden_size=8, crop=16, **settings)
    completed = complete(model, stripes, keep_rows=30)
    expected = naive_completion(model, stripes, 30)
    assert not np.array_equal(expected[0, 30:], to_rows(stripes, model.data)[0, 30:])
    got = to_rows(completed, model.data) if model.data.binary else \
        completed.astype(np.float32).reshape(expected.shape) / 255
    tolerance = 0 if values != "levels" else 1 / 255 + 1e-6  # 8 levels round to uint8
    assert np.abs(got - expected).max() <= tolerance + 1e-6


def test_masked_rows_of_the_input_are_never_read(stripes):
    model = train(stripes, keep_rows=32, steps=10, hidden_size=8, crop=16)
    scrambled = stripes.copy()
    scrambled[20:] = np.random.default_rng(0).integers(0, 256, scrambled[20:].shape)
    a = complete(model, stripes, 20, samples=2, seed=3).images
    assert np.array_equal(a, complete(model, scrambled, 20, samples=2, seed=3).images)


def test_a_model_trained_on_64_wide_crops_completes_a_128_wide_image():
    bricks = load_sample("brick_stack")  # (4, 64, 64)
    model = train(list(bricks[:3]), steps=30, hidden_size=8, crop=32, seed=0)
    wide = np.concatenate([bricks[3], bricks[2]], axis=1)  # (64, 128)
    stack = np.stack([wide, wide[:, ::-1]])
    completed = complete(model, stack, keep_rows=40)
    assert completed.shape == stack.shape and completed.dtype == np.uint8
    assert np.array_equal(completed[:, :40], stack[:, :40])
    # the new rows are the model's, not a copy of the input
    assert not np.array_equal(completed[:, 40:], stack[:, 40:])
    scores = evaluate(model, wide, 40)
    assert scores["masked_values"] == 24 * 128
    # the same weights at every column: the wide image scores like its two halves (only
    # the columns next to the seam see different neighbours)
    halves = [evaluate(model, half, 40)["teacher_forced_bits_per_dim_256"]
              for half in (bricks[3], bricks[2])]
    assert abs(scores["teacher_forced_bits_per_dim_256"] - np.mean(halves)) < 0.1
    # a narrower image too, and colour is still refused by a grayscale model
    assert complete(model, bricks[3][:, :20], keep_rows=40).shape == (64, 20)
    with pytest.raises(PixelRNNError, match="grayscale images.*looks like colour"):
        complete(model, np.zeros((64, 64, 3), np.uint8), keep_rows=40)


@pytest.mark.parametrize("values", VALUE_KINDS)
def test_checkpoints_keep_the_architecture_and_the_completions(tmp_path, stripes, values):
    settings = {"binarize": True} if values == "binary" else {"values": values, "levels": 8}
    model = train(stripes, keep_rows=40, steps=5, hidden_size=8, crop=16, **settings)
    loaded = load_model(save_model(model, tmp_path / "m.pixelrnn"))
    assert isinstance(loaded, RowLSTM) and loaded.config == model.config
    assert loaded.data == model.data
    a = complete(model, stripes, 30, samples=2, seed=1)
    b = complete(loaded, stripes, 30, samples=2, seed=1)
    assert np.array_equal(a.images, b.images)
    np.testing.assert_allclose(a.bits_per_dim, b.bits_per_dim, rtol=1e-6)


def test_validation_is_reported_and_the_best_weights_are_kept(stripes):
    image = np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8)  # noise:
    # a big learning rate soon makes the held-out rows worse, and early stopping ends it
    config = TrainConfig(steps=1000, hidden_size=8, crop=16, lr=0.05, patience=2,
                         validation=0.25)
    updates = list(train_steps(image, config))
    measured = [u for u in updates if u.validation_bits_per_dim is not None]
    assert measured and all(u.step % 50 == 0 for u in measured)
    assert len(updates) < 1000  # stopped early
    best = min(measured, key=lambda u: u.validation_bits_per_dim)
    assert updates[-1].best_step == best.step
    assert updates[-1].step - best.step == 2 * 50  # two validations without improvement
    from napari_pixelrnn.core.row_lstm.crops import CropSet

    model = updates[-1].model
    rows = CropSet([image], model.data, crop=16, validation=0.25, flip=False,
                   device=torch.device("cpu"))
    with torch.no_grad():
        kept = rows.validation_nats(model) / np.log(2)
    assert kept == pytest.approx(best.validation_bits_per_dim, rel=1e-5)


def test_validation_rows_are_never_trained_on():
    """Changing only the held-out rows changes no weight (they are scored, not learned)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 24), dtype=np.uint8)
    other = image.copy()
    other[-4:] = rng.integers(0, 256, (4, 24))
    config = TrainConfig(steps=30, hidden_size=8, crop=16, validation=0.1, patience=0)
    a, b = train(image, **vars(config)), train(other, **vars(config))
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


@pytest.mark.parametrize("flip", [False, True])
def test_turned_crops_are_the_kept_rows_turned_by_quarter_turns(flip):
    """With ``rotate``, a square crop is one of the kept rows' crops turned by 0, 90, 180
    or 270 degrees (and mirrored, with ``flip``: all 8 symmetries), each about equally
    often; without it, never turned. Non-square crops turn by 180 degrees only."""
    from napari_pixelrnn.core.data import DataSpec
    from napari_pixelrnn.core.row_lstm.crops import CropSet

    image = np.arange(12 * 5, dtype=np.uint8).reshape(12, 5) * 4  # every value differs
    spec = DataSpec("uint8", 5, 1, False, 0.0, 255.0, None)

    def turns(crops, crop_size, rotate):
        sets = CropSet([crops], spec, crop=crop_size, validation=0, flip=flip,
                       rotate=rotate, device=torch.device("cpu"))
        found = []
        for crop in sets.batch(400, np.random.default_rng(0)):
            crop = crop.reshape(sets.crop_height, sets.crop_width)
            # which symmetry of a crop of the image it is: undo each candidate, look it up
            for k in range(4):
                for mirrored in (False, True):
                    undone = crop.rot90(-k)
                    undone = undone.flip(1) if mirrored else undone
                    if _is_a_crop_of(undone, sets.slices[0][..., 0]):
                        found.append((k, mirrored))
        return found

    turned = turns(image, 4, True)
    assert len(turned) == 400  # every crop is exactly one symmetry of a kept crop
    counts = {t: turned.count(t) for t in set(turned)}
    assert len(counts) == (8 if flip else 4) and min(counts.values()) > 400 / len(counts) / 2
    assert {k for k, _ in turns(image, 4, False)} == {0}
    wide = turns(image[:3], 5, True)  # 3 x 5 crops of a 3-row image: 180 degrees or none
    assert {k for k, _ in wide} == {0, 2}


def _is_a_crop_of(crop, image):
    h, w = crop.shape  # taller or wider than the image: no
    return any(torch.equal(crop, image[t:t + h, l:l + w])
               for t in range(image.shape[0] - h + 1) for l in range(image.shape[1] - w + 1))


def test_dense_settings_are_refused_with_the_reason():
    with pytest.raises(PixelRNNError, match="mode='many-to-one'.*dense architecture"):
        train(np.zeros((16, 16), np.uint8), steps=1, mode="many-to-one")
    with pytest.raises(PixelRNNError, match="kernel=3, crop=9.*row-lstm architecture"):
        train(np.zeros((16, 16), np.uint8), steps=1, architecture="dense", kernel=3, crop=9)
    with pytest.raises(PixelRNNError, match="kernel must be odd"):
        train(np.zeros((16, 16), np.uint8), steps=1, kernel=4)
    with pytest.raises(PixelRNNError, match="validation must be"):
        train(np.zeros((16, 16), np.uint8), steps=1, validation=0.9)


def test_completion_yields_rows_and_leaves_the_input_untouched(stripes):
    model = train(stripes, keep_rows=40, steps=5, hidden_size=8, crop=16)
    before = stripes.copy()
    rows = list(complete_rows(model, stripes, 60))
    assert [r.index for r in rows] == [60, 61, 62, 63]
    assert np.array_equal(stripes, before)


@pytest.mark.parametrize("dtype", ["uint8", "float32", "bool"])
def test_the_posterior_mean_averages_the_draws_in_the_input_dtype(dtype):
    from napari_pixelrnn.core import Completions

    rng = np.random.default_rng(0)
    draws = rng.random((5, 6, 7)) * (255 if dtype == "uint8" else 1)
    draws[:, :2] = draws[0, :2]  # the kept rows: the same in every draw
    draws = draws > 0.5 if dtype == "bool" else draws.astype(dtype)
    mean = Completions(draws, np.zeros(5)).mean()
    assert mean.dtype == np.dtype(dtype) and mean.shape == (6, 7)
    assert np.array_equal(mean[:2], draws[0, :2])  # kept rows exactly
    average = draws.astype(np.float64).mean(0)
    if dtype == "bool":
        assert np.array_equal(mean, average > 0.5)
    else:
        np.testing.assert_allclose(mean[2:], average[2:], atol=0.5 if dtype == "uint8" else 1e-6)


def _median_edge_guess(image: np.ndarray) -> np.ndarray:
    """JPEG-LS's median predictor of ``image[1:]`` written out pixel by pixel."""
    guess = np.zeros_like(image[1:])
    for y in range(1, image.shape[0]):
        for x in range(image.shape[1]):
            above = image[y - 1, x]
            left = image[y, x - 1] if x else above
            above_left = image[y - 1, x - 1] if x else above
            if above_left >= max(left, above):
                guess[y - 1, x] = min(left, above)
            elif above_left <= min(left, above):
                guess[y - 1, x] = max(left, above)
            else:
                guess[y - 1, x] = left + above - above_left
    return guess


def test_the_edge_prior_is_the_median_guess_whether_taught_or_drawn():
    from napari_pixelrnn.core.row_lstm.edge_prior import EdgePrior

    image = np.random.default_rng(0).random((6, 9))
    prior = EdgePrior(channels=1)
    with torch.no_grad():
        prior.share.fill_(30.0)  # all the way to the median guess
    above, row = torch.from_numpy(image[:-1]), torch.from_numpy(image[1:])
    location, log_scale = prior(above, row)
    np.testing.assert_allclose(location.detach().numpy(), _median_edge_guess(image), atol=1e-6)
    with torch.no_grad():
        prior.share.fill_(0.0)  # halfway between it and the value above
        halfway = prior(above, row)[0]
    np.testing.assert_allclose(halfway.numpy(), (_median_edge_guess(image) + image[:-1]) / 2,
                               atol=1e-6)
    # drawing left to right (numpy) gives the same guesses from the same values
    guess = prior.for_row(above)
    drawn = [guess(j, row.numpy()) for j in range(row.shape[1])]
    np.testing.assert_allclose(np.stack([d[0] for d in drawn], 1), halfway.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.stack([d[1] for d in drawn], 1), log_scale.detach().numpy(),
                               rtol=1e-12)
    # the spread grows with how much the neighbours differ
    flat = prior(torch.full((1, 9), 0.5), torch.full((1, 9), 0.5))[1]
    assert torch.all(log_scale > flat.max())


def test_the_edge_prior_passes_each_channels_error_on_to_the_next_of_its_pixel():
    """Colour: G's guess moves by R's error (its value less its guess), B's by G's, with
    a narrower spread; R's guess and every grey guess stay as they were."""
    from napari_pixelrnn.core.row_lstm.edge_prior import EdgePrior

    rng = np.random.default_rng(1)
    above, row = (torch.from_numpy(rng.random((2, 5 * 3))) for _ in range(2))
    prior = EdgePrior(channels=3)
    with torch.no_grad():
        prior.colour.fill_(0.8)
        prior.colour_spread.fill_(math.log(0.5))
        location, log_scale = prior(above, row)
        prior.colour.zero_()
        prior.colour_spread.zero_()
        plain, plain_log_scale = prior(above, row)
    error = (row - plain).reshape(2, 5, 3)
    expected = plain.reshape(2, 5, 3).clone()
    expected[..., 1:] += 0.8 * error[..., :2]
    torch.testing.assert_close(location, expected.reshape(2, 15))
    expected_log_scale = plain_log_scale.reshape(2, 5, 3).clone()
    expected_log_scale[..., 1:] += math.log(0.5)
    torch.testing.assert_close(log_scale, expected_log_scale.reshape(2, 15))
    with torch.no_grad():  # generating left to right gives the same guesses
        prior.colour.fill_(0.8)
        prior.colour_spread.fill_(math.log(0.5))
        guess = prior.for_row(above)
    drawn = [guess(j, row.numpy()) for j in range(15)]
    np.testing.assert_allclose(np.stack([d[0] for d in drawn], 1), location.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.stack([d[1] for d in drawn], 1), log_scale.numpy(), rtol=1e-12)


@pytest.mark.parametrize("prior", ["edge", "above"])
def test_either_prior_reads_only_values_to_the_left_and_rows_above(prior):
    model = row_lstm(CHANNELS, "mixture", prior=prior)
    assert (model.edge_prior is None) == (prior == "above")
    for value in range(VALUES):
        assert not within_row_leaks(model, value), value


def test_a_format_3_row_lstm_checkpoint_loads_centred_on_the_value_above(tmp_path, stripes):
    from .test_checkpoint import _rewrite_metadata

    model = train(stripes, keep_rows=40, steps=5, hidden_size=8, crop=16, prior="above")
    path = save_model(model, tmp_path / "old.pixelrnn")

    def to_format_3(metadata):
        settings = json.loads(metadata["model"])
        del settings["prior"]  # format 3 had no prior: its Row LSTMs used the value above
        metadata.update(format_version="3", model=json.dumps(settings))

    _rewrite_metadata(path, to_format_3)
    loaded = load_model(path)
    assert loaded.config == model.config and loaded.config.prior == "above"
    a = complete(model, stripes, 30, samples=2, seed=1)
    assert np.array_equal(a.images, complete(loaded, stripes, 30, samples=2, seed=1).images)


def test_a_format_4_edge_prior_checkpoint_loads_guessing_each_channel_on_its_own(tmp_path):
    """Format 4 had no colour terms: they load as zero, which is what those models did."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    image = load_sample("astronaut")[:24, :24]
    model = train(image, keep_rows=16, steps=5, hidden_size=8, crop=16)
    path = save_model(model, tmp_path / "old.pixelrnn")
    with safe_open(path, "pt") as file:
        metadata = file.metadata()
    tensors = load_file(path)
    del tensors["edge_prior.colour"], tensors["edge_prior.colour_spread"]
    save_file(tensors, path, metadata={**metadata, "format_version": "4"})
    loaded = load_model(path)
    assert loaded.edge_prior.colour.item() == 0 == loaded.edge_prior.colour_spread.item()
    with torch.no_grad():
        model.edge_prior.colour.zero_()
        model.edge_prior.colour_spread.zero_()
    a = complete(model, image, 16, samples=2, seed=1)
    assert np.array_equal(a.images, complete(loaded, image, 16, samples=2, seed=1).images)
