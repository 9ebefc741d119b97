"""The lab note's dense family: each row one vector (``input_size = width x channels``),
encoder -> RNN -> decoder (:mod:`.model`), trained on whole sequences or windows of rows
(:mod:`.training_set`, :mod:`.losses`, :mod:`.windows`)."""

from .model import GenModel, ModelConfig

__all__ = ["GenModel", "ModelConfig"]
