"""The command line, run as a user would: in a subprocess."""

import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import tifffile
import torch
from imageio.v3 import imread, imwrite

from napari_pixelrnn import cli
from napari_pixelrnn.cli import picture as cli_picture
from napari_pixelrnn.cli import progress as cli_progress
from napari_pixelrnn.cli import running
from napari_pixelrnn.core import (
    RowLSTM,
    RowLSTMConfig,
    TrainConfig,
    TrainProgress,
    complete,
    evaluate,
    load_model,
    load_sample,
    save_model,
    train,
    uncertainty,
)
from napari_pixelrnn.core.provenance import describe_training
from napari_pixelrnn.core.row_lstm.draw_check import DrawCheck

TINY = ("--steps", "3", "--hidden-size", "16", "--threads", "1")
DENSE = ("--architecture", "dense")


def run(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/conftest.py
    return subprocess.run([sys.executable, "-m", "napari_pixelrnn", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_demo_shows_the_reconstruction_and_an_honest_completion(tmp_path):
    result = run("demo", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    out, horse = tmp_path / "out", load_sample("horse")
    # (a) the lab note's experiment: a dense model that saw every row reproduces them
    reconstruction = imread(out / "horse_reconstruction.png")
    assert reconstruction.shape == horse.shape and reconstruction.dtype == np.uint8
    assert np.array_equal(reconstruction[:128], horse[:128])
    assert (reconstruction[128:] == horse[128:]).mean() >= 0.99
    # (b) a Row LSTM that saw the rows above the cut only: its own lower half
    completion = imread(out / "horse_completion.png")
    assert completion.shape == horse.shape and np.array_equal(completion[:128], horse[:128])
    assert set(np.unique(completion)) <= {0, 255}  # binary values, like (a)
    reconstructor = load_model(out / "horse_reconstruction.pixelrnn")
    assert getattr(reconstructor, "architecture", "dense") == "dense"
    honest = load_model(out / "horse_completion.pixelrnn")
    assert honest.architecture == "row-lstm"
    assert np.array_equal(complete(honest, horse, 128), completion)
    # original | masked | (a) | (b), 4 white pixels apart
    panel = imread(out / "horse_side_by_side.png")
    band = panel.shape[0] - 256  # the titles above the panels
    assert band > 0 and panel.shape == (256 + band, 4 * 256 + 3 * 4, 3)
    assert np.array_equal(panel[band:, 2 * 260:2 * 260 + 256, 0], reconstruction)
    assert np.array_equal(panel[band:, 3 * 260:, 0], completion)
    text = result.stdout
    assert "(a) the lab note's reconstruction experiment" in text and "all 256 rows" in text
    assert "(b) an honest completion" in text and "128 rows above the cut only" in text
    assert text.count("bits/dim (model's 2 values)") == 2
    assert text.count("pixel accuracy") == 2 and "teacher-forced" in text


def test_train_then_complete_with_the_saved_model(tmp_path):
    r, c = np.mgrid[:32, :32]
    image = ((((r + c) // 4) % 2) * 255).astype(np.uint8)
    imwrite(tmp_path / "in.png", image)
    trained = run("train", str(tmp_path / "in.png"), "-o", str(tmp_path / "m.pixelrnn"),
                  "--keep-rows", "16", "--steps", "5", "--hidden-size", "16", "--binarize",
                  *DENSE)
    assert trained.returncode == 0, trained.stderr
    done = run("complete", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.tif"),
               "--keep-rows", "16", "--model", str(tmp_path / "m.pixelrnn"), "--scores")
    assert done.returncode == 0, done.stderr
    # the file says how its model was trained
    assert done.stdout.splitlines()[0] == (
        f"loaded {tmp_path / 'm.pixelrnn'}. Trained on the 16 rows above the cut, seed 0, 5 "
        "of 5 steps; not the defaults: binarize True, hidden_size 16, values binary.")
    out = tifffile.imread(tmp_path / "out.tif")
    assert out.shape == image.shape and np.array_equal(out[:16], image[:16])
    scores = evaluate(load_model(tmp_path / "m.pixelrnn"), image, 16)
    assert f"{scores['teacher_forced_bits_per_dim']:.4f}" in done.stdout
    assert f"{scores['free_running_bits_per_dim']:.4f}" in done.stdout


def test_a_row_lstm_trained_saved_and_used_by_the_cli(tmp_path):
    r, c = np.mgrid[:32, :24]
    image = ((((r + c) // 4) % 2) * 255).astype(np.uint8)
    imwrite(tmp_path / "in.png", image)
    options = ("--steps", "6", "--hidden-size", "8", "--kernel", "5", "--crop", "12", "--flip",
               "--validation", "0.25", "--patience", "3", "--weight-decay", "0.01",
               "--components", "2", "--threads", "1")
    trained = run("train", "in.png", "-o", "m.pixelrnn", "--keep-rows", "20", *options,
                  cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    model = load_model(tmp_path / "m.pixelrnn")
    assert model.architecture == "row-lstm"
    c = model.config
    assert (c.hidden_size, c.kernel, c.values, c.components) == (8, 5, "mixture", 2)
    core = train(image, keep_rows=20, steps=6, hidden_size=8, kernel=5, crop=12, flip=True,
                 validation=0.25, patience=3, weight_decay=0.01, components=2, threads=1)
    for name, value in core.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name
    assert "validation" in trained.stderr and "bits/dim" in trained.stderr
    assert trained.stdout == ("wrote m.pixelrnn (row-lstm, mixture values, trained on images "
                              "24 wide, completes any width, 1 channel(s), uint8)\n")
    done = run("complete", "in.png", "-o", "out.png", "--keep-rows", "20", "--model",
               "m.pixelrnn", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert np.array_equal(imread(tmp_path / "out.png"), complete(core, image, 20))
    # info: what the file is and how it was trained, without an image
    said = describe_training(model.provenance)
    assert said.startswith("Trained on the 20 rows above the cut, seed 0, 6 of 6 steps")
    assert run("info", "m.pixelrnn", cwd=tmp_path).stdout == (
        "m.pixelrnn: row-lstm, mixture values, trained on images 24 wide, completes any "
        f"width, 1 channel(s), uint8\n{said}\n")
    as_json = json.loads(run("info", "m.pixelrnn", "--json", cwd=tmp_path).stdout)
    assert as_json["model"]["kernel"] == 5 and as_json["data"]["width"] == 24
    assert as_json["training"] == model.provenance


def stripes(height=16, width=20, shift=0):
    r, c = np.mgrid[:height, :width]
    return ((((r + c + shift) // 4) % 2) * 255).astype(np.uint8)


def ramp(height=16, width=12, shift=0):
    r, c = np.mgrid[:height, :width]
    return ((r * 13 + c * 7 + shift * 31) % 256).astype(np.uint8)


def test_train_on_a_folder_with_levels_and_left_to_right_rows(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    images = [stripes(16 + 4 * k, shift=k) for k in range(3)]  # heights may differ
    # written out of order: the folder is read sorted by name
    for name, image in zip(("s2.png", "s0.png", "s1.png"), (images[2], images[0], images[1])):
        imwrite(folder / name, image)
    (folder / "notes.txt").write_text("not an image")
    result = run("train", str(folder), "-o", str(tmp_path / "m.pixelrnn"), *TINY, *DENSE,
                 "--values", "levels", "--levels", "8", "--within-row", "autoregressive")
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "m.pixelrnn")
    c = model.config
    assert (c.values, c.levels, c.within_row, c.granularity) == (
        "levels", 8, "autoregressive", "row")
    assert (model.data.width, model.data.channels, model.data.dtype) == (20, 1, "uint8")
    assert "training on 3 images" in result.stdout
    # the same weights as the core trained on the three images in sorted order
    core = train(images, steps=3, hidden_size=16, threads=1, values="levels", levels=8,
                 within_row="autoregressive", architecture="dense")
    for name, value in core.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name


def test_train_on_a_glob_pattern_expanded_by_the_cli(tmp_path):
    (tmp_path / "imgs").mkdir()
    for k in range(2):
        tifffile.imwrite(tmp_path / "imgs" / f"r{k}.tif", ramp(shift=k))
    imwrite(tmp_path / "imgs" / "other.png", stripes())  # 20 wide, not matched
    result = run("train", "imgs/r*.tif", "-o", "m.pixelrnn", *TINY, *DENSE, "--granularity",
                 "pixel", cwd=tmp_path)  # quoted: the pattern reaches the CLI unexpanded
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "m.pixelrnn")
    assert (model.data.width, model.config.granularity, model.config.values) == (
        12, "pixel", "continuous")
    core = train([ramp(shift=0), ramp(shift=1)], steps=3, hidden_size=16, threads=1,
                 granularity="pixel", architecture="dense")
    for name, value in core.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name


@pytest.fixture
def saved_model(tmp_path):
    """A tiny continuous model of a 16 x 12 ramp, saved and loaded back."""
    image = ramp()
    imwrite(tmp_path / "in.png", image)
    save_model(train(image, steps=3, hidden_size=16, threads=1, architecture="dense"),
               tmp_path / "m.pixelrnn")
    return image, load_model(tmp_path / "m.pixelrnn")


@pytest.mark.parametrize("kind", ["std", "entropy"])
def test_samples_write_a_ranked_stack_scores_and_uncertainty(tmp_path, saved_model, kind):
    image, model = saved_model
    before = (tmp_path / "in.png").read_bytes()
    result = run("complete", "in.png", "-o", "out.tif", "--keep-rows", "6", "--model",
                 "m.pixelrnn", "--samples", "4", "--seed", "5", "--temperature", "1.5",
                 "--uncertainty", kind, "u.tiff", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = complete(model, image, 6, samples=4, seed=5, temperature=1.5).ranked()
    stack = tifffile.imread(tmp_path / "out.tif")
    assert stack.shape == (4, 16, 12) and stack.dtype == np.uint8
    assert np.array_equal(stack, expected.images)
    assert len({s.tobytes() for s in stack}) == 4  # drawn, not four times the same
    assert all(np.array_equal(s[:6], image[:6]) for s in stack)
    printed = [line for line in result.stdout.splitlines() if line.strip().startswith("sample")]
    assert printed == [f"  sample {n}: {b:.4f} bits/dim"
                       for n, b in enumerate(expected.bits_per_dim, start=1)]
    assert list(expected.bits_per_dim) == sorted(expected.bits_per_dim)
    spread = tifffile.imread(tmp_path / "u.tiff")
    assert spread.dtype == np.float32 and spread.shape == image.shape
    assert np.array_equal(spread, uncertainty(expected.images, kind))
    assert spread[:6].max() == 0 and spread[6:].max() > 0
    assert (tmp_path / "in.png").read_bytes() == before


def test_one_sample_to_a_png_is_the_completion_itself(tmp_path, saved_model):
    image, model = saved_model
    result = run("complete", "in.png", "-o", "one.png", "--keep-rows", "6", "--model",
                 "m.pixelrnn", "--samples", "1", "--seed", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = complete(model, image, 6, samples=1, seed=2).images[0]
    assert np.array_equal(imread(tmp_path / "one.png"), expected)


def test_evaluate_prints_teacher_forced_and_free_running_side_by_side(tmp_path, saved_model):
    image, model = saved_model
    scores = evaluate(model, image, 6)
    table = run("evaluate", "in.png", "--model", "m.pixelrnn", "--keep-rows", "6", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    rows = {line.split("  ")[1].strip(): line.split()[-2:] for line in
            table.stdout.splitlines() if line.startswith("  bits/dim")}
    assert rows == {
        "bits/dim (model's 256 values)": [f"{scores['teacher_forced_bits_per_dim']:.4f}",
                                          f"{scores['free_running_bits_per_dim']:.4f}"],
        "bits/dim (256 8-bit intensities)": [
            f"{scores['teacher_forced_bits_per_dim_256']:.4f}",
            f"{scores['free_running_bits_per_dim_256']:.4f}"],
    }
    assert "teacher-forced" in table.stdout and "free-running" in table.stdout
    assert f"MSE {scores['free_running_mse']:.5f}" in table.stdout
    as_json = run("evaluate", "in.png", "--model", "m.pixelrnn", "--keep-rows", "6", "--json",
                  cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    printed = json.loads(as_json.stdout)
    assert printed.keys() == scores.keys()
    for key in ("free_running_bits_per_dim", "teacher_forced_bits_per_dim_256",
                "free_running_bits_per_dim_256", "alphabet"):
        assert printed[key] == pytest.approx(scores[key], rel=1e-6), key


SCORES = {"masked_rows": 8, "masked_values": 96, "alphabet": 2, "teacher_forced_bits_per_dim": 0.1,
              "teacher_forced_bits_per_dim_256": 0.2, "free_running_bits_per_dim": 0.9,
              "free_running_bits_per_dim_256": 1.0, "free_running_mse": 0.25,
              "free_running_psnr_db": 6.02, "free_running_pixel_accuracy_pct": 75.0,
              "free_running_mse_vs_original": 0.125, "free_running_psnr_db_vs_original": 9.03}


def test_a_drifting_model_gets_a_one_line_warning_on_stderr(capsys):
    running.print_scores(SCORES)
    out, err = capsys.readouterr()
    assert "0.1000" in out and "0.9000" in out and "pixel accuracy 75.00 %" in out
    # which image each score is against: the binarized one the model learns, the original
    assert ("against the binarized image: MSE 0.25000" in out
            and "against the original: MSE 0.12500, PSNR 9.03 dB" in out)
    assert err.startswith("warning: Free-running loss 0.900 bits/dim is far above")
    assert err.count("\n") == 1
    running.print_scores({**SCORES, "free_running_bits_per_dim": 0.25})  # 2 x 0.1 + 0.1 > 0.25
    out, err = capsys.readouterr()
    assert "0.2500" in out and err == ""
    # a binary model's free-running loss above 1 bit/dim: worse than a uniform guess too
    running.print_scores({**SCORES, "free_running_bits_per_dim": 1.5})
    _, err = capsys.readouterr()
    assert err.count("\n") == 2 and err.splitlines()[1].startswith(
        "warning: The free-running 1.50 bits/dim is worse than a uniform guess over the "
        "model's 2 values (1 bit/dim)")


def write_inputs(folder):
    """The inputs of the bad-input cases; returns their bytes, to check they stay as they are."""
    imwrite(folder / "in.png", np.zeros((8, 8), np.uint8))
    imwrite(folder / "wide.png", np.zeros((8, 9), np.uint8))
    (folder / "empty").mkdir()
    return files(folder)


def files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("args,message", [
    (["complete", "missing.png", "-o", "x.png", "--keep-rows", "3", "--steps", "1"], "No such image"),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "99", "--steps", "1"], "keep_rows=99"),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "4", "--model", "in.png"],
     "not a napari-pixelrnn checkpoint"),
    (["info", "in.png"], "not a napari-pixelrnn checkpoint"),
    (["train", "in.png", "-o", "m", "--cell", "cnn", *DENSE], "Unknown cell"),
    (["train", "in.jpg", "-o", "m"],
     "in.jpg is not an image napari-pixelrnn can read: it reads PNG and TIFF"),
    (["train", "in.png", "wide.png", "-o", "m", "--steps", "1"],
     ("image 1 is 9 wide with 1 channel(s), uint8. Crop or convert them first (heights may "
     "differ). (image 0: in.png, image 1: wide.png)")),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "4", "--samples", "3"],
     "Cannot write 3 completions to x.png: accepted are .tif, .tiff files."),
])
def test_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(tmp_path, args, message):
    inputs = write_inputs(tmp_path)
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert files(tmp_path) == inputs


@pytest.mark.parametrize("args,message", [
    (["train", "empty", "-o", "m"], "No .png, .tif, .tiff files in folder empty."),
    (["train", "nothing/*.png", "-o", "m"], "No .png, .tif, .tiff files match 'nothing/*.png'."),
    (["train", "in.png", "-o", "m", "--levels", "1"],
     "levels must be a whole number from 2 to 256, got 1."),
    (["train", "in.png", "-o", "m", "--levels", "4", "--values", "binary"],
     "--levels 4 applies to --values levels, not --values binary."),
    (["train", "in.png", "-o", "m", "--values", "levels", "--binarize"],
     "binarize=True makes the image binary, but values='levels' models intensities"),
    (["train", "in.png", "-o", "m", "--values", "ternary"], "argument --values: invalid choice"),
    (["train", "in.png", "-o", "m", "--granularity", "pixel", "--within-row", "autoregressive",
      *DENSE],
     "within_row='autoregressive' has no meaning with granularity='pixel'"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "0"],
     "argument --samples: must be a whole number from 1 to 1000, got '0'"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--uncertainty", "std", "u.tif"],
     "--uncertainty compares several completions: add --samples N with N >= 2."),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2",
      "--uncertainty", "std", "u.png"], "Cannot write the uncertainty (float32) to u.png"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2",
      "--uncertainty", "var", "u.tif"], "argument --uncertainty: invalid kind 'var'"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--temperature", "-1"],
     "temperature must be a number from 0 to 100, got -1.0."),
    (["complete", "in.png", "-o", "in.png", "--keep-rows", "4", "--steps", "1"],
     "The output in.png is an input file"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--mean", "m.png"],
     "--mean averages several drawn completions: add --samples N with N >= 2."),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "1", "--mean",
      "m.png"], "--mean averages several drawn completions: add --samples N with N >= 2."),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "x.tif"], "-o and --mean both name x.tif: use two files."),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "m.tif", "--uncertainty", "std", "m.tif"], "--uncertainty and --mean both name m.tif"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "m.jpg"], "Cannot write the posterior mean to m.jpg"),
    (["complete", "in.png", "-o", "x.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "in.png"], "The output in.png is an input file"),
    (["train", "in.png", "-o", "m", "--kernel", "5", *DENSE],
     "--kernel is a row-lstm option; this is --architecture dense"),
    (["train", "in.png", "-o", "m", "--flip", "--validation", "0", *DENSE],
     "--flip is a row-lstm option; this is --architecture dense"),
    (["train", "in.png", "-o", "m", "--cell", "gru"],
     "--cell is a dense option; this is --architecture row-lstm (add --architecture dense"),
    (["train", "in.png", "-o", "m", "--no-batch-norm"], "--no-batch-norm is a dense option"),
    (["train", "in.png", "-o", "m", "--architecture", "conv"],
     "argument --architecture: invalid choice: 'conv'"),
    (["train", "in.png", "-o", "m", "--components", "3", "--values", "levels"],
     "--components 3 applies to --values mixture, not --values levels."),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "4", "--model", "m.pixelrnn",
      "--train-on-all-rows"], "--train-on-all-rows trains a new model; with --model nothing"),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "4", "--keep-rows-only",
      "--train-on-all-rows"], "--keep-rows-only and --train-on-all-rows contradict each other"),
    (["demo", "--architecture", "dense"], "unrecognized arguments: --architecture dense"),
])
def test_bad_new_options_are_one_line_errors_in_process(tmp_path, monkeypatch, capsys, args,
                                                        message):
    """The same contract, checked in this process: each subprocess spends seconds
    importing torch, and these fail before any training."""
    inputs = write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    try:
        status = cli.main(args)
    except SystemExit as exit:  # argparse's errors
        status = exit.code
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1
    assert files(tmp_path) == inputs


