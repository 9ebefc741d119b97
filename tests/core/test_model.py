"""GenModel is built from its settings object or from the lab note's keyword form alike."""

import pytest
import torch

from napari_pixelrnn.core import GenModel, PixelRNNError
from napari_pixelrnn.core.dense.model import ModelConfig


def test_a_config_and_the_lab_notes_keywords_build_the_same_network():
    config = ModelConfig(input_size=12, hidden_size=8, num_layers=2, cell="gru",
                         values="mixture", within_row="autoregressive", components=3)
    torch.manual_seed(0)
    from_config = GenModel(config)
    torch.manual_seed(0)
    from_keywords = GenModel(12, hidden_size=8, num_layers=2, cell="gru", values="mixture",
                             within_row="autoregressive", components=3)
    assert from_config.config == from_keywords.config == config
    a, b = from_config.state_dict(), from_keywords.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert GenModel.from_config(config).config == config


def test_bad_keywords_are_refused_with_the_accepted_values():
    with pytest.raises(PixelRNNError, match="cell"):
        GenModel(12, cell="transformer")
