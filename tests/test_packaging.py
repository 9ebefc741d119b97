"""The manifest and sample data are found from an editable and from a built wheel."""

import filecmp
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "napari_pixelrnn"


def test_the_top_level_manifest_and_samples_are_the_packaged_ones():
    for top, packaged in [("napari.yaml", "napari.yaml"), ("sample_data", "sample_data")]:
        link = ROOT / top
        assert link.is_symlink() and link.resolve() == (PACKAGE / packaged).resolve()
    assert filecmp.cmp(ROOT / "napari.yaml", PACKAGE / "napari.yaml", shallow=False)


def test_npe2_validates_the_installed_manifest():
    result = subprocess.run([sys.executable, "-m", "npe2", "validate", "napari-pixelrnn"],
                            capture_output=True, text=True, timeout=300, check=False)
    # "valid!" exactly: a bare "valid" would also match "invalid"
    assert result.returncode == 0 and re.search(r"\bvalid!", result.stdout) \
        and "invalid" not in result.stdout.lower(), result.stdout + result.stderr


@pytest.mark.slow
def test_a_built_wheel_finds_its_manifest_widgets_and_samples(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path), str(ROOT)], check=True, timeout=600)
    wheel = next(tmp_path.glob("napari_pixelrnn-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "napari_pixelrnn/napari.yaml" in names
    assert "napari_pixelrnn/sample_data/horse.png" in names
    assert {"napari_pixelrnn/pretrained/row_lstm_gray.pixelrnn",
            "napari_pixelrnn/pretrained/row_lstm_rgb.pixelrnn"} <= set(names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, timeout=600)
    probe = """
import napari_pixelrnn, npe2
from napari_pixelrnn.core import SAMPLES, load_sample
manifest = npe2.PluginManifest.from_distribution("napari-pixelrnn")
print(napari_pixelrnn.__file__)
print(sorted(w.display_name for w in manifest.contributions.widgets))
print(sorted(s.key for s in manifest.contributions.sample_data) == sorted(SAMPLES))
print([load_sample(k).shape for k in SAMPLES])
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=False, timeout=300, cwd=tmp_path,
                            env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    where, widgets, samples_match, shapes = result.stdout.strip().splitlines()
    assert where.startswith(str(target))  # the wheel's copy, not the source tree
    assert widgets == "['Train and complete']" and samples_match == "True"
    assert shapes == "[(256, 256), (128, 128), (128, 128, 3), (4, 64, 64)]"
