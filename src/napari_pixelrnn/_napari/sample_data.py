"""Sample-data menu providers: File > Open Sample > napari-pixelrnn."""

from __future__ import annotations

from ..core.samples import SAMPLES, load_sample


def _layer(key: str, **kwargs):
    return [(load_sample(key), {"name": key, "metadata": {"description": SAMPLES[key][1]},
                                **kwargs}, "image")]


def horse():
    return _layer("horse", colormap="gray")


def camera():
    return _layer("camera", colormap="gray")


def astronaut():
    return _layer("astronaut", rgb=True)


def brick_stack():
    return _layer("brick_stack", colormap="gray")
