"""Training: teacher forcing on the rows a user allows, as a generator of progress.

The generator form lets a script iterate it, the napari widget run it in a
``thread_worker`` (stopping at the next ``yield``), and ``train`` wrap it with callbacks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from .data import (check_image, check_keep_rows, check_same_kind, image_height, make_spec,
                   to_rows, top_rows)
from .device import resolve_device, torch_threads
from .distributed import all_sum, data_parallel, join, local_device
from .errors import PixelRNNError
from .memory import MAX_DECODED, check_fits, training_bytes
from .model import MAX_PIXEL_STEPS, GenModel
from .row_lstm_training import row_lstm_steps
from .windows import windows_before


ARCHITECTURES = ("row-lstm", "dense")

# Settings whose default depends on the architecture (None in TrainConfig means these).
ARCHITECTURE_DEFAULTS = {
    # The lab note's model: enough units to memorize a 256-row binary image.
    "dense": {"hidden_size": 256, "steps": 300, "lr": 3e-3},
    # The paper's Row LSTM, sized by measurement on the bundled images (docs/benchmarks.md):
    # per-pixel features, trained on crops until the validation rows stop improving.
    "row-lstm": {"hidden_size": 32, "steps": 800, "lr": 3e-3},
}


@dataclass
class TrainConfig:
    """Everything a training run needs besides the image (the widget and CLI fill it)."""

    keep_rows: int | None = None  # learn from rows 0..keep_rows-1 only; None = all rows
    # "row-lstm": the PixelRNN paper's Row LSTM, one small set of weights shared by every
    # column (completes unseen rows); "dense": the lab note's model, one weight per column
    # (reproduces the rows it was trained on: the reconstruction experiment)
    architecture: str = "row-lstm"
    steps: int | None = None  # optimizer steps; None = the architecture's default
    lr: float | None = None  # Adam learning rate, cosine-decayed to a tenth; None = default
    hidden_size: int | None = None  # dense: RNN units; row-lstm: features per pixel
    num_layers: int = 1  # stacked RNN layers
    cell: str = "lstm"  # dense: "lstm", "gru" or "rnn"; torch's CPU LSTM is 3x faster than GRU
    mode: str = "many-to-many"  # dense: or "many-to-one" (a window of previous rows)
    context: int = 16  # dense, many-to-one: window length in rows
    bidirectional: bool = False  # dense, many-to-one only; see GenModel
    batch_norm: bool = True  # dense: causal batch norm after the encoder
    dropout: float = 0.0  # dense: between stacked RNN layers; row-lstm: on the row state
    binarize: bool | float = False  # True = Otsu threshold, a float = fixed threshold
    # "binary", "continuous", "levels" or "mixture"; None = binary if binarized, else
    # continuous (dense) or mixture (row-lstm)
    values: str | None = None
    levels: int = 256  # values="levels": K intensities in the softmax (2..256)
    components: int = 5  # values="mixture": K discretized logistics per value
    within_row: str = "independent"  # dense: or "autoregressive" (row-lstm always is)
    granularity: str = "row"  # dense: or "pixel", one pixel per step (small grayscale images)
    kernel: int = 5  # row-lstm: input-to-state kernel along the row (odd); 5 drew brick
    # textures with truer row-to-row variation than 3 (docs/benchmarks.md)
    crop: int = 32  # row-lstm: each sequence is a random crop x crop patch of the kept rows
    # row-lstm: also train on mirrored crops, as for most photographs and textures; turn
    # it off for images that are not mirror-symmetric (text, oriented structures)
    flip: bool = True
    # row-lstm: share of each image's kept rows (its last ones) held out to validate on,
    # for early stopping and the best weights; 0 = no validation
    validation: float = 0.1
    patience: int = 5  # validations without improvement before training stops early
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    rgb: bool | None = None  # last axis is colour; None = guess like napari
    seed: int = 0  # same seed, same result on the CPU
    device: str = "auto"  # "auto", "cpu", "cuda" or "mps"
    batch_size: int = 16  # slices or crops per step; many-to-one takes 4x as many windows
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

    def resolved(self) -> "TrainConfig":
        """A copy with the architecture's defaults in place of None."""
        if self.architecture not in ARCHITECTURES:
            raise PixelRNNError(f"Unknown architecture {self.architecture!r}: accepted are "
                                f"{', '.join(ARCHITECTURES)}.")
        defaults = ARCHITECTURE_DEFAULTS[self.architecture]
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})


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

    @property
    def loss_bits_per_dim(self) -> float:
        return self.loss / math.log(2)


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
    decay = config.weight_decay
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 10:
        raise PixelRNNError(f"weight_decay must be a number from 0 to 10, got {decay!r}.")


