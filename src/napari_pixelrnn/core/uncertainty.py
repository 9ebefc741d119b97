"""Per-pixel uncertainty across several completions of one image (``complete(samples=N)``)."""

from __future__ import annotations

import numpy as np

from .errors import PixelRNNError, check_choice

KINDS = ("std", "entropy")


def uncertainty(images: np.ndarray, kind: str = "std") -> np.ndarray:
    """How much N completions ``(N, *shape)`` disagree at each value, ``(*shape)`` float32.

    ``std``: standard deviation across samples, in the image's intensity units.
    ``entropy``: entropy of the samples' empirical distribution of values, in bits
    (0 where all agree, log2(N) where all differ). Kept rows are identical in every
    completion, so they score 0.
    """
    check_choice("uncertainty", kind, KINDS)
    images = np.asarray(images)
    if images.ndim < 3 or images.shape[0] < 2:
        raise PixelRNNError(
            f"Uncertainty needs at least 2 completions stacked on a leading axis; got shape "
            f"{images.shape}.")
    if kind == "std":
        return images.std(axis=0, dtype=np.float64).astype(np.float32)
    n = images.shape[0]
    bits = np.zeros(images.shape[1:], dtype=np.float64)
    for sample in images:  # each sample adds -(1/N) log2(share of samples equal to it)
        same = (images == sample).sum(axis=0)
        bits -= np.log2(same / n) / n
    return bits.astype(np.float32)
