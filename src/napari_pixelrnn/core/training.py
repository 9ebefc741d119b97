"""Training: teacher forcing on the rows a user allows, as a generator of progress.

The generator form lets a script iterate it, the napari widget run it in a worker
(stopping between steps), and :func:`train` wrap it with callbacks. The settings live
in :mod:`.config`, the dense family's training set and losses in :mod:`.dense`, the Row
LSTM's loop in :mod:`.row_lstm.training`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch

from .config import (  # noqa: F401 (their historical home: importable from here too)
    ARCHITECTURE_DEFAULTS,
    ARCHITECTURES,
    ONLY_FOR,
    TrainConfig,
    owner,
)
from .data import make_spec
from .dense.losses import sequence_loss, window_loss
from .dense.model import GenModel
from .dense.training_set import by_height, check_memory, check_shares, group_shape, sequences
from .device import resolve_device, torch_threads
from .distributed import all_sum, data_parallel, join, local_device
from .errors import PixelRNNError
from .generators import run_to_end
from .provenance import finish, provenance
from .row_lstm.training import row_lstm_steps


@dataclass(frozen=True)
class TrainProgress:
    """One finished optimizer step."""

    step: int
    steps: int
    loss: float  # teacher-forced loss of this step's batch, nats per value (own alphabet)
    model: GenModel  # the model being trained (the same object every step)
    # row-lstm: bits per value on the held-out validation rows, on the steps that measured
    # it (None on the others, and without validation); the best weights are kept
    validation_bits_per_dim: float | None = None
    best_step: int | None = None  # the step whose weights are kept (best validation so far)
    # and their validation bits per value: the only score of step 0, a pretrained start
    best_bits_per_dim: float | None = None

    @property
    def loss_bits_per_dim(self) -> float:
        return self.loss / math.log(2)


def train_steps(images, config: TrainConfig | None = None
                ) -> Generator[TrainProgress, None, GenModel]:
    """Train a new :class:`GenModel` on an image (or a list of images of one width,
    channels and dtype), yielding after every step.

    Returns the model (``StopIteration.value``); closing the generator early leaves the
    model from the last yielded progress trained so far and ready to use. Under
    ``torchrun`` every process runs this with the same arguments and trains its share.
    """
    config = (config or TrainConfig()).resolved()
    images, rgb = config.check(images)
    spec = make_spec(images, rgb, config.binarize)
    if config.architecture == "row-lstm":
        return (yield from row_lstm_steps(images, spec, config, TrainProgress))
    torch.manual_seed(config.seed)  # same seed, same initial weights
    model = GenModel.from_config(config.model_config(spec.input_size, spec.channels))
    model.data = spec
    model.provenance = provenance(config)
    groups = by_height(images, rgb)
    check_memory([group_shape(model, group, rgb) for group in groups], model, config)
    groups = [sequences(model, group) for group in groups]
    if hasattr(model, "marginal"):  # every process has every image: the same marginal
        model.fit_marginal(torch.cat([rows.flatten(0, 1) for rows in groups]))
    device = local_device(resolve_device(config.device))
    group = join(device)
    check_shares(groups, config, group)
    pick = np.random.default_rng(config.seed)
    model.to(device)
    groups = [rows.to(device) for rows in groups]
    forward = model
    if group is not None:  # gradients are averaged over processes in backward
        forward = data_parallel(model)
    # AdamW: Adam with decoupled weight decay (none by default: exactly Adam)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / config.steps))
    )
    model.train()
    try:
        with torch_threads(config.threads):
            for progress in _optimize(model, forward, groups, pick, config, optimizer,
                                      schedule, group):
                finish(model.provenance, progress.step)
                yield progress
    finally:
        model.eval()  # stopped or finished, the model is ready to generate
    return model


def _optimize(model, forward, groups, pick, config, optimizer, schedule, group):
    weights = np.array([rows.shape[0] for rows in groups], dtype=np.float64)
    for step in range(1, config.steps + 1):
        # one height per step, as often as its share of the sequences (no draw when alone)
        index = 0 if len(groups) == 1 else int(pick.choice(len(groups),
                                                           p=weights / weights.sum()))
        try:
            loss = _step(model, forward, groups[index], pick, config, optimizer, group)
        except torch.OutOfMemoryError:
            if not _on_accelerator(groups[0]) or group is not None:
                raise PixelRNNError(
                    f"Out of memory at training step {step} although the estimate fit; "
                    "train on a crop, fewer slices per step (batch_size) or a smaller "
                    "hidden size. The model trained so far is kept.") from None
            groups = _fall_back_to_cpu(model, optimizer, groups, step)
            loss = _step(model, forward, groups[index], pick, config, optimizer, group)
        schedule.step()
        yield TrainProgress(step, config.steps, loss, model)


def _step(model, forward, rows, pick, config, optimizer, group) -> float:
    loss_of = sequence_loss if config.mode == "many-to-many" else window_loss
    optimizer.zero_grad(set_to_none=True)
    loss = loss_of(model, forward, rows, pick, config, group)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    loss = loss.detach()
    if group is not None:  # each process holds its weighted share of the batch mean
        loss = all_sum(loss.clone()) / group.size
    return float(loss)


def _on_accelerator(rows: torch.Tensor) -> bool:
    return rows.device.type != "cpu"


def _fall_back_to_cpu(model, optimizer, groups, step: int) -> list[torch.Tensor]:
    """The GPU ran out of memory: carry on from the same step on the CPU, and say so."""
    device = groups[0].device
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
    return [rows.cpu() for rows in groups]


def train(images, *, progress: Callable[[TrainProgress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, **settings) -> GenModel:
    """Train a :class:`GenModel` on an image and return it.

    Parameters
    ----------
    images : numpy.ndarray or list of them
        ``(H, W)``, ``(H, W, 3|4)`` or stacks of them; every slice is a training sequence.
        A list trains on all of them (one width, channels and dtype; heights may differ).
    progress : callable, optional
        Called with a :class:`TrainProgress` after every step.
    should_stop : callable, optional
        Polled after every step; returning True ends training early, keeping the model
        trained so far.
    **settings
        Any :class:`TrainConfig` field: ``keep_rows``, ``steps``, ``lr``, ``hidden_size``,
        ``num_layers``, ``cell``, ``mode``, ``context``, ``bidirectional``,
        ``batch_norm``, ``dropout``, ``binarize``, ``values``, ``levels``, ``within_row``,
        ``granularity``, ``rgb``, ``seed``, ``device``, ``batch_size``, ``threads``.
    """
    last: list[TrainProgress] = []

    def each(update: TrainProgress) -> None:
        last[:] = [update]
        if progress is not None:
            progress(update)

    model = run_to_end(train_steps(images, TrainConfig.from_settings(**settings)), each,
                       should_stop)
    return model if model is not None else (last[0].model if last else None)
