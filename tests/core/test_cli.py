"""The command line, run as a user would: in a subprocess."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from imageio.v3 import imread, imwrite

from napari_pixelrnn import cli
from napari_pixelrnn.core import (complete, evaluate, load_model, load_sample, save_model,
                                  train, uncertainty)

TINY = ("--steps", "3", "--hidden-size", "16", "--threads", "1")


def run(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/conftest.py
    return subprocess.run([sys.executable, "-m", "napari_pixelrnn", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_demo_trains_completes_and_writes_its_files(tmp_path):
    result = run("demo", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    horse = load_sample("horse")
    completed = imread(tmp_path / "out" / "horse_completed.png")
    assert completed.shape == horse.shape and completed.dtype == np.uint8
    assert np.array_equal(completed[:128], horse[:128])
    assert (completed[128:] == horse[128:]).mean() >= 0.99  # the lab note's experiment
    panel = imread(tmp_path / "out" / "horse_side_by_side.png")
    assert panel.shape == (256, 3 * 256 + 8, 3)
    assert "bits/dim" in result.stdout and "pixel accuracy" in result.stdout
    assert "teacher-forced" in result.stdout and "free-running" in result.stdout
    assert (tmp_path / "out" / "horse.pixelrnn").stat().st_size > 0


def test_train_then_complete_with_the_saved_model(tmp_path):
    r, c = np.mgrid[:32, :32]
    image = ((((r + c) // 4) % 2) * 255).astype(np.uint8)
    imwrite(tmp_path / "in.png", image)
    trained = run("train", str(tmp_path / "in.png"), "-o", str(tmp_path / "m.pixelrnn"),
                  "--keep-rows", "16", "--steps", "5", "--hidden-size", "16", "--binarize")
    assert trained.returncode == 0, trained.stderr
    done = run("complete", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.tif"),
               "--keep-rows", "16", "--model", str(tmp_path / "m.pixelrnn"), "--scores")
    assert done.returncode == 0, done.stderr
    out = tifffile.imread(tmp_path / "out.tif")
    assert out.shape == image.shape and np.array_equal(out[:16], image[:16])
    scores = evaluate(load_model(tmp_path / "m.pixelrnn"), image, 16)
    assert f"{scores['teacher_forced_bits_per_dim']:.4f}" in done.stdout
    assert f"{scores['free_running_bits_per_dim']:.4f}" in done.stdout


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
    result = run("train", str(folder), "-o", str(tmp_path / "m.pixelrnn"), *TINY,
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
                 within_row="autoregressive")
    for name, value in core.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name


def test_train_on_a_glob_pattern_expanded_by_the_cli(tmp_path):
    (tmp_path / "imgs").mkdir()
    for k in range(2):
        tifffile.imwrite(tmp_path / "imgs" / f"r{k}.tif", ramp(shift=k))
    imwrite(tmp_path / "imgs" / "other.png", stripes())  # 20 wide, not matched
    result = run("train", "imgs/r*.tif", "-o", "m.pixelrnn", *TINY, "--granularity", "pixel",
                 cwd=tmp_path)  # quoted: the pattern reaches the CLI unexpanded
    assert result.returncode == 0, result.stderr
    model = load_model(tmp_path / "m.pixelrnn")
    assert (model.data.width, model.config.granularity, model.config.values) == (
        12, "pixel", "continuous")
    core = train([ramp(shift=0), ramp(shift=1)], steps=3, hidden_size=16, threads=1,
                 granularity="pixel")
    for name, value in core.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name


@pytest.fixture
def saved_model(tmp_path):
    """A tiny continuous model of a 16 x 12 ramp, saved and loaded back."""
    image = ramp()
    imwrite(tmp_path / "in.png", image)
    save_model(train(image, steps=3, hidden_size=16, threads=1), tmp_path / "m.pixelrnn")
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


SCORES = dict(masked_rows=8, masked_values=96, alphabet=2, teacher_forced_bits_per_dim=0.1,
              teacher_forced_bits_per_dim_256=0.2, free_running_bits_per_dim=0.9,
              free_running_bits_per_dim_256=1.0, free_running_mse=0.25,
              free_running_psnr_db=6.02, free_running_pixel_accuracy_pct=75.0)


def test_a_drifting_model_gets_a_one_line_warning_on_stderr(capsys):
    cli._print_scores(SCORES)
    out, err = capsys.readouterr()
    assert "0.1000" in out and "0.9000" in out and "pixel accuracy 75.00 %" in out
    assert err.startswith("warning: Free-running loss 0.900 bits/dim is far above")
    assert err.count("\n") == 1
    cli._print_scores({**SCORES, "free_running_bits_per_dim": 0.25})  # 2 x 0.1 + 0.1 > 0.25
    out, err = capsys.readouterr()
    assert "0.2500" in out and err == ""


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
    (["train", "in.png", "-o", "m", "--cell", "cnn"], "Unknown cell"),
    (["train", "in.jpg", "-o", "m"], "accepted are .png, .tif, .tiff"),
    (["train", "in.png", "wide.png", "-o", "m", "--steps", "1"],
     "image 1 is 9 wide with 1 channel(s), uint8. Crop or convert them first (heights may "
     "differ). (image 0: in.png, image 1: wide.png)"),
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
    (["train", "in.png", "-o", "m", "--granularity", "pixel", "--within-row", "autoregressive"],
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
    assert cli.main(["train", "stack.tif", "-o", "m.pixelrnn", *TINY, "--batch-size", "2"]) == 0
    model = load_model(tmp_path / "m.pixelrnn")
    two = train(stack, steps=3, hidden_size=16, threads=1, batch_size=2)
    six = train(stack, steps=3, hidden_size=16, threads=1, batch_size=6)
    for name, value in two.state_dict().items():
        assert np.array_equal(value.numpy(), model.state_dict()[name].numpy()), name
    assert any(not np.array_equal(v.numpy(), six.state_dict()[k].numpy())
               for k, v in two.state_dict().items())
