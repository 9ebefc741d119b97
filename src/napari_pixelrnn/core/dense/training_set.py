"""The dense family's training set: checked images, grouped by height, as sequences,
and the checks made before anything is allocated (memory, processes' shares)."""

from __future__ import annotations

import numpy as np
import torch

from ..data import check_image, check_keep_rows, check_same_kind, geometry, to_rows, top_rows
from ..errors import PixelRNNError
from ..memory import MAX_DECODED, check_fits, training_bytes
from .model import MAX_PIXEL_STEPS


def check_images(images, config) -> tuple[list[np.ndarray], bool]:
    """One image or a list of them -> validated arrays (top rows only) and rgb, for a
    resolved :class:`~napari_pixelrnn.core.TrainConfig` (``TrainConfig.check``)."""
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
            keep = check_keep_rows(config.keep_rows, geometry(image, rgb).height)
            if keep < 2:
                raise PixelRNNError("Training needs at least 2 rows to keep (keep_rows >= 2).")
            kept.append(top_rows(image, keep, rgb))  # the masked rows are never seen
        images = kept
    if config.granularity == "pixel":
        for image in images:
            shape = geometry(image, rgb)
            steps = shape.height * shape.width
            if shape.channels != 1:
                raise PixelRNNError(
                    f"granularity='pixel' is for grayscale images; this one has "
                    f"{shape.channels} channels. Use granularity='row'.")
            if steps > MAX_PIXEL_STEPS:
                raise PixelRNNError(
                    f"granularity='pixel' reads one pixel per RNN step: {steps} steps per "
                    f"image is above the limit of {MAX_PIXEL_STEPS} (128 x 128), where "
                    "training gets very slow. Use a crop, or granularity='row'.")
    return images, rgb


def by_height(images: list[np.ndarray], rgb: bool) -> list[list[np.ndarray]]:
    """The images grouped by height: a batch never mixes lengths, so nothing is padded."""
    groups: dict[int, list[np.ndarray]] = {}
    for image in images:
        groups.setdefault(geometry(image, rgb).height, []).append(image)
    return list(groups.values())


def group_shape(model, group: list[np.ndarray], rgb: bool) -> tuple[int, int]:
    """(sequences, steps) of one height group, before anything is allocated."""
    height = geometry(group[0], rgb).height
    return (sum(image.size for image in group) // (height * model.data.input_size),
            height * model.steps_per_row())


def sequences(model, group: list[np.ndarray]) -> torch.Tensor:
    """One height group as training sequences ``(N, steps, input_size)``."""
    return torch.cat([model.to_steps(torch.from_numpy(to_rows(image, model.data)))
                      for image in group])


def output_width(model) -> int:
    """Numbers the decoder and row head produce per value."""
    return max(model.features, model.value_model.params)


def check_memory(shapes, model, config) -> None:
    """Refuse, with the estimate, a training run that would not fit in memory."""
    c = model.config
    step_bytes, rows = 0, 0
    for slices, steps in shapes:
        if c.mode == "many-to-many":
            per_step, length = min(slices, config.batch_size), steps
            outputs = per_step * steps * c.input_size * output_width(model)
            decoded = min(1.0, MAX_DECODED / outputs)  # share of positions decoded a step
        else:
            per_step, length, decoded = 4 * config.batch_size, c.context, 1.0
        step_bytes = max(step_bytes, training_bytes(
            per_step, length, c.input_size, output_width(model) * decoded, c.hidden_size,
            c.num_layers, 2 if c.bidirectional else 1))
        rows += slices * steps * c.input_size
    needed = int(step_bytes) + rows * 12  # the float64 normalization pass, float32 rows
    total = sum(slices for slices, _ in shapes)
    check_fits(needed, f"Training on {total} slice(s) of {model.data.input_size} values per row",
               "Train on a crop or fewer rows, fewer slices per step (batch_size) or a smaller "
               "hidden size.")


def check_shares(groups, config, group) -> None:
    """Under torchrun, every process needs at least one sequence of every batch."""
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
