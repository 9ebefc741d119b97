"""Headless napari-pixelrnn: model, data preparation, training, completion, checkpoints.

Importing this package loads torch and numpy, never Qt or napari.
"""

from .checkpoint import load_model, save_model
from .data import DataSpec
from .errors import CheckpointError, PixelRNNError
from .evaluation import drift_warning, evaluate
from .model import GenModel, ModelConfig
from .row_lstm import RowLSTM, RowLSTMConfig
from .sampler import Completions, GeneratedRow, complete, complete_rows
from .samples import SAMPLES, load_sample, sample_path
from .training import ARCHITECTURES, TrainConfig, TrainProgress, train, train_steps
from .uncertainty import uncertainty

__all__ = [
    "ARCHITECTURES",
    "SAMPLES",
    "CheckpointError",
    "Completions",
    "DataSpec",
    "GenModel",
    "GeneratedRow",
    "ModelConfig",
    "PixelRNNError",
    "RowLSTM",
    "RowLSTMConfig",
    "TrainConfig",
    "TrainProgress",
    "complete",
    "complete_rows",
    "drift_warning",
    "evaluate",
    "load_model",
    "load_sample",
    "sample_path",
    "save_model",
    "train",
    "train_steps",
    "uncertainty",
]