def test_batch_size_reaches_training(tmp_path, monkeypatch, capsys):
    """--batch-size picks how many slices a step reads (and what torchrun splits)."""
    stack = np.stack([stripes(shift=k) for k in range(6)])
    tifffile.imwrite(tmp_path / "stack.tif", stack)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "stack.tif", "-o", "m.pixelrnn", *TINY, *DENSE,
                     "--batch-size", "2"]) == 0
    model = load_model(tmp_path / "m.pixelrnn")
    two = train(stack, steps=3, hidden_size=16, threads=1, batch_size=2, architecture="dense")
    six = train(stack, steps=3, hidden_size=16, threads=1, batch_size=6, architecture="dense")
    for name, value in two.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name
    assert any(not np.array_equal(v.numpy(), six.state_dict()[k].numpy())
               for k, v in two.state_dict().items())


# -- architectures, honest defaults, the posterior mean ------------------------------------


def test_every_training_setting_has_an_option_with_help_and_the_core_defaults():
    """Settings flow one way: each TrainConfig field is an option of train and complete,
    its choices are the core's, and the help shows the core's defaults."""
    from dataclasses import fields

    from napari_pixelrnn.core import TrainConfig
    from napari_pixelrnn.core.training import ARCHITECTURE_DEFAULTS, ARCHITECTURES
    from napari_pixelrnn.core.values import VALUE_KINDS

    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in ("train", "complete"):
        actions = {a.dest: a for a in commands[name]._actions}
        assert {f.name for f in fields(TrainConfig)} <= set(actions), name
        assert tuple(actions["architecture"].choices) == ARCHITECTURES
        assert actions["architecture"].default == TrainConfig().architecture == "row-lstm"
        assert tuple(actions["values"].choices) == VALUE_KINDS and "mixture" in VALUE_KINDS
        for setting in ("hidden_size", "steps", "lr"):
            assert actions[setting].default is None
            for arch, defaults in ARCHITECTURE_DEFAULTS.items():
                assert f"{arch} {defaults[setting]:g}" in actions[setting].help, setting
        for action in commands[name]._actions:  # help for every argument but the retired one
            assert action.help, action.dest
        if name == "complete":
            assert actions["keep_rows_only"].help == argparse.SUPPRESS
    for command in commands.values():
        assert all(action.help for action in command._actions
                   if action.dest != "keep_rows_only"), command.prog


