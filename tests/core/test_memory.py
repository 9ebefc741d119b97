"""Work that cannot fit in memory is refused up front with the estimate."""

import pytest

from napari_pixelrnn.core import PixelRNNError, complete, memory, train

from .conftest import tiny


def test_the_estimate_is_in_the_measured_range_for_a_2048_rgb_image():
    # measured peak RSS training 2048x2048x3 (continuous, defaults): ~1.6 GB incl. ~0.3 GB
    # for Python and torch themselves
    needed = memory.training_bytes(1, 2048, 2048 * 3, 2, 256, 1, 1)
    assert 1.0 * 2**30 < needed < 2.0 * 2**30


def test_training_and_completion_beyond_available_memory_are_refused(stripes, monkeypatch):
    model = train(stripes, **tiny(), architecture="dense")
    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 16)
    with pytest.raises(PixelRNNError, match=r"needs about .* GiB of memory \(estimate\)"):
        train(stripes, **tiny(), architecture="dense")
    with pytest.raises(PixelRNNError, match="Complete a crop"):
        complete(model, stripes, 10)


def test_unknown_available_memory_does_not_block(stripes, monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    assert complete(train(stripes, **tiny(), architecture="dense"), stripes, 10).shape == stripes.shape


def test_available_memory_is_read_from_the_system():
    free = memory.available_bytes()
    assert isinstance(free, int) and 2**20 < free < 2**50  # Linux: /proc/meminfo
