"""The command line, run as a user would: in a subprocess."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from imageio.v3 import imread, imwrite

from napari_pixelrnn.core import load_sample


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
    assert "teacher_forced_bits_per_dim" in done.stdout


@pytest.mark.parametrize("args,message", [
    (["complete", "missing.png", "-o", "x.png", "--keep-rows", "3", "--steps", "1"], "No such image"),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "99", "--steps", "1"], "keep_rows=99"),
    (["complete", "in.png", "-o", "x.png", "--keep-rows", "4", "--model", "in.png"],
     "not a napari-pixelrnn checkpoint"),
    (["train", "in.png", "-o", "m", "--cell", "cnn"], "Unknown cell"),
    (["train", "in.jpg", "-o", "m"], "accepted are .png, .tif, .tiff"),
])
def test_bad_input_is_one_line_on_stderr_and_a_nonzero_exit(tmp_path, args, message):
    imwrite(tmp_path / "in.png", np.zeros((8, 8), np.uint8))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
