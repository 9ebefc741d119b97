"""The PixelRNN paper's Row LSTM (:mod:`.model`), the classical guess its values start
from (:mod:`.edge_prior`), and its training on crops with validation (:mod:`.crops`,
:mod:`.training`)."""

from .model import PRIORS, RowLSTM, RowLSTMConfig

__all__ = ["PRIORS", "RowLSTM", "RowLSTMConfig"]
