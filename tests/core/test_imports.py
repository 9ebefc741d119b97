"""The headless core loads neither Qt nor napari; the package root loads not even torch."""

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
bad = sorted(m for m in sys.modules if m.split('.')[0] in {{{forbidden}}})
print(','.join(bad))
"""


@pytest.mark.parametrize("module,forbidden", [
    ("napari_pixelrnn.core",
     ["qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "napari", "magicgui", "vispy"]),
    ("napari_pixelrnn", ["torch", "qtpy", "PyQt6", "napari"]),
])
def test_import_is_headless(module, forbidden):
    code = CHECK.format(module=module, forbidden=", ".join(repr(f) for f in forbidden))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_no_core_module_loads_qt_or_napari():
    """Importing every module under core/ (its model-family packages included) loads no Qt
    or napari: any one that did would leave it in sys.modules."""
    code = """
import importlib, pkgutil, sys
import napari_pixelrnn.core as core
names = [info.name for info in pkgutil.walk_packages(core.__path__, "napari_pixelrnn.core.")]
assert "napari_pixelrnn.core.row_lstm.edge_prior" in names, names
for name in names:
    importlib.import_module(name)
bad = sorted(m for m in sys.modules
             if m.split('.')[0] in {'qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'napari',
                                    'magicgui', 'vispy', 'superqt', 'pyqtgraph'})
print(','.join(bad))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
