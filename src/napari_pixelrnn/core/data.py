"""Images as sequences of rows: validation, normalization, binarization, and back.

An image of shape ``(*stack, H, W[, C])`` becomes ``(N, H, W*C)`` float32 rows in [0, 1]
(N = product of the stack axes); each row, flattened across its channels, is one time step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import ImageMismatchError, PixelRNNError

MAX_NDIM = 5  # (T, Z, H, W, C) is the largest layout we accept


@dataclass(frozen=True)
class DataSpec:
    """How an image maps to model rows and back; stored with the model."""

    dtype: str  # numpy dtype name of the training image, e.g. "uint8"
    width: int  # W: pixels per row
    channels: int  # C: 1 for grayscale, 3 or 4 for colour
    rgb: bool  # whether the last axis of the image is colour
    low: float  # intensity mapped to 0
    high: float  # intensity mapped to 1
    threshold: float | None  # binarization threshold on the normalized image, None = continuous

    @property
    def input_size(self) -> int:
        return self.width * self.channels

    @property
    def binary(self) -> bool:
        return self.threshold is not None

    def to_dict(self) -> dict:
        return asdict(self)


def guess_rgb(shape: tuple[int, ...]) -> bool:
    """napari's rule: the last axis is colour if it has 3 or 4 entries and the two axes
    before it are longer than 30."""
    return len(shape) > 2 and shape[-1] in (3, 4) and all(d > 30 for d in shape[-3:-1])


def check_image(image, rgb: bool | None = None, model: DataSpec | None = None
                ) -> tuple[np.ndarray, bool]:
    """Validate an image and resolve ``rgb``; returns the array (not copied) and rgb.

    ``model``: the data settings of the model that will read the image; its ``rgb`` is
    used, and a colour model's complaint names the model, not an ``rgb=True`` nobody set.
    """
    if model is not None:
        rgb = model.rgb
    if not isinstance(image, np.ndarray):
        try:
            image = np.asarray(image)
        except Exception as exc:  # noqa: BLE001 (ragged lists and the like)
            raise PixelRNNError(f"Cannot read the image as an array ({exc}).") from None
    kind = image.dtype.kind
    if kind not in "biuf":
        raise PixelRNNError(
            f"Unsupported image dtype {image.dtype}: accepted are bool, integer and real "
            "floating-point images (not complex, object or strings)."
        )
    if rgb is None:
        rgb = guess_rgb(image.shape)
    if rgb and (image.ndim < 3 or image.shape[-1] not in (3, 4)):
        if model is not None:
            raise PixelRNNError(
                f"The model was trained on images {model.width} pixels wide with "
                f"{model.channels} channel(s); this image of shape {image.shape} has no "
                "colour axis. Use an image of the same width and channels, or train a new "
                "model on it."
            )
        raise PixelRNNError(
            f"rgb=True needs a last axis of 3 or 4 colour channels; the image has shape "
            f"{image.shape}."
        )
    spatial = image.ndim - (1 if rgb else 0)
    if spatial < 2 or image.ndim > MAX_NDIM:
        raise PixelRNNError(
            f"Unsupported image shape {image.shape}: accepted are (H, W), (H, W, 3|4) and "
            "stacks of them, (Z, H, W), (T, Z, H, W), (Z, H, W, C), at most 5 axes."
        )
    if image.size == 0:
        raise PixelRNNError(f"The image is empty (shape {image.shape}).")
    _check_height(image.shape[spatial - 2])
    if kind == "f" and not np.isfinite(image).all():
        raise PixelRNNError(
            "The image contains NaN or infinite values; replace them (e.g. np.nan_to_num) "
            "before training or completing."
        )
    return image, bool(rgb)


@dataclass(frozen=True)
class Geometry:
    """Where an image's rows, columns and channels are: ``(*stack, H, W[, C])``."""

    stack: tuple[int, ...]  # the axes before the rows (slices), () for a plain image
    height: int  # H: rows
    width: int  # W: pixels per row
    channels: int  # C: 1 for grayscale

    @property
    def row_axis(self) -> int:
        """The axis of the rows: the number of stack axes."""
        return len(self.stack)


