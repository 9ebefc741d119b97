"""Teacher-forced against free-running loss: the drift check catches a model that copies."""

import math

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import (
    GenModel,
    drift_warning,
    evaluate,
    load_sample,
    train,
    uniform_warning,
)
from napari_pixelrnn.core.data import make_spec, to_rows

from .conftest import tiny


class PeekingModel(GenModel):
    """A leak: in a sequence pass, position t reads row t + 1, the row it predicts.
    Generation steps one real row at a time, so there the leak is gone."""

    def run(self, x, state=None):
        return super().run(torch.cat([x[:, 1:], x[:, -1:]], dim=1), state)


def test_a_model_that_peeks_at_the_row_it_predicts_is_flagged(stripes):
    spec = make_spec(stripes, False, True)
    rows = torch.from_numpy(to_rows(stripes, spec))
    torch.manual_seed(0)
    model = PeekingModel(64, hidden_size=32)
    model.data = spec
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(150):  # the training loop of a pipeline with the off-by-one leak
        optimizer.zero_grad()
        model.value_model.nll(model(rows[:, :-1]), rows[:, 1:]).mean().backward()
        optimizer.step()
    scores = evaluate(model.eval(), stripes, 32)
    assert scores["teacher_forced_bits_per_dim"] < 0.1
    assert scores["free_running_bits_per_dim"] > 1
    assert "far above the teacher-forced" in drift_warning(scores)


def test_an_honest_model_is_not_flagged_and_scores_state_their_units(stripes):
    model = train(stripes, keep_rows=32, **tiny(steps=100, hidden_size=32, binarize=True), architecture="dense")
    scores = evaluate(model, stripes, 32)
    assert drift_warning(scores) is None
    assert scores["alphabet"] == 2
    assert math.isclose(scores["free_running_bits_per_dim"],
                        scores["free_running_nats_per_dim"] / math.log(2))


def test_free_running_loss_scores_the_truth_given_the_models_own_rows(stripes):
    """Given a completion equal to the truth, free-running equals teacher-forced; given
    another completion, it differs (so it reads the completion, not the truth)."""
    model = train(stripes, keep_rows=32, **tiny(steps=30, binarize=True), architecture="dense")
    exact = evaluate(model, stripes, 32, completed=stripes)
    assert exact["free_running_nats_per_dim"] == exact["teacher_forced_nats_per_dim"]
    other = stripes.copy()
    other[32:] = 255 - other[32:]
    flipped = evaluate(model, stripes, 32, completed=other)
    assert flipped["free_running_nats_per_dim"] != flipped["teacher_forced_nats_per_dim"]


def test_comparable_bits_rank_value_models_on_one_scale():
    """Own-alphabet bits are not comparable (2 vs 256 values); the 8-bit ones are: a
    binary model of a 0/255 image pays for the 8-bit intensities its levels hold."""
    r, c = np.mgrid[:32, :32]
    image = ((((r + c) // 4) % 2) * 255).astype(np.uint8)
    binary = train(image, **tiny(steps=60, hidden_size=32, binarize=0.5), architecture="dense")
    levels = train(image, **tiny(steps=60, hidden_size=32, values="levels", levels=256), architecture="dense")
    b, lv = evaluate(binary, image, 16), evaluate(levels, image, 16)
    # binary levels hold 128 intensities each: 7 bits more on the 8-bit scale
    assert math.isclose(b["teacher_forced_bits_per_dim_256"] - b["teacher_forced_bits_per_dim"],
                        7, abs_tol=1e-3)
    assert math.isclose(lv["teacher_forced_bits_per_dim_256"], lv["teacher_forced_bits_per_dim"],
                        rel_tol=1e-5)


def test_scores_computed_in_chunks_equal_scores_computed_at_once(stripes, monkeypatch):
    from napari_pixelrnn.core import evaluation

    model = train(stripes, **tiny(values="levels", levels=16, within_row="autoregressive"), architecture="dense")
    rows = torch.from_numpy(to_rows(stripes, model.data))
    with torch.no_grad():
        whole = evaluation.teacher_forced_nll(model.eval(), rows, 10)
        monkeypatch.setattr(evaluation, "MAX_DECODED", 5000)  # 4 rows a chunk
        chunked = evaluation.teacher_forced_nll(model, rows, 10)
    assert whole.shape == chunked.shape == (1, 54, 64)
    torch.testing.assert_close(chunked, whole)


def test_a_binarized_completion_is_scored_against_the_original_too(stripes):
    """A perfect binarized completion scores 100 % and infinite PSNR against the
    binarized image; against the original intensities it cannot, and says so."""
    rng = np.random.default_rng(0)
    noisy = np.where(stripes > 0, 255 - rng.integers(0, 80, stripes.shape),
                     rng.integers(0, 80, stripes.shape)).astype(np.uint8)
    model = train(noisy, **tiny(binarize=True), architecture="dense")
    perfect = np.where(noisy > 127, noisy.max(), noisy.min()).astype(np.uint8)
    scores = evaluate(model, noisy, 32, completed=perfect)
    assert scores["free_running_pixel_accuracy_pct"] == 100
    assert scores["free_running_psnr_db"] == math.inf
    low, high = float(noisy.min()), float(noisy.max())
    mse = (((perfect[32:] - low) / (high - low) - (noisy[32:] - low) / (high - low)) ** 2).mean()
    assert scores["free_running_mse_vs_original"] == pytest.approx(mse)
    assert scores["free_running_psnr_db_vs_original"] == pytest.approx(-10 * np.log10(mse))
    assert 10 < scores["free_running_psnr_db_vs_original"] < 30  # finite: the noise is lost


@pytest.mark.parametrize("alphabet,bits,worse", [(256, 7.9, False), (256, 8.3, True),
                                                 (2, 0.9, False), (2, 1.2, True)])
def test_a_loss_worse_than_a_uniform_guess_is_said_to_be(alphabet, bits, worse):
    scores = {"alphabet": alphabet, "teacher_forced_bits_per_dim": 0.5,
              "free_running_bits_per_dim": bits}
    warning = uniform_warning(scores)
    assert (warning is not None) == worse
    if worse:
        assert f"free-running {bits:.2f} bits/dim is worse than a uniform guess" in warning
        assert "teacher-forced" not in warning  # 0.5 is better than uniform


def test_a_dense_model_trained_above_the_cut_is_worse_than_uniform_on_a_photo():
    """The lab note's model, honestly trained on the camera's top half, is confidently
    wrong below it (its held-out bits/dim is far above 8): the scores say so."""
    camera = load_sample("camera")[:48, :48]
    model = train(camera, keep_rows=24, architecture="dense", steps=60, seed=0)
    scores = evaluate(model, camera, 24)
    assert scores["teacher_forced_bits_per_dim"] > 8
    assert "worse than a uniform guess over the model's 256 values" in uniform_warning(scores)
