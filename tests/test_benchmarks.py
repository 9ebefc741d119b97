"""The benchmark harness runs (in its quick form) and writes every table, so it cannot rot.
Its numbers are not judged here: timing asserts on a shared machine would be noise."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmarks_write_every_table(tmp_path):
    out = tmp_path / "benchmarks.md"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    for title in ("Generalization: dense against the Row LSTM",
                  "Opt-in settings for photographs: turned crops and dropout",
                  "Level calibration for textures (opt-in)",
                  "Ten images no setting was chosen on",
                  "Pretrained start (opt-in): bundled images and textures",
                  "Pretrained start (opt-in): the ten unseen images",
                  "Pretrained start with turned crops and dropout (opt-in): bundled images "
                  "and textures",
                  "Pretrained start with turned crops and dropout (opt-in): the ten unseen "
                  "images",
                  "Draw temperature: bundled images and textures",
                  "Draw temperature: the ten unseen images",
                  "Noisy rows read in training (opt-in): bundled images and textures",
                  "Noisy rows read in training (opt-in): the ten unseen images",
                  "Own draws read in training (opt-in): bundled images and textures",
                  "Own draws read in training (opt-in): the ten unseen images",
                  "Row LSTM sampler",
                  "A busy neighbour",
                  "Sampler against its limits", "Training: time to quality",
                  "GUI responsiveness", "Peak memory", "Completion quality against peers",
                  "Value models and left-to-right rows", "Pixel by pixel against row by row"):
        section = text.split(f"## {title}")[1].split("\n## ")[0]
        rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
        assert len(rows) >= 2, title  # a header and at least one measured row
        assert re.search(r"\| \d+(\.\d+)? ", "\n".join(rows[1:])), title  # numbers, measured
    for peer in ("biharmonic (scikit-image)", "Telea (OpenCV)", "Navier-Stokes (OpenCV)",
                 "repeat last kept row", "mean of kept rows", "WebP lossless",
                 "JPEG XL lossless", "row-to-row variation ratio"):
        assert peer in text
    for variant in ("continuous, autoregressive", "levels K=16, independent", "binary, pixel"):
        assert variant in text
    from PIL import Image  # the picture grid: one row per image, six panels

    for name in ("completions.png", "level_calibration.png", "unseen_images.png",
                 "pretrained.png", "pretrained_unseen.png", "temperature.png",
                 "temperature_unseen.png", "input_noise.png", "input_noise_unseen.png",
                 "own_rows.png", "own_rows_unseen.png", "pretrained_photographs.png",
                 "pretrained_photographs_unseen.png"):
        picture = Image.open(tmp_path / "images" / name)
        assert picture.width > 6 * 100 and picture.height > 100, name