def parsed_settings(*args):
    return running._training_settings(cli.build_parser().parse_args(
        ["train", "in.png", "-o", "m", *args]))


def test_options_given_are_the_settings_and_the_rest_is_left_to_the_core():
    assert parsed_settings() == {"architecture": "row-lstm", "values": None}
    assert parsed_settings("--no-flip") == {"architecture": "row-lstm", "values": None,
                                            "flip": False}
    assert parsed_settings("--kernel", "5", "--crop", "16", "--flip", "--validation", "0.2",
                           "--patience", "2", "--weight-decay", "0.01", "--values", "mixture",
                           "--components", "3", "--steps", "40", "--lr", "0.01",
                           "--hidden-size", "8", "--dropout", "0.1") == {
        "architecture": "row-lstm", "kernel": 5, "crop": 16, "flip": True, "validation": 0.2,
        "patience": 2, "weight_decay": 0.01, "values": "mixture", "components": 3,
        "steps": 40, "lr": 0.01, "hidden_size": 8, "dropout": 0.1}
    assert parsed_settings(*DENSE, "--cell", "gru", "--no-batch-norm", "--mode",
                           "many-to-one", "--bidirectional", "--context", "4",
                           "--within-row", "autoregressive") == {
        "architecture": "dense", "values": None, "cell": "gru", "batch_norm": False,
        "mode": "many-to-one", "bidirectional": True, "context": 4,
        "within_row": "autoregressive"}


