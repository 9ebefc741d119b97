"""Run by test_distributed.py under torchrun: train on a fixed tiny dataset, rank 0 saves."""

import sys

import numpy as np
import torch

from napari_pixelrnn.core import save_model, train
from napari_pixelrnn.core.distributed import is_main


def dataset():
    """Eight 12 x 10 slices and a 9-row image of the same width: two heights."""
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (8, 12, 10), dtype=np.uint8),
            rng.integers(0, 256, (4, 9, 10), dtype=np.uint8)]


SETTINGS = {"steps": 8, "hidden_size": 16, "batch_size": 4, "seed": 3, "values": "levels", "levels": 8,
                "within_row": "autoregressive"}

if __name__ == "__main__":
    torch.set_num_threads(1)
    model = train(dataset(), **SETTINGS, architecture="dense")
    if is_main():
        save_model(model, sys.argv[1])
