import numpy as np
import pytest

from napari_pixelrnn.core import load_sample


@pytest.fixture
def stripes():
    """64x64 binary diagonal stripes (period 16), uint8 0/255."""
    r, c = np.mgrid[:64, :64]
    return ((((r + c) // 8) % 2) * 255).astype(np.uint8)


@pytest.fixture(scope="session")
def bricks():
    """The bundled brick stack, (4, 64, 64) uint8: tests read it, never change it."""
    return load_sample("brick_stack")


def tiny(**overrides):
    """Settings for fast tests: a small network and a handful of steps."""
    settings = {"steps": 3, "hidden_size": 16, "seed": 0}
    settings.update(overrides)
    return settings
