"""Headless napari-pixelrnn: model, data preparation, training, completion, checkpoints.

Importing this package loads torch and numpy, never Qt or napari.
"""

from .checkpoint import load_model, save_model
from .config import CompletionConfig, owner, resolve_values
from .data import DataSpec, Geometry, geometry
from .dense.model import GenModel, ModelConfig
from .errors import CheckpointError, ImageMismatchError, PixelRNNError
from .evaluation import drift_warning, evaluate, uniform_warning
from .generators import run_to_end, until
from .row_lstm import RowLSTM, RowLSTMConfig
from .sampler import Completions, GeneratedRow, check_completion, complete, complete_rows
from .samples import SAMPLES, load_sample, sample_path
from .training import ARCHITECTURES, TrainConfig, TrainProgress, train, train_steps
from .uncertainty import uncertainty

__all__ = [
    "ARCHITECTURES",
    "SAMPLES",
    "CheckpointError",
    "CompletionConfig",
    "Completions",
    "DataSpec",
    "GenModel",
    "GeneratedRow",
    "Geometry",
    "ImageMismatchError",
    "ModelConfig",
    "PixelRNNError",
    "RowLSTM",
    "RowLSTMConfig",
    "TrainConfig",
    "TrainProgress",
    "check_completion",
    "complete",
    "complete_rows",
    "drift_warning",
    "evaluate",
    "geometry",
    "load_model",
    "load_sample",
    "owner",
    "resolve_values",
    "run_to_end",
    "sample_path",
    "save_model",
    "train",
    "train_steps",
    "uncertainty",
    "uniform_warning",
    "until",
]
