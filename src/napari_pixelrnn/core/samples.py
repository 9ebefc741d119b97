"""The bundled sample images (offline; sources in sample_data/README.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import PixelRNNError

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"

# key -> (file, what it shows)
SAMPLES = {
    "horse": ("horse.png", "Horse silhouette (binary, 256x256)"),
    "camera": ("camera.png", "Cameraman (grayscale, 128x128)"),
    "astronaut": ("astronaut.png", "Astronaut (colour, 128x128x3)"),
    "brick_stack": ("brick_stack.tif", "Brick wall crops (stack, 4x64x64)"),
}


def sample_path(key: str) -> Path:
    if key not in SAMPLES:
        raise PixelRNNError(f"Unknown sample {key!r}: available are {', '.join(SAMPLES)}.")
    return SAMPLE_DIR / SAMPLES[key][0]


def load_sample(key: str) -> np.ndarray:
    """A bundled sample image as a numpy array."""
    from .io import read_image

    return read_image(sample_path(key))