def geometry(shaped, rgb: bool) -> Geometry:
    """The geometry of an array (or anything with a ``shape``, e.g. a napari layer's
    data) whose last axis is colour when ``rgb``: the one place it is derived."""
    shape = tuple(int(n) for n in shaped.shape)
    if rgb:
        *stack, height, width, channels = shape
    else:
        (*stack, height, width), channels = shape, 1
    return Geometry(tuple(stack), height, width, channels)


def image_height(image: np.ndarray, rgb: bool) -> int:
    return geometry(image, rgb).height


def _check_height(height: int) -> None:
    if height < 2:
        raise PixelRNNError(
            f"The image has {height} row(s); at least 2 rows are needed to learn how one "
            "row follows another."
        )


def check_keep_rows(keep_rows, height: int) -> int:
    """``keep_rows`` must be a whole number with 1 <= keep_rows < height."""
    _check_height(height)  # no keep_rows fits a 1-row image: say what is really wrong
    if isinstance(keep_rows, (bool, np.bool_)) or not isinstance(keep_rows, (int, np.integer)):
        raise PixelRNNError(f"keep_rows must be a whole number of rows, got {keep_rows!r}.")
    if not 1 <= keep_rows < height:
        raise PixelRNNError(
            f"keep_rows={keep_rows} is out of range: keep at least 1 row and fewer than the "
            f"image's {height} rows (1 <= keep_rows <= {height - 1})."
        )
    return int(keep_rows)


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold for values in [0, 1]: the cut maximizing between-class variance."""
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    hist = hist.astype(np.float64)
    centers = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(hist)
    weight_high = weight_low[-1] - weight_low
    mean_low = np.cumsum(hist * centers) / np.maximum(weight_low, 1)
    mean_high = (np.sum(hist * centers) - np.cumsum(hist * centers)) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[1:][np.argmax(between)]) if between.max() > 0 else 0.5


def intensity_range(images: list[np.ndarray]) -> tuple[float, float]:
    """Integers map by their dtype's range, floats by their finite min/max (over all)."""
    dtype = images[0].dtype
    if dtype.kind == "b":
        return 0.0, 1.0
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    low, high = min(float(i.min()) for i in images), max(float(i.max()) for i in images)
    return (low, high) if high > low else (low, low + 1.0)


def check_same_kind(images: list[np.ndarray], rgb: bool) -> None:
    """A training set's images must share width, channels and dtype (heights may differ)."""
    def describe(image):
        shape = geometry(image, rgb)
        return shape.width, shape.channels, str(image.dtype)

    first = describe(images[0])
    for number, image in enumerate(images[1:], start=1):
        if describe(image) != first:
            raise ImageMismatchError(number, first, describe(image))


def make_spec(images, rgb: bool, binarize: bool | float) -> DataSpec:
    """Derive the normalization and binarization settings from (validated) images of one
    width, channels and dtype: one array or a list of them."""
    images = images if isinstance(images, list) else [images]
    image = images[0]
    low, high = intensity_range(images)
    binarizing = binarize is not False and binarize is not None
    if binarizing and image.dtype.kind in "iu":
        # a binarized completion comes back in the input's own two values (a 0/1 mask
        # stays 0/1, not 0/255): its darkest and brightest, not the dtype's range
        darkest, brightest = (min(float(i.min()) for i in images),
                              max(float(i.max()) for i in images))
        # a constant image has one value: it binarizes to 0 and comes back as itself
        low, high = (darkest, brightest) if brightest > darkest else (darkest, darkest + 1)
    shape = geometry(image, rgb)
    width, channels = shape.width, shape.channels
    threshold = None
    if binarize is True:
        threshold = otsu_threshold(np.concatenate([_normalize(i, low, high).ravel()
                                                   for i in images]))
    elif binarize is not False and binarize is not None:
        if isinstance(binarize, (bool, np.bool_)) or not isinstance(binarize, (int, float)):
            raise PixelRNNError(f"binarize must be True, False or a threshold in (0, 1), got {binarize!r}.")
        if not 0.0 < float(binarize) < 1.0:
            raise PixelRNNError(
                f"binarize={binarize} is not a threshold in (0, 1) on the normalized image."
            )
        threshold = float(binarize)
    return DataSpec(str(image.dtype), int(width), int(channels), rgb, low, high, threshold)


