"""Which training settings belong to which architecture, for the front ends (no Qt).

The CLI refuses an option of the other architecture; the widget greys it out. The core
decides what each setting means (:class:`~napari_pixelrnn.core.TrainConfig`).
"""

from __future__ import annotations

from .core.training import ONLY_FOR  # the core's list, so the two cannot drift


def owner(setting: str) -> str | None:
    """The architecture a setting belongs to, or None when both have it."""
    return next((arch for arch, names in ONLY_FOR.items() if setting in names), None)
