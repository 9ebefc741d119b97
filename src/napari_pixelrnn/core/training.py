"""Training: teacher forcing on the rows a user allows, as a generator of progress.

The generator form lets a script iterate it, the napari widget run it in a
``thread_worker`` (stopping at the next ``yield``), and ``train`` wrap it with callbacks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, fields

import numpy as np
import torch

from .data import check_image, check_keep_rows, image_height, make_spec, to_rows, top_rows
from .device import resolve_device, torch_threads
from .errors import PixelRNNError
from .memory import check_fits, training_bytes
from .model import GenModel
from .windows import windows_before


@dataclass
class TrainConfig:
    """Everything a training run needs besides the image (the widget and CLI fill it)."""

    keep_rows: int | None = None  # learn from rows 0..keep_rows-1 only; None = all rows
    steps: int = 300  # optimizer steps; the 256x256 binary demo converges in fewer
    lr: float = 3e-3  # Adam learning rate, cosine-decayed to a tenth; 1e-2 made batch norm unstable
    hidden_size: int = 256  # RNN units: enough to memorize a 256-row binary image
    num_layers: int = 1  # stacked RNN layers
    cell: str = "lstm"  # "lstm", "gru" or "rnn"; torch's CPU LSTM is 3x faster than GRU here
    mode: str = "many-to-many"  # or "many-to-one" (a window of previous rows)
    context: int = 16  # many-to-one window length in rows
    bidirectional: bool = False  # many-to-one only; see GenModel
    batch_norm: bool = True  # causal batch norm after the encoder
    dropout: float = 0.0  # between stacked RNN layers
    binarize: bool | float = False  # True = Otsu threshold, a float = fixed threshold
    rgb: bool | None = None  # last axis is colour; None = guess like napari
    seed: int = 0  # same seed, same result on the CPU
    device: str = "auto"  # "auto", "cpu", "cuda" or "mps"
    batch_size: int = 16  # slices per step (many-to-many); many-to-one takes 4x as many windows
    threads: int | None = None  # torch CPU threads while training; None = leave torch's setting.
    # Per-row RNN work is small: one thread loses little and leaves a core to the GUI.

    @classmethod
    def from_settings(cls, **settings) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise PixelRNNError(
                f"Unknown training setting(s) {', '.join(unknown)}; accepted are "
                f"{', '.join(sorted(known))}."
            )
        return cls(**settings)


@dataclass(frozen=True)
class TrainProgress:
    """One finished optimizer step."""

    step: int
    steps: int
    loss: float  # teacher-forced loss of this step's batch, nats per value
    model: GenModel  # the model being trained (the same object every step)


def _check_numbers(config: TrainConfig) -> None:
    if config.threads is not None and (isinstance(config.threads, bool) or not isinstance(
            config.threads, int) or config.threads < 1):
        raise PixelRNNError(f"threads must be None or a whole number >= 1, got {config.threads!r}.")
    for name in ("steps", "batch_size", "seed"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (
            0 if name == "seed" else 1
        ):
            raise PixelRNNError(f"{name} must be a whole number >= {0 if name == 'seed' else 1}, got {value!r}.")
    if not isinstance(config.lr, (int, float)) or not 0 < config.lr < 10 or math.isnan(config.lr):
        raise PixelRNNError(f"lr must be a positive learning rate below 10, got {config.lr!r}.")


def train_steps(image, config: TrainConfig | None = None) -> Generator[TrainProgress, None, GenModel]:
    """Train a new :class:`GenModel` on ``image``, yielding after every step.

    Returns the model (``StopIteration.value``); closing the generator early leaves the
    model from the last yielded progress trained so far and ready to use.
    """
    config = config or TrainConfig()
    _check_numbers(config)
    image, rgb = check_image(image, config.rgb)
    height = image_height(image, rgb)
    if config.keep_rows is not None:
        keep = check_keep_rows(config.keep_rows, height)
        if keep < 2:
            raise PixelRNNError("Training needs at least 2 rows to keep (keep_rows >= 2).")
        image = top_rows(image, keep, rgb)  # the masked rows are never seen, not even their range
    spec = make_spec(image, rgb, config.binarize)
    _check_memory(image, rgb, spec, config)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    pick = np.random.default_rng(config.seed)
    model = GenModel(spec.input_size, config.hidden_size, config.num_layers,
                     config.bidirectional, config.cell, config.mode, config.context,
                     config.batch_norm, config.dropout,
                     values="binary" if spec.binary else "continuous").to(device)
    model.data = spec
    rows = torch.from_numpy(to_rows(image, spec)).to(device)  # (N, H, D)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / config.steps))
    )
    model.train()
    try:
        with torch_threads(config.threads):
            yield from _optimize(model, rows, pick, config, optimizer, schedule)
    finally:
        model.eval()  # stopped or finished, the model is ready to generate
    return model


def _optimize(model, rows, pick, config, optimizer, schedule):
    for step in range(1, config.steps + 1):
        try:
            loss = _step(model, rows, pick, config, optimizer)
        except torch.OutOfMemoryError:
            if not _on_accelerator(rows):
                raise PixelRNNError(
                    f"Out of memory at training step {step} although the estimate fit; "
                    "train on a crop, fewer slices per step (batch_size) or a smaller "
                    "hidden size. The model trained so far is kept.") from None
            rows = _fall_back_to_cpu(model, optimizer, rows, step)
            loss = _step(model, rows, pick, config, optimizer)
        schedule.step()
        yield TrainProgress(step, config.steps, float(loss.detach()), model)


def _step(model, rows, pick, config, optimizer) -> torch.Tensor:
    loss_of = _sequence_loss if config.mode == "many-to-many" else _window_loss
    optimizer.zero_grad(set_to_none=True)
    loss = loss_of(model, rows, pick, config)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss


def _on_accelerator(rows: torch.Tensor) -> bool:
    return rows.device.type != "cpu"


def _fall_back_to_cpu(model, optimizer, rows, step: int) -> torch.Tensor:
    """The GPU ran out of memory: carry on from the same step on the CPU, and say so."""
    device = rows.device
    model.cpu()
    for state in optimizer.state.values():  # Adam's moments follow the weights
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                state[key] = value.cpu()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    warnings.warn(f"The {device.type.upper()} device ran out of memory at training step "
                  f"{step}; training continues on the CPU (slower).", ResourceWarning,
                  stacklevel=2)
    return rows.cpu()


def _check_memory(image, rgb, spec, config) -> None:
    height = image_height(image, rgb)
    slices = image.size // (height * spec.input_size)
    if config.mode == "many-to-many":
        per_step, rows_per_sequence = min(slices, config.batch_size), height
    else:
        per_step, rows_per_sequence = 4 * config.batch_size, config.context
    needed = training_bytes(per_step, rows_per_sequence, spec.input_size,
                            1 if spec.binary else 2, config.hidden_size, config.num_layers,
                            2 if config.bidirectional else 1)
    needed += image.size * 12  # the float64 normalization pass and the float32 rows
    check_fits(needed, f"Training on {slices} slice(s) of {height} rows x {spec.input_size} values",
               "Train on a crop or fewer rows, fewer slices per step (batch_size) or a smaller "
               "hidden size.")


def _sequence_loss(model, rows, pick, config):
    """Many-to-many: whole slices from row 0, as generation reads them; position t
    predicts row t + 1 from rows 0..t."""
    if rows.shape[0] > config.batch_size:
        rows = rows[torch.from_numpy(pick.choice(rows.shape[0], config.batch_size, replace=False))]
    out = model(rows[:, :-1])
    return model.value_model.nll(out, rows[:, 1:]).mean()


def _window_loss(model, rows, pick, config):
    """Many-to-one: random (slice, target row) pairs, each with its window above."""
    n, height, _ = rows.shape
    count = min(4 * config.batch_size, n * (height - 1))
    flat = torch.from_numpy(pick.choice(n * (height - 1), count, replace=False)).to(rows.device)
    slices, targets = flat // (height - 1), flat % (height - 1) + 1
    out = model(windows_before(rows, slices, targets, config.context))
    return model.value_model.nll(out, rows[slices, targets]).mean()


def train(image, *, progress: Callable[[TrainProgress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, **settings) -> GenModel:
    """Train a :class:`GenModel` on an image and return it.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)``, ``(H, W, 3|4)`` or stacks of them; every slice is a training sequence.
    progress : callable, optional
        Called with a :class:`TrainProgress` after every step.
    should_stop : callable, optional
        Polled after every step; returning True ends training early, keeping the model
        trained so far.
    **settings
        Any :class:`TrainConfig` field: ``keep_rows``, ``steps``, ``lr``, ``hidden_size``,
        ``num_layers``, ``cell``, ``mode``, ``context``, ``bidirectional``,
        ``batch_norm``, ``dropout``, ``binarize``, ``rgb``, ``seed``, ``device``,
        ``batch_size``, ``threads``.
    """
    steps = train_steps(image, TrainConfig.from_settings(**settings))
    model = None
    try:
        for update in steps:
            model = update.model
            if progress is not None:
                progress(update)
            if should_stop is not None and should_stop():
                break
        else:
            return model
    finally:
        steps.close()
    return model
