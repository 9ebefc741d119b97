"""Memory estimates, checked before training or completion allocates anything large.

The factors were measured (peak RSS, torch 2.13 CPU): a training step holds about a dozen
float32 tensors the size of the decoder output (rows x values x parameters), for the
forward pass, the loss terms and their gradients.
"""

from __future__ import annotations

from .errors import PixelRNNError

FLOAT = 4  # bytes per float32
OUTPUT_COPIES_TRAINING = 12  # decoder-output-sized tensors alive in one training step
HIDDEN_COPIES_TRAINING = 16  # per RNN unit and row: gates, states and their gradients
MAX_DECODED = 1 << 24  # decoder outputs computed at once (64 MB of float32), see training
OUTPUT_COPIES_COMPLETION = 3  # the prefix pass's outputs, the rows, the completed copy


def available_bytes() -> int | None:
    """Memory the system could still give us (Linux ``MemAvailable``), None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def training_bytes(sequences: int, rows: int, values: int, params: int, hidden: int,
                   layers: int, directions: int) -> int:
    per_row = values * params * OUTPUT_COPIES_TRAINING + hidden * layers * directions * HIDDEN_COPIES_TRAINING
    weights = (2 * values * hidden + hidden * values * params + 8 * hidden * hidden * layers) * 4
    return FLOAT * (sequences * rows * per_row + values * rows * sequences * 3) + FLOAT * weights


def completion_bytes(sequences: int, rows: int, values: int, params: int) -> int:
    return FLOAT * sequences * rows * values * (params + OUTPUT_COPIES_COMPLETION)


def check_fits(needed: int, what: str, advice: str) -> None:
    """Raise a clear error when ``needed`` bytes exceed what the system has available."""
    free = available_bytes()
    if free is not None and needed > free:
        raise PixelRNNError(
            f"{what} needs about {needed / 2**30:.1f} GiB of memory (estimate), but only "
            f"{free / 2**30:.1f} GiB are available. {advice}"
        )
