"""A model says how it was trained: in memory, in its checkpoint, in one sentence."""

from dataclasses import asdict

import pytest

from napari_pixelrnn.core import load_model, save_model, train, train_steps
from napari_pixelrnn.core.config import TrainConfig
from napari_pixelrnn.core.provenance import NOT_RECORDED, describe_training, training_said

from .conftest import tiny
from .test_checkpoint import _rewrite_metadata


def test_a_row_lstm_records_its_settings_and_kept_step_through_a_checkpoint(tmp_path, stripes):
    last = []
    model = train(stripes, keep_rows=40, **tiny(steps=6), input_noise=0.01, validation=0.25,
                  progress=last.append)
    record = model.provenance
    assert record["settings"]["keep_rows"] == 40 and record["settings"]["input_noise"] == 0.01
    assert "device" not in record["settings"] and "threads" not in record["settings"]
    assert record["steps_run"] == 6 and record["kept_step"] == last[-1].best_step == 6
    assert record["validation_bits_per_dim"] == last[-1].best_bits_per_dim
    loaded = load_model(save_model(model, tmp_path / "m.pixelrnn"))
    assert loaded.provenance == record
    bits = last[-1].best_bits_per_dim
    assert describe_training(loaded.provenance) == (
        f"Trained on the 40 rows above the cut, seed 0, 6 of 6 steps, kept step 6 (the "
        f"best: validation {bits:.3f} bits/dim); not the defaults: hidden_size 16, "
        "input_noise 0.01, validation 0.25.")


def test_a_stopped_run_records_the_steps_it_ran(stripes):
    steps = train_steps(stripes, TrainConfig(keep_rows=40, **tiny(steps=50)))
    progress = [next(steps) for _ in range(3)]
    steps.close()
    record = progress[-1].model.provenance
    assert record["steps_run"] == 3 and record["kept_step"] is None  # no validation yet
    assert describe_training(record) == (
        "Trained on the 40 rows above the cut, seed 0, 3 of 50 steps; not the defaults: "
        "hidden_size 16.")


def test_a_dense_model_trained_on_every_row_says_so(tmp_path, stripes):
    model = train(stripes, architecture="dense", **tiny(steps=4))
    loaded = load_model(save_model(model, tmp_path / "m.pixelrnn"))
    assert loaded.provenance == model.provenance
    assert describe_training(loaded.provenance) == (
        "Trained on every row of its images, seed 0, 4 of 4 steps; not the defaults: "
        "hidden_size 16.")


def test_the_pretrained_start_is_named_with_its_own_learning_rate():
    settings = asdict(TrainConfig(pretrained=True, keep_rows=64).resolved())
    record = {"settings": settings, "steps_run": 50, "kept_step": 0,
              "validation_bits_per_dim": 4.18}
    assert describe_training(record) == (
        "Trained on the 64 rows above the cut, seed 0, 50 of 800 steps, kept step 0 (the "
        "pretrained start: validation 4.180 bits/dim); not the defaults: pretrained True.")


@pytest.mark.parametrize("change", [
    lambda m: m.pop("training"),  # a file from before training was saved
    lambda m: m.update(training="[1, 2]"),
    lambda m: m.update(training="{not json"),
    lambda m: m.update(training='{"settings": 3}'),
], ids=["older", "a list", "not json", "no settings"])
def test_a_file_without_a_readable_record_loads_and_says_nothing(tmp_path, stripes, change):
    path = save_model(train(stripes, keep_rows=40, **tiny()), tmp_path / "m.pixelrnn")
    _rewrite_metadata(path, change)
    loaded = load_model(path)
    assert loaded.provenance is None and describe_training(loaded.provenance) == ""
    assert training_said(loaded) == NOT_RECORDED  # what the CLI and the dock then say
