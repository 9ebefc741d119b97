"""Choosing the torch device a user asked for, with a clear error for unavailable ones."""

from __future__ import annotations

import torch

from .errors import PixelRNNError

DEVICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The device names this machine can use, "auto" first."""
    found = ["auto", "cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return found


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise PixelRNNError(f"Unknown device {name!r}: accepted are {', '.join(DEVICES)}.")
    usable = available_devices()
    if name == "auto":
        name = "cuda" if "cuda" in usable else "mps" if "mps" in usable else "cpu"
    if name not in usable:
        raise PixelRNNError(
            f"Device {name!r} is not available on this machine; available: {', '.join(usable)}."
        )
    return torch.device(name)