def _normalize(image: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip((image.astype(np.float64) - low) / (high - low), 0.0, 1.0)


def to_rows(image: np.ndarray, spec: DataSpec, any_width: bool = False, *,
            binarize: bool = True) -> np.ndarray:
    """``(*stack, H, W[, C])`` image -> ``(N, H, W*C)`` float32 rows in [0, 1].

    ``any_width``: for a model that reads rows of any width (the Row LSTM); the channels
    must still match. ``binarize=False``: a binary model's rows before its threshold,
    the original intensities (to score a completion against the original image)."""
    shape = check_fit(image, spec, any_width)
    values = _normalize(image, spec.low, spec.high)
    if spec.binary and binarize:
        values = values > spec.threshold
    return values.reshape(-1, shape.height, shape.width * shape.channels).astype(np.float32)


def check_fit(image: np.ndarray, spec: DataSpec, any_width: bool = False) -> Geometry:
    """Refuse an image a model of ``spec`` cannot read (its width, or channels when
    ``any_width``); its geometry otherwise."""
    rgb = spec.rgb
    shape = geometry(image, rgb)
    width, channels = shape.width, shape.channels
    if any_width and not rgb and guess_rgb(image.shape):
        raise PixelRNNError(
            f"The model was trained on grayscale images; this image of shape {image.shape} "
            "looks like colour (its last axis). Use a grayscale image, or train a new model "
            "on it.")
    if any_width and channels != spec.channels:
        raise PixelRNNError(
            f"The model was trained on images with {spec.channels} channel(s); this image "
            f"has {channels} (shape {image.shape}). Use an image with the same channels, or "
            "train a new model on it.")
    if not any_width and (width != spec.width or channels != spec.channels):
        described = f"shape {image.shape}"
        if not rgb and guess_rgb(image.shape):  # else "3 wide" would puzzle a colour user
            described += ": its last axis looks like colour, but this model is grayscale"
        raise PixelRNNError(
            f"The model was trained on images {spec.width} pixels wide with {spec.channels} "
            f"channel(s); this image is {width} wide with {channels} ({described}). Use an "
            "image of the same width and channels, or train a new model on it."
        )
    return shape


def from_rows(rows: np.ndarray, spec: DataSpec, shape: tuple[int, ...], dtype) -> np.ndarray:
    """Model rows in [0, 1] -> an image of ``shape`` and ``dtype`` in the spec's range."""
    dtype = np.dtype(dtype)
    values = rows.reshape(shape).astype(np.float64)
    if dtype.kind == "b":
        return values > 0.5
    # within [low, high] exactly: low + 1 * (high - low) can round past high in floats
    values = np.clip(spec.low + values * (spec.high - spec.low), spec.low, spec.high)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.round(values), info.min, info.max)
    return values.astype(dtype)


def row_axis(image: np.ndarray, rgb: bool) -> int:
    return geometry(image, rgb).row_axis


def top_rows(image: np.ndarray, count: int, rgb: bool) -> np.ndarray:
    """The first ``count`` rows of every slice (a view, not a copy)."""
    index = [slice(None)] * image.ndim
    index[row_axis(image, rgb)] = slice(0, count)
    return image[tuple(index)]