# TrainConfig fields that only one architecture has (every other field applies to both).
# Giving one a value other than its default with the other architecture is an error.
ONLY_FOR = {
    "dense": ("cell", "mode", "context", "bidirectional", "batch_norm", "within_row",
              "granularity"),
    "row-lstm": ("kernel", "crop", "flip", "validation", "patience"),
}


def _check_owned_settings(config: TrainConfig) -> None:
    defaults = TrainConfig()
    for architecture, names in ONLY_FOR.items():
        if architecture == config.architecture:
            continue
        changed = [f"{name}={getattr(config, name)!r}" for name in names
                   if getattr(config, name) != getattr(defaults, name)]
        if changed:
            raise PixelRNNError(
                f"{', '.join(changed)}: setting(s) of the {architecture} architecture, which "
                f"the {config.architecture} model does not have. Use "
                f"architecture={architecture!r}, or leave them at their defaults.")


def _check_row_lstm_settings(config: TrainConfig) -> None:
    crop, share = config.crop, config.validation
    if isinstance(crop, bool) or not isinstance(crop, (int, np.integer)) or not 2 <= crop <= 4096:
        raise PixelRNNError(f"crop must be a whole number of pixels from 2 to 4096, got {crop!r}.")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 0.5:
        raise PixelRNNError(f"validation must be a share of the rows from 0 to 0.5, got {share!r}.")
    patience = config.patience
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
        raise PixelRNNError(f"patience must be a whole number >= 0 (0: never stop early), got "
                            f"{patience!r}.")


def _value_kind(config: TrainConfig) -> tuple[str, bool | float]:
    """The value model and the binarization it implies."""
    values, binarize = config.values, config.binarize
    if values is None:
        intensities = "mixture" if config.architecture == "row-lstm" else "continuous"
        values = "binary" if binarize is not False and binarize is not None else intensities
    elif values == "binary" and (binarize is False or binarize is None):
        binarize = True  # a Bernoulli model learns binarized images: Otsu's threshold
    elif values != "binary" and binarize is not False and binarize is not None:
        raise PixelRNNError(
            f"binarize={binarize!r} makes the image binary, but values={values!r} models "
            "intensities: use values='binary', or binarize=False.")
    return values, binarize


def _check_images(images, config: TrainConfig) -> tuple[list[np.ndarray], bool]:
    """One image or a list of them -> validated arrays (top rows only) and rgb."""
    if isinstance(images, (list, tuple)) and not len(images):
        raise PixelRNNError("The list of training images is empty.")
    # a list of arrays is a training set; nested lists of numbers are one image
    many = isinstance(images, (list, tuple)) and all(isinstance(i, np.ndarray) for i in images)
    checked = [check_image(image, config.rgb) for image in (images if many else [images])]
    rgb = checked[0][1]
    if any(r != rgb for _, r in checked):
        raise PixelRNNError("Training images must all be colour or all grayscale; pass rgb= "
                            "to say which.")
    images = [image for image, _ in checked]
    check_same_kind(images, rgb)
    if config.keep_rows is not None:
        kept = []
        for image in images:
            keep = check_keep_rows(config.keep_rows, image_height(image, rgb))
            if keep < 2:
                raise PixelRNNError("Training needs at least 2 rows to keep (keep_rows >= 2).")
            kept.append(top_rows(image, keep, rgb))  # the masked rows are never seen
        images = kept
    if config.granularity == "pixel":
        for image in images:
            channels = image.shape[-1] if rgb else 1
            steps = image_height(image, rgb) * (image.shape[-2] if rgb else image.shape[-1])
            if channels != 1:
                raise PixelRNNError(
                    f"granularity='pixel' is for grayscale images; this one has {channels} "
                    "channels. Use granularity='row'.")
            if steps > MAX_PIXEL_STEPS:
                raise PixelRNNError(
                    f"granularity='pixel' reads one pixel per RNN step: {steps} steps per "
                    f"image is above the limit of {MAX_PIXEL_STEPS} (128 x 128), where "
                    "training gets very slow. Use a crop, or granularity='row'.")
    return images, rgb


