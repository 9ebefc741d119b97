"""Beyond the lab note: value models, left-to-right rows, and the pixel-by-pixel mode.

Every variant trains on the top half of an image, or on other images of the same kind,
and completes the bottom half of the image (honest: the scored rows are never seen). Likelihoods are on the 8-bit scale so value
models can be compared (binary and K-level models spread each level's probability evenly
over the 8-bit intensities it holds); PSNR compares the completion with the original
8-bit image, so a binary model pays for its binarization there too.
"""

from __future__ import annotations

import time

import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from napari_pixelrnn.core import complete, evaluate, load_sample, train

from .common import table
from .quality import periodic_texture

VARIANTS = [  # (label, settings)
    ("binary", {"values": "binary"}),
    ("continuous", {"values": "continuous"}),
    ("levels K=16", {"values": "levels", "levels": 16}),
    ("levels K=256", {"values": "levels", "levels": 256}),
]


def random_stripes(count: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """Binary stripes of random period, phase and direction: a family a model can learn
    from several examples and then meet a new member of."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[:size, :size]
    images = []
    for _ in range(count):
        period, phase, slope = rng.integers(6, 13), rng.integers(0, 12), rng.choice([-1, 1, 2])
        images.append(((((r + slope * c + phase) // (period // 2)) % 2) * 255).astype(np.uint8))
    return np.stack(images)


def _cases(quick: bool):
    """(name, training images or None = the image's kept rows, image to complete)."""
    if quick:
        yield "camera, every 4th pixel (gray)", None, load_sample("camera")[::4, ::4]
        return
    yield "horse, every 2nd pixel (binary)", None, load_sample("horse")[::2, ::2]
    yield "camera (gray)", None, load_sample("camera")
    yield "periodic texture (synthetic)", None, periodic_texture()
    brick = load_sample("brick_stack")
    yield "brick stack: train slices 0-2, complete 3", brick[:3], brick[3]
    stripes = random_stripes(17)
    yield "random stripes: train 16 images, complete a 17th", list(stripes[:16]), stripes[16]


def _psnr(truth, guess) -> float:
    if np.array_equal(truth, guess):
        return float("inf")
    return float(peak_signal_noise_ratio(truth, guess, data_range=255))


def _run(image, keep, steps, settings, train_on=None):
    start = time.perf_counter()
    if train_on is None:  # the image's kept rows only
        model = train(image, keep_rows=keep, steps=steps, **settings, architecture="dense")
    else:  # other images (or slices) of the same kind: all their rows
        model = train(train_on, steps=steps, **settings, architecture="dense")
    trained = time.perf_counter() - start
    start = time.perf_counter()
    completed = complete(model, image, keep)
    generated = time.perf_counter() - start
    scores = evaluate(model, image, keep, completed=completed)
    if completed.dtype == bool:
        completed = completed.astype(np.uint8) * 255
    return [scores["teacher_forced_bits_per_dim_256"], scores["free_running_bits_per_dim_256"],
            _psnr(image[keep:], completed[keep:]),
            100 * float((completed[keep:] == image[keep:]).mean()),
            trained, 1e3 * generated / (image.shape[0] - keep)]


HEADERS = ["image", "variant", "teacher-forced bits/dim (8-bit)",
           "free-running bits/dim (8-bit)", "PSNR dB", "exact pixels %", "train s",
           "complete ms/row"]


def value_models(quick: bool) -> tuple[str, list[str]]:
    steps = 10 if quick else 300
    variants = VARIANTS[1:3] if quick else VARIANTS
    rows, best = [], {}
    for name, train_on, image in _cases(quick):
        keep = image.shape[0] // 2
        for label, settings in variants:
            for within_row in ("independent", "autoregressive"):
                measured = _run(image, keep, steps, dict(settings, within_row=within_row),
                                train_on)
                rows.append([name, f"{label}, {within_row}", *measured])
                best.setdefault(name, []).append((measured[0], f"{label}, {within_row}"))
    notes = [f"{name}: lowest teacher-forced 8-bit bits/dim with {min(b)[1]} "
             f"({min(b)[0]:.2f})." for name, b in best.items()]
    notes.append(
        f"Defaults otherwise ({steps} steps, hidden 256, LSTM). 'Autoregressive' generates each "
        "row left to right (R, G, B within a pixel) with a causal convolution over the values "
        "before it; its 'complete ms/row' includes that sequential loop. Deterministic "
        "completions (the most probable level, the median for continuous). A K-way softmax "
        "decodes at most 2^24 numbers per step, so K=256 trains on a random subset of rows "
        "each step (slower to converge in the same number of steps).")
    return table(HEADERS, rows), notes


def pixel_mode(quick: bool) -> tuple[str, list[str]]:
    """The lab note's first try (one pixel per step) against rows, on small images."""
    steps = 10 if quick else 300
    size = 16 if quick else 32
    images = [(f"horse {size}x{size} (binary)", load_sample("horse")[::256 // size, ::256 // size],
               {"values": "binary"}),
              (f"camera {size}x{size} (gray)", load_sample("camera")[::128 // size, ::128 // size],
               {"values": "continuous"})]
    rows = []
    for name, image, settings in images:
        keep = image.shape[0] // 2
        for granularity in ("row", "pixel"):
            rows.append([name, f"{settings['values']}, {granularity}",
                         *_run(image, keep, steps, dict(settings, granularity=granularity))])
    notes = [("Pixel mode reads one pixel per RNN step: an image of H x W pixels is a sequence "
             "of H*W steps, so training and completion are sequential over every pixel. It is "
             "limited to 128 x 128 pixels per image (a clear error above).")]
    return table(HEADERS, rows), notes
