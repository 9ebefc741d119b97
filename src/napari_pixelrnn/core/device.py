"""Where torch runs: the device a user asked for (with a clear error for unavailable
ones) and how many CPU threads it uses."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from .errors import PixelRNNError, check_choice

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
    check_choice("device", name, DEVICES)
    usable = available_devices()
    if name == "auto":
        name = "cuda" if "cuda" in usable else "mps" if "mps" in usable else "cpu"
    if name not in usable:
        raise PixelRNNError(
            f"Device {name!r} is not available on this machine; available: {', '.join(usable)}."
        )
    return torch.device(name)


@contextmanager
def torch_threads(count: int | None):
    """Use ``count`` torch CPU threads inside the block (None: leave torch's setting).

    The setting is process-wide; it is restored when the block ends.
    """
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