def train_steps(images, config: TrainConfig | None = None
                ) -> Generator[TrainProgress, None, GenModel]:
    """Train a new :class:`GenModel` on an image (or a list of images of one width,
    channels and dtype), yielding after every step.

    Returns the model (``StopIteration.value``); closing the generator early leaves the
    model from the last yielded progress trained so far and ready to use. Under
    ``torchrun`` every process runs this with the same arguments and trains its share.
    """
    config = (config or TrainConfig()).resolved()
    _check_numbers(config)
    values, binarize = _value_kind(config)
    _check_owned_settings(config)
    if config.architecture == "row-lstm":
        _check_row_lstm_settings(config)
    images, rgb = _check_images(images, config)
    spec = make_spec(images, rgb, binarize)
    if config.architecture == "row-lstm":
        return (yield from row_lstm_steps(images, spec, replace(config, values=values),
                                          TrainProgress))
    torch.manual_seed(config.seed)  # same seed, same initial weights
    model = GenModel(1 if config.granularity == "pixel" else spec.input_size,
                     config.hidden_size, config.num_layers, config.bidirectional, config.cell,
                     config.mode, config.context, config.batch_norm, config.dropout,
                     values=values, levels=config.levels, within_row=config.within_row,
                     granularity=config.granularity, components=config.components)
    model.data = spec
    by_height = _by_height(images, rgb)
    _check_memory([_shape(model, group, rgb) for group in by_height], model, config)
    groups = [_sequences(model, group) for group in by_height]
    device = local_device(resolve_device(config.device))
    group = join(device)
    _check_shares(groups, config, group)
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
            yield from _optimize(model, forward, groups, pick, config, optimizer, schedule,
                                 group)
    finally:
        model.eval()  # stopped or finished, the model is ready to generate
    return model


def _by_height(images: list[np.ndarray], rgb: bool) -> list[list[np.ndarray]]:
    """The images grouped by height: a batch never mixes lengths, so nothing is padded."""
    groups: dict[int, list[np.ndarray]] = {}
    for image in images:
        groups.setdefault(image_height(image, rgb), []).append(image)
    return list(groups.values())


def _shape(model, group: list[np.ndarray], rgb: bool) -> tuple[int, int]:
    """(sequences, steps) of one height group, before anything is allocated."""
    height = image_height(group[0], rgb)
    return (sum(image.size for image in group) // (height * model.data.input_size),
            height * model.steps_per_row())


def _sequences(model, group: list[np.ndarray]) -> torch.Tensor:
    """One height group as training sequences ``(N, steps, input_size)``."""
    return torch.cat([model.to_steps(torch.from_numpy(to_rows(image, model.data)))
                      for image in group])


def _check_shares(groups, config, group) -> None:
    if group is None:
        return
    smallest = min(min(rows.shape[0], config.batch_size) if config.mode == "many-to-many"
                   else min(4 * config.batch_size, rows.shape[0] * (rows.shape[1] - 1))
                   for rows in groups)
    if smallest < group.size:
        raise PixelRNNError(
            f"{group.size} processes split every batch, but a batch here has only "
            f"{smallest} sequence(s): train on more slices or images, a larger batch_size, "
            "or fewer processes.")


