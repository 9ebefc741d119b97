"""Training a Row LSTM: random crops of the kept rows, validated on held-out rows, with
early stopping and the best weights restored.

``train_steps`` (in :mod:`.training`) validates the images and the settings and hands
the Row LSTM here; this loop yields one :class:`.training.TrainProgress` per step.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from ..data import DataSpec
from ..device import resolve_device, torch_threads
from ..distributed import launched
from ..errors import PixelRNNError
from ..memory import FLOAT, check_fits
from ..provenance import finish, provenance
from ..row_net import FEATURES
from .calibration import calibrate_drift
from .crops import CropSet
from .draw_check import check_draws
from .model import RowLSTM
from .pretrained import load_weights

VALIDATE_EVERY = 50  # steps between validations: often enough to stop near the best
WARM_UP = 50  # steps of linearly rising learning rate


def build(config, spec: DataSpec) -> RowLSTM:
    """A new Row LSTM for a resolved :class:`.training.TrainConfig`."""
    torch.manual_seed(config.seed)  # same seed, same initial weights
    model = RowLSTM(config.model_config(spec.input_size, spec.channels))
    if config.pretrained:
        model.load_state_dict(load_weights(spec.channels))
    model.data = spec
    model.provenance = provenance(config)
    return model


def row_lstm_steps(images: list[np.ndarray], spec: DataSpec, config, progress_type):
    """The training generator; returns the model with the best validation weights."""
    if launched():
        raise PixelRNNError("Data-parallel training under torchrun is implemented for "
                            "architecture='dense' only; run the Row LSTM in one process.")
    model = build(config, spec)
    device = resolve_device(config.device)
    crops = CropSet(images, spec, crop=config.crop, validation=config.validation,
                    flip=config.flip, rotate=config.rotate, device=device)
    _check_memory(crops, model, config)
    model.to(device)
    pick = np.random.default_rng(config.seed)
    # beta2 0.99 and a short warm-up: with Adam's default 0.999, a rare large gradient
    # after many small ones made loss spikes (measured)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.99),
                                  weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / WARM_UP) * (
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / config.steps))))
    best = _Best(config.patience)
    if config.pretrained and crops.validates:  # where fine-tuning never helps: the start
        best.update(0, _validate(model, crops), model)
    model.train()
    kept = False  # whether the model is one to keep: trained to the end, or stopped
    step = 0
    try:
        with torch_threads(config.threads):
            for step in range(1, config.steps + 1):
                loss = _step(model, crops.batch(config.batch_size, pick), optimizer,
                             config.input_noise, config.own_rows)
                schedule.step()
                validation = None
                if crops.validates and (step % VALIDATE_EVERY == 0 or step == config.steps):
                    validation = _validate(model, crops)
                    best.update(step, validation, model)
                yield progress_type(step, config.steps, loss, model, validation, best.step,
                                    best.bits if best.step is not None else None)
                if best.exhausted:
                    break
        kept = True
    except GeneratorExit:  # closed by the caller (a stop): the model so far is kept
        kept = True
        raise
    finally:
        best.restore(model)  # finished, stopped early or closed: the best weights
        finish(model.provenance, step, best.step, best.bits)
        model.eval()
        if kept:
            with torch_threads(config.threads):
                if config.calibrate:
                    calibrate_drift(model, crops, config.seed)
                # how its draws vary, as it will draw them (calibrated or not)
                model.draw_check = check_draws(model, crops, config.seed)
    return model


def _step(model: RowLSTM, rows: torch.Tensor, optimizer, input_noise: float,
          own_rows: float) -> float:
    optimizer.zero_grad(set_to_none=True)
    targets, above = rows[:, 1:], rows[:, :-1]
    if own_rows:  # only the rows read: each predicted row and its left values stay true
        above = _with_own_draws(model, above, targets, own_rows)
    if input_noise:
        above = (above + input_noise * torch.randn_like(above)).clamp(0, 1)
    loss = model.value_model.nll(model(above, targets), targets).mean()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return float(loss.detach())


def _with_own_draws(model: RowLSTM, above: torch.Tensor, targets: torch.Tensor,
                    share: float) -> torch.Tensor:
    """``above`` with a random ``share`` of its rows (never the first, which nothing
    predicts) replaced by the model's draws of them, each drawn from the true rows above
    it and its true left values: the errors drawing makes, one row deep, in one batched
    pass (parallel scheduled sampling; no gradient flows through the draws)."""
    values = model.value_model
    with torch.no_grad():
        drawn = values.draw(model(above, targets), values.noise(targets.shape, 1.0, None, targets))
    # drawn[:, t] is a draw of targets[:, t] = above[:, t + 1]
    swap = torch.rand(above.shape[0], above.shape[1] - 1, 1, device=above.device) < share
    return torch.cat([above[:, :1], torch.where(swap, drawn[:, :-1], above[:, 1:])], 1)


def _validate(model: RowLSTM, crops: CropSet) -> float:
    model.eval()
    try:
        with torch.no_grad():
            return crops.validation_nats(model) / math.log(2)
    finally:
        model.train()


class _Best:
    """The best validation so far, its weights, and the patience left."""

    def __init__(self, patience: int):
        self.patience, self.misses = patience, 0
        self.bits, self.step, self.state = math.inf, None, None

    def update(self, step: int, bits: float, model: RowLSTM) -> None:
        if bits < self.bits:
            self.bits, self.step, self.misses = bits, step, 0
            self.state = copy.deepcopy(model.state_dict())
        else:
            self.misses += 1

    @property
    def exhausted(self) -> bool:
        return self.patience > 0 and self.misses >= self.patience

    def restore(self, model: RowLSTM) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def _check_memory(crops: CropSet, model: RowLSTM, config) -> None:
    """A training step holds, per value of the batch, the row features, the row
    network's activations and the value parameters with their gradients (about a dozen
    copies each); validation holds the same for one slice's scored rows."""
    c = model.config
    per_value = 12 * (FEATURES * 5 + model.value_model.params) + 16 * c.hidden_size * c.num_layers
    batch = config.batch_size * crops.crop_height * crops.crop_width * c.channels
    largest = max(s.numel() for s in crops.slices)
    needed = FLOAT * per_value * (batch + largest // 2) + FLOAT * 2 * sum(
        s.numel() for s in crops.slices)
    check_fits(needed, f"Training a Row LSTM on {len(crops.slices)} slice(s)",
               "Use a smaller crop, batch_size or hidden size, or train on a smaller image.")
