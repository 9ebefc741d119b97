"""The README's Python example and docs/screenshot.py run, so examples cannot rot.

Both run as written with fewer training steps and a smaller network (the numbers they
print are not checked here: the benchmarks measure those)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"```python\n(.*?)```", text, re.DOTALL).group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch):
    from napari_pixelrnn import core

    real = core.train

    def quick(images, **settings):  # the example's calls, with a tiny network
        return real(images, **settings | {"steps": 2, "hidden_size": 4})

    monkeypatch.setattr(core, "train", quick)
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(_readme_example(), "README.md", "exec"), names)  # noqa: S102
    assert (tmp_path / "bricks.pixelrnn").exists()
    # what the example says it makes: 8 draws keeping rows < 32, their mean, a Row LSTM
    # reloaded from the file, and the lab note's dense model
    bricks, draws = names["bricks"], names["draws"]
    assert draws.images.shape == (8, 64, 64) and draws.images.dtype == np.uint8
    assert np.array_equal(draws.images[:, :32], np.repeat(bricks[3][None, :32], 8, 0))
    assert names["mean"].shape == (64, 64)
    assert names["model"].architecture == "row-lstm"
    assert names["model"].provenance["steps_run"] == 2  # the reloaded file says so
    assert names["dense"].architecture == "dense"


SCREENSHOT = """
import runpy, sys
from pathlib import Path
script = runpy.run_path(sys.argv[1])
main = script["main"]
main.__globals__.update(STEPS=2, OUT=Path(sys.argv[2]))
main()
"""


@pytest.mark.slow
def test_the_screenshot_script_runs(tmp_path):
    out = tmp_path / "screenshot.png"
    result = subprocess.run([sys.executable, "-c", SCREENSHOT, str(ROOT / "docs/screenshot.py"),
                             str(out)], capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.exists() and out.stat().st_size > 0