def stepped(image):
    """Rows below the cut (8) unlike the rows above."""
    changed = image.copy()
    changed[8:] = 255 - changed[8:]
    return changed


def complete_in_process(tmp_path, monkeypatch, capsys, image, *args):
    imwrite(tmp_path / "in.png", image)
    monkeypatch.chdir(tmp_path)
    status = cli.main(["complete", "in.png", "-o", "out.tif", "--keep-rows", "8",
                       "--steps", "4", "--hidden-size", "8", "--threads", "1", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return tifffile.imread(tmp_path / "out.tif"), out, err


@pytest.mark.parametrize("architecture", ["row-lstm", "dense"])
def test_complete_trains_on_the_kept_rows_only_by_default(tmp_path, monkeypatch, capsys,
                                                          architecture):
    image = ramp()
    done, out, _ = complete_in_process(tmp_path, monkeypatch, capsys, image,
                                       "--architecture", architecture)
    model = train(image, keep_rows=8, steps=4, hidden_size=8, threads=1,
                  architecture=architecture)
    assert np.array_equal(done, complete(model, image, 8))
    # the rows below the cut are never read: other rows there, the same completion
    again, _, _ = complete_in_process(tmp_path, monkeypatch, capsys, stepped(image),
                                      "--architecture", architecture)
    assert np.array_equal(again[8:], done[8:])
    assert "reconstruction" not in out


def test_train_on_all_rows_is_the_reconstruction_experiment_and_says_so(tmp_path, monkeypatch,
                                                                         capsys):
    image = ramp()
    done, out, _ = complete_in_process(tmp_path, monkeypatch, capsys, image, *DENSE,
                                       "--train-on-all-rows")
    model = train(image, steps=4, hidden_size=8, threads=1, architecture="dense")
    assert np.array_equal(done, complete(model, image, 8))
    line, = [x for x in out.splitlines() if x.startswith("training on all rows")]
    assert line == ("training on all rows, the 8 it completes included: the lab note's "
                    "reconstruction experiment (the model sees the rows it completes)")
    other, _, _ = complete_in_process(tmp_path, monkeypatch, capsys, stepped(image), *DENSE,
                                      "--train-on-all-rows")
    assert not np.array_equal(other[8:], done[8:])  # it learned the rows it completes


def test_keep_rows_only_is_retired_with_a_note(tmp_path, monkeypatch, capsys):
    image = ramp()
    done, _, err = complete_in_process(tmp_path, monkeypatch, capsys, image, *DENSE)
    again, _, err_retired = complete_in_process(tmp_path, monkeypatch, capsys, image, *DENSE,
                                                "--keep-rows-only")
    assert np.array_equal(again, done)
    notes = [x for x in err_retired.splitlines() if x.startswith("note:")]
    assert notes == [("note: --keep-rows-only is no longer needed: training sees only the "
                      "rows above --keep-rows by default (--train-on-all-rows for every row)")]
    assert "note:" not in err
    assert "--keep-rows-only" not in cli.build_parser()._subparsers._group_actions[0].choices[
        "complete"].format_help()


def test_mean_writes_the_posterior_mean_of_the_samples(tmp_path, saved_model):
    image, model = saved_model
    result = run("complete", "in.png", "-o", "out.tif", "--keep-rows", "6", "--model",
                 "m.pixelrnn", "--samples", "5", "--seed", "3", "--mean", "mean.png",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    drawn = complete(model, image, 6, samples=5, seed=3)
    mean = imread(tmp_path / "mean.png")
    assert mean.dtype == np.uint8 and mean.shape == image.shape
    assert np.array_equal(mean, drawn.mean())
    assert np.array_equal(mean, np.round(drawn.images.astype(float).mean(0)).astype(np.uint8))
    assert np.array_equal(mean[:6], image[:6])
    assert not any(np.array_equal(mean, one) for one in drawn.images)  # no draw is the mean
    assert ("wrote mean.png: the posterior mean of the 5 completions (their pixel-wise "
            "average, uint8)") in result.stdout


def progress(step, loss, validation=None, best=None, steps=100, best_bits=None):
    return TrainProgress(step, steps, loss, None, validation, best, best_bits)


def test_the_progress_line_shows_both_losses_in_bits_per_dim(capsys):
    report = cli_progress.TrainingReport()
    report(progress(1, np.log(2) * 3.0, validation=2.5, best=1))
    report(progress(2, np.log(2) * 2.0))
    report(progress(3, np.log(2) * 1.5, validation=2.75, best=1))
    report(progress(4, np.log(2) * 1.25))  # the core stopped here (patience)
    report.finish()
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("1/100 loss 3.0000 bits/dim, validation 2.5000 bits/dim "
                           "(step 1; best: step 1)")
    assert err[-2] == ("training stopped early at step 4 of 100: the validation loss stopped "
                       "improving (--patience)")
    assert err[-1] == ("kept the weights of step 1, the best on the validation rows "
                       "(2.5000 bits/dim)")
    report = cli_progress.TrainingReport()  # fine-tuning never beat the pretrained start
    report(progress(1, np.log(2) * 3.0, best=0, steps=50, best_bits=2.75))
    report(progress(50, np.log(2) * 3.0, validation=2.9, best=0, steps=50, best_bits=2.75))
    report.finish()
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("1/50 loss 3.0000 bits/dim, validation 2.7500 bits/dim (step 0 "
                           "(the pretrained weights))")
    assert err[-1] == ("kept the weights of step 0 (the pretrained weights), the best on the "
                       "validation rows (2.7500 bits/dim)")
    calibrated = RowLSTM(RowLSTMConfig(channels=3))
    calibrated.drift.copy_(torch.tensor([-0.52, 0.0, 0.25]) / 255)
    report = cli_progress.TrainingReport()
    calibrated.draw_check = DrawCheck(1.04, 1.62)
    report(TrainProgress(5, 5, 1.0, calibrated, 2.0, 5))
    report.finish()
    assert capsys.readouterr().err.splitlines()[-2:] == [
        ("level calibration: drawing moves every value's centre by -0.52, +0.00, +0.25 "
         "levels (per channel), fitted on the training rows"),
        ("draw check: continuing its own training rows, its draws vary 1.04x as much row "
         "to row and 1.62x as much pixel to pixel as those rows (1 is right); expect "
         "completions noisier or streakier than the image (another training seed may "
         "draw better)")]
    report = cli_progress.TrainingReport()  # dense: no validation, no notes
    report(progress(100, np.log(2) * 0.5))
    report.finish()
    err = capsys.readouterr().err.splitlines()
    assert err == ["training [" + "#" * 30 + "] 100/100 loss 0.5000 bits/dim"]


def test_the_progress_line_says_when_the_training_loss_is_on_altered_rows(capsys):
    report = cli_progress.TrainingReport(TrainConfig(own_rows=0.5).altered_rows())
    report(progress(1, np.log(2) * 3.0, validation=2.5, best=1))
    assert capsys.readouterr().err.endswith(
        "1/100 loss (rows read: own draws) 3.0000 bits/dim, validation 2.5000 bits/dim "
        "(step 1; best: step 1)\n")


def test_the_progress_line_of_a_real_run(tmp_path, monkeypatch, capsys):
    image = ramp()
    updates = []
    train(image, keep_rows=8, steps=6, hidden_size=8, threads=1, progress=updates.append)
    _, _, err = complete_in_process(tmp_path, monkeypatch, capsys, image, "--steps", "6")
    last = updates[-1]
    line = [x for x in err.splitlines() if x.startswith("training [")][-1]
    assert f"{last.step}/6 " in line and " steps/s " in line  # the rate, measured
    assert f" loss {last.loss_bits_per_dim:.4f} bits/dim" in line
    measured = [u for u in updates if u.validation_bits_per_dim is not None]
    assert measured  # the row-lstm validates by default
    assert f"validation {measured[-1].validation_bits_per_dim:.4f} bits/dim" in line


@pytest.mark.slow
def test_demo_gives_each_run_the_options_of_its_architecture(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--out", "d", "--steps", "2", "--hidden-size", "4", "--cell",
                     "gru", "--kernel", "5", "--threads", "1", "--keep-rows-only"]) == 0
    out, err = capsys.readouterr()
    reconstruction = load_model(tmp_path / "d" / "horse_reconstruction.pixelrnn")
    honest = load_model(tmp_path / "d" / "horse_completion.pixelrnn")
    assert (reconstruction.architecture, reconstruction.config.cell) == ("dense", "gru")
    assert (honest.architecture, honest.config.kernel, honest.config.hidden_size) == (
        "row-lstm", 5, 4)
    assert reconstruction.config.values == honest.config.values == "binary"
    horse = load_sample("horse")
    for name, model in (("reconstruction", reconstruction), ("completion", honest)):
        assert np.array_equal(imread(tmp_path / "d" / f"horse_{name}.png"),
                              complete(model, horse, 128)), name
    panel = imread(tmp_path / "d" / "horse_side_by_side.png")
    assert panel.shape[0] > 256 and panel.shape[1:] == (4 * 260 - 4, 3)
    assert "(b) an honest completion: a Row LSTM trained on the 128 rows above the cut only, " \
           "2 steps at most\n" in out
    assert err.startswith("note: --keep-rows-only is no longer needed: the demo always shows "
                          "(b)")


# -- issue 12: a command line that respects the user's time ---------------------------------


def main_in_process(args, capsys):
    """cli.main's exit status (argparse's included), stdout and stderr."""
    try:
        status = cli.main(args)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_version_prints_the_package_version(capsys):
    from napari_pixelrnn import __version__

    status, out, _ = main_in_process(["--version"], capsys)
    assert status == 0 and out == f"napari-pixelrnn {__version__}\n"


@pytest.mark.parametrize("name,content", [("x.png", b"hello, not an image\n"),
                                          ("x.tif", b"hello"), ("notes.txt", b"hello"),
                                          ("empty.png", b"")])
def test_a_file_that_is_not_an_image_is_one_line_naming_the_formats(tmp_path, monkeypatch,
                                                                     capsys, name, content):
    (tmp_path / name).write_bytes(content)
    monkeypatch.chdir(tmp_path)
    for args in (["train", name, "-o", "m.pixelrnn"],
                 ["complete", name, "-o", "o.png", "--keep-rows", "4"]):
        status, out, err = main_in_process(args, capsys)
        assert status == 2 and out == "" and err.count("\n") == 1, err
        assert f"{name} is not an image napari-pixelrnn can read: it reads PNG and TIFF " \
               "(.png, .tif, .tiff) files." in err
        assert "pip" not in err and "plugin" not in err


def test_a_damaged_png_is_one_line(tmp_path, monkeypatch, capsys):
    imwrite(tmp_path / "in.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "cut.png").write_bytes((tmp_path / "in.png").read_bytes()[:20])
    monkeypatch.chdir(tmp_path)
    status, _, err = main_in_process(["train", "cut.png", "-o", "m.pixelrnn"], capsys)
    assert status == 2 and err.count("\n") == 1 and "Cannot read cut.png: a damaged PNG" in err


def no_training(*args, **kwargs):
    raise AssertionError("training started before the outputs were checked")


OUTPUT_CASES = [
    (["complete", "in.png", "-o", "nodir/o.png", "--keep-rows", "4"],
     "Cannot write the completion to nodir/o.png: the folder nodir/ does not exist."),
    (["complete", "in.png", "-o", "folder", "--keep-rows", "4"],
     "Cannot write the completion to folder: it is a folder; give a file name."),
    (["complete", "in.png", "-o", "o.jpg", "--keep-rows", "4"],
     "Cannot write the completion to o.jpg: accepted are .png, .tif, .tiff files."),
    (["complete", "in.png", "-o", "o.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "nodir/m.png"], "Cannot write the posterior mean to nodir/m.png: the folder nodir/"),
    (["complete", "in.png", "-o", "o.tif", "--keep-rows", "4", "--samples", "2",
      "--uncertainty", "std", "folder"],
     "Cannot write the uncertainty (float32) to folder: it is a folder"),
    (["complete", "in.png", "-o", "o.tif", "--keep-rows", "4", "--samples", "2",
      "--uncertainty", "std", "in.png/u.tif"],
     "Cannot write the uncertainty (float32) to in.png/u.tif: in.png is not a folder."),
    (["train", "in.png", "-o", "nodir/m.pixelrnn"],
     "Cannot write the model to nodir/m.pixelrnn: the folder nodir/ does not exist."),
    (["train", "in.png", "-o", "folder"],
     "Cannot write the model to folder: it is a folder; give a file name."),
    (["demo", "--out", "in.png"], "Cannot write the demo's files to in.png: it is a file"),
    (["demo", "--out", "in.png/d"], "Cannot make the folder in.png/d for the demo's files"),
]


@pytest.mark.parametrize("args,message", OUTPUT_CASES)
def test_outputs_are_checked_before_any_training(tmp_path, monkeypatch, capsys, args,
                                                 message):
    import napari_pixelrnn.core

    imwrite(tmp_path / "in.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(napari_pixelrnn.core, "train", no_training)
    status, _, err = main_in_process(args, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert message in err and "training [" not in err
    assert ".pixelrnn." not in err and "probe" not in err  # no internal temporary file


@pytest.mark.parametrize("args,path", [
    (["train", "in.png", "-o", "ro/m.pixelrnn"], "ro/m.pixelrnn"),
    (["complete", "in.png", "-o", "ro/o.png", "--keep-rows", "4"], "ro/o.png"),
    (["complete", "in.png", "-o", "o.tif", "--keep-rows", "4", "--samples", "2", "--mean",
      "ro/m.tif"], "ro/m.tif"),
    (["demo", "--out", "ro"], "ro"),
])
def test_a_read_only_folder_is_refused_before_training(tmp_path, monkeypatch, capsys, args,
                                                       path):
    """As root a chmod'ed folder is still writable: the folder's refusal is simulated where
    the check tries it (making a file there); the real thing is tested below."""
    import tempfile

    import napari_pixelrnn.core

    imwrite(tmp_path / "in.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "ro").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(napari_pixelrnn.core, "train", no_training)
    real = tempfile.mkstemp

    def refuse(*a, dir=None, **k):
        if dir is not None and os.path.basename(os.path.abspath(dir)) == "ro":
            raise PermissionError(13, "Permission denied", os.path.join(dir, ".x.tmp"))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    status, _, err = main_in_process(args, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert f"to {path}: it is read-only (the folder ro/)." in err and ".x.tmp" not in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="as root every folder is writable; "
                           "test_a_read_only_folder_is_refused_before_training simulates "
                           "the refusal")
def test_a_really_read_only_folder(tmp_path, monkeypatch, capsys):
    imwrite(tmp_path / "in.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "ro").mkdir(mode=0o555)
    monkeypatch.chdir(tmp_path)
    status, _, err = main_in_process(["train", "in.png", "-o", "ro/m.pixelrnn"], capsys)
    assert status == 2 and "it is read-only (the folder ro/)" in err


def interrupt_after(monkeypatch, steps: int):
    """Ctrl-C, as the user's, right after training step ``steps`` was reported."""
    report = cli_progress.TrainingReport.__call__

    def call(self, p):
        report(self, p)
        if p.step == steps:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_progress.TrainingReport, "__call__", call)


def test_ctrl_c_keeps_the_row_lstms_best_validation_weights(tmp_path, monkeypatch, capsys):
    from napari_pixelrnn.core.row_lstm.training import VALIDATE_EVERY

    imwrite(tmp_path / "in.png", stripes())
    monkeypatch.chdir(tmp_path)
    interrupt_after(monkeypatch, VALIDATE_EVERY + 3)
    status, _, err = main_in_process(
        ["train", "in.png", "-o", "m.pixelrnn", "--steps", "100000", "--hidden-size", "4",
         "--crop", "8", "--threads", "1"], capsys)
    assert status == 130
    assert re.search(rf"interrupted at training step {VALIDATE_EVERY + 3} of 100000 \(kept "
                     r"the weights of step \d+, the best on the validation rows, [\d.]+ "
                     r"bits/dim\): saved the model trained so far to m.pixelrnn$",
                     err.splitlines()[-1]), err.splitlines()[-1]
    load_model(tmp_path / "m.pixelrnn")


@pytest.mark.parametrize("architecture", ["row-lstm", "dense"])
def test_ctrl_c_in_train_saves_the_model_trained_so_far(tmp_path, monkeypatch, capsys,
                                                        architecture):
    imwrite(tmp_path / "in.png", stripes())
    monkeypatch.chdir(tmp_path)
    interrupt_after(monkeypatch, 6)
    started = time.monotonic()
    status, _, err = main_in_process(
        ["train", "in.png", "-o", "m.pixelrnn", "--steps", "100000", "--hidden-size", "8",
         "--threads", "1", "--architecture", architecture], capsys)
    assert status == 130 and time.monotonic() - started < 60
    last = err.splitlines()[-1]
    assert last.startswith("interrupted at training step 6 of 100000")
    assert last.endswith("saved the model trained so far to m.pixelrnn")
    model = load_model(tmp_path / "m.pixelrnn")
    assert model.architecture == architecture
    assert complete(model, stripes(), 8).shape == stripes().shape


def test_ctrl_c_in_complete_saves_its_model_beside_the_output(tmp_path, monkeypatch, capsys):
    imwrite(tmp_path / "in.png", stripes())
    (tmp_path / "out.pixelrnn").write_bytes(b"the user's own file")
    monkeypatch.chdir(tmp_path)
    interrupt_after(monkeypatch, 4)
    status, _, err = main_in_process(
        ["complete", "in.png", "-o", "out.png", "--keep-rows", "8", "--steps", "100000",
         "--hidden-size", "8", "--threads", "1"], capsys)
    assert status == 130
    assert err.splitlines()[-1].endswith("saved the model trained so far to out-1.pixelrnn")
    assert (tmp_path / "out.pixelrnn").read_bytes() == b"the user's own file"
    assert not (tmp_path / "out.png").exists()
    load_model(tmp_path / "out-1.pixelrnn")
    # the saved model completes, without training again
    assert cli.main(["complete", "in.png", "-o", "out.png", "--keep-rows", "8", "--model",
                     "out-1.pixelrnn"]) == 0


def test_ctrl_c_before_the_first_step_saves_nothing(tmp_path, monkeypatch, capsys):
    import napari_pixelrnn.core

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    imwrite(tmp_path / "in.png", stripes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(napari_pixelrnn.core, "train", interrupted)
    status, _, err = main_in_process(["train", "in.png", "-o", "m.pixelrnn"], capsys)
    assert status == 130 and err == "napari-pixelrnn: interrupted\n"
    assert not (tmp_path / "m.pixelrnn").exists()


@pytest.mark.skipif(sys.platform == "win32",
                    reason="Windows has no SIGINT to send to another process")
def test_sigint_to_a_training_process(tmp_path):
    """The real thing: Ctrl-C (SIGINT) to the command, once training is under way."""
    import signal

    imwrite(tmp_path / "in.png", stripes())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # A shell without job control starts background jobs (pytest run with &) with SIGINT
    # ignored, and Python keeps it ignored: restore Ctrl-C's usual handler first.
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, "
             "signal.default_int_handler); sys.argv[0] = 'napari-pixelrnn'; "
             "runpy.run_module('napari_pixelrnn', run_name='__main__')")
    process = subprocess.Popen(
        [sys.executable, "-c", start, "train", "in.png", "-o", "m.pixelrnn",
         "--steps", "100000", "--hidden-size", "8", "--threads", "1"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()  # the first progress line: training is under way
        assert line.startswith("training ["), line
        process.send_signal(signal.SIGINT)
        err = process.stderr.read()
        assert process.wait(timeout=60) == 130, err
    finally:
        process.kill()
    assert "saved the model trained so far to m.pixelrnn" in err.splitlines()[-1]
    load_model(tmp_path / "m.pixelrnn")


def test_the_side_by_side_picture_has_titles_and_marks_the_cut():
    horse = load_sample("horse")
    plain = cli_picture.side_by_side(horse, [horse, horse], 100)
    picture = cli_picture.side_by_side(horse, [horse, horse], 100,
                               ["(a) dense, trained on all rows",
                                "(b) row-lstm, rows above the cut"])
    band = picture.shape[0] - horse.shape[0]
    assert band >= 8 and picture.shape[1] == 4 * 256 + 3 * 4 and plain.shape == picture.shape
    for k in range(4):  # a title above each panel: dark text in the white band
        title = picture[:band, k * 260:k * 260 + 256]
        assert (title.min(axis=-1) < 128).any(), k
    masked = picture[band:, 260:260 + 256]
    assert (masked[100] == cli_picture.CUT).all()  # the cut, at its row, across the masked panel
    assert (masked[:100] != cli_picture.CUT).any(axis=-1).all()  # the kept rows are the image's
    assert np.array_equal(picture[band:, :256, 0], horse)  # the original, untouched
    assert (picture[band + 100, 256:260] == cli_picture.CUT).all()  # a tick in the gap
    below = masked[101:130].astype(int)
    red = (below[..., 0] > 200) & (below[..., 1] < 120)  # the text is antialiased
    assert red.any()  # the cut's number, written under it
    narrow = cli_picture.side_by_side(horse[:, :40], horse[:, :40], 10, ["(a) a long title to wrap"])
    assert narrow.shape[0] - 256 > band  # the titles wrapped: a taller band


def test_the_progress_line_shows_rate_and_time_left_every_5_s_off_a_terminal():
    import io

    now = [100.0]
    stream = io.StringIO()  # not a terminal
    report = cli_progress.progress("training", "steps", clock=lambda: now[0], stream=stream)
    report(1, 1001)  # the first: printed, nothing measured yet
    for step in range(2, 1001):
        now[0] += 0.01  # 100 steps/s
        report(step, 1001, "loss 1.0000 bits/dim")
    now[0] += 0.01
    report(1001, 1001, "loss 0.5000 bits/dim")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "training [" + " " * 30 + "] 1/1001"
    # one line every 5 s (500 steps) and the last
    assert [line.split("] ")[1].split(" ")[0] for line in lines] == ["1/1001", "501/1001",
                                                                    "1001/1001"]
    assert lines[1].endswith("] 501/1001 100 steps/s, 0:05 left loss 1.0000 bits/dim")
    assert lines[2].endswith("] 1001/1001 100 steps/s loss 0.5000 bits/dim")
    assert cli_progress._format_duration(3725) == "1:02:05" and cli_progress._format_duration(7.4) == "0:07"


def test_the_cli_uses_one_torch_thread_unless_told(tmp_path):
    """torch's default (one thread per core) spin-waits: beside another busy torch job a
    training run took 14x longer with 2 threads, 1.5x with 1 (docs/benchmarks.md)."""
    import torch

    before = torch.get_num_threads()
    image = tmp_path / "in.png"
    imwrite(image, np.zeros((16, 16), np.uint8))
    try:
        for extra, expected in (((), 1), (("--threads", "2"), 2)):
            torch.set_num_threads(3)
            assert cli.main(["train", str(image), "-o", str(tmp_path / "m.pixelrnn"), "--steps",
                         "1", "--hidden-size", "4", "--architecture", "dense", *extra]) == 0
            assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)
