"""Which training settings belong to which architecture, for the front ends (no Qt).

The CLI refuses an option of the other architecture; the widget greys it out. The core
decides what each setting means (:class:`~napari_pixelrnn.core.TrainConfig`).
"""

from __future__ import annotations

# TrainConfig fields that only one architecture has; every other field applies to both.
ONLY_FOR = {
    "dense": ("cell", "mode", "context", "bidirectional", "batch_norm", "within_row",
              "granularity"),
    "row-lstm": ("kernel", "crop", "flip", "validation", "patience"),
}


def owner(setting: str) -> str | None:
    """The architecture a setting belongs to, or None when both have it."""
    return next((arch for arch, names in ONLY_FOR.items() if setting in names), None)