def _optimize(model, forward, groups, pick, config, optimizer, schedule, group):
    weights = np.array([rows.shape[0] for rows in groups], dtype=np.float64)
    for step in range(1, config.steps + 1):
        # one height per step, as often as its share of the sequences (no draw when alone)
        index = 0 if len(groups) == 1 else int(pick.choice(len(groups), p=weights / weights.sum()))
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
    loss_of = _sequence_loss if config.mode == "many-to-many" else _window_loss
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


def _output_width(model) -> int:
    """Numbers the decoder and row head produce per value."""
    return max(model.features, model.value_model.params)


def _check_memory(shapes, model, config) -> None:
    c = model.config
    step_bytes, rows = 0, 0
    for slices, steps in shapes:
        if c.mode == "many-to-many":
            per_step, length = min(slices, config.batch_size), steps
            outputs = per_step * steps * c.input_size * _output_width(model)
            decoded = min(1.0, MAX_DECODED / outputs)  # share of positions decoded a step
        else:
            per_step, length, decoded = 4 * config.batch_size, c.context, 1.0
        step_bytes = max(step_bytes, training_bytes(
            per_step, length, c.input_size, _output_width(model) * decoded, c.hidden_size,
            c.num_layers, 2 if c.bidirectional else 1))
        rows += slices * steps * c.input_size
    needed = int(step_bytes) + rows * 12  # the float64 normalization pass, float32 rows
    total = sum(slices for slices, _ in shapes)
    check_fits(needed, f"Training on {total} slice(s) of {model.data.input_size} values per row",
               "Train on a crop or fewer rows, fewer slices per step (batch_size) or a smaller "
               "hidden size.")


def _my_share(count: int, group) -> tuple[slice, float]:
    """This process's items of a batch of ``count`` and the weight that makes the
    processes' average the batch mean."""
    if group is None:
        return slice(None), 1.0
    share = group.share(count)
    return share, len(range(count)[share]) * group.size / count


def _sequence_loss(model, forward, rows, pick, config, group):
    """Many-to-many: whole slices from row 0, as generation reads them; position t
    predicts row t + 1 from rows 0..t. When the output would be large (a K-way softmax,
    a left-to-right row), only a random subset of positions is decoded and scored."""
    if rows.shape[0] > config.batch_size:
        rows = rows[torch.from_numpy(pick.choice(rows.shape[0], config.batch_size, replace=False))]
    batch, positions = rows.shape[0], rows.shape[1] - 1
    per_position = batch * model.config.input_size * _output_width(model)
    chosen = None
    if per_position * positions > MAX_DECODED:
        count = max(1, MAX_DECODED // per_position)
        chosen = torch.from_numpy(np.sort(pick.choice(positions, count, replace=False)))
        chosen = chosen.to(rows.device)
    share, weight = _my_share(batch, group)
    mine = rows[share]
    targets = mine[:, 1:] if chosen is None else mine[:, 1:][:, chosen]
    out = forward(mine[:, :-1], next_rows=targets if model.autoregressive else None,
                  positions=chosen)
    return model.value_model.nll(out, targets).mean() * weight


def _window_loss(model, forward, rows, pick, config, group):
    """Many-to-one: random (slice, target row) pairs, each with its window above."""
    n, height, _ = rows.shape
    count = min(4 * config.batch_size, n * (height - 1))
    flat = torch.from_numpy(pick.choice(n * (height - 1), count, replace=False)).to(rows.device)
    share, weight = _my_share(count, group)
    flat = flat[share]
    slices, targets = flat // (height - 1), flat % (height - 1) + 1
    truth = rows[slices, targets]
    out = forward(windows_before(rows, slices, targets, model.config.context),
                  next_rows=truth if model.autoregressive else None)
    return model.value_model.nll(out, truth).mean() * weight


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
    steps = train_steps(images, TrainConfig.from_settings(**settings))
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
