"""Property tests: any accepted image completes to its own shape, dtype and kept rows,
and floats come back inside the input's own range."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from napari_pixelrnn.core import complete, train

DTYPES = ["bool", "uint8", "int8", "int16", "uint16", "int32", "uint32", "float16",
          "float32", "float64"]


@st.composite
def images(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    height, width = draw(st.integers(2, 9)), draw(st.integers(1, 7))
    stack = draw(st.sampled_from([(), (2,), (1, 2)]))
    channels = draw(st.sampled_from([(), (3,), (4,)]))
    if dtype.kind == "f":
        elements = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
    else:
        elements = None  # hypothesis covers the dtype's whole range
    image = draw(hnp.arrays(dtype, (*stack, height, width, *channels), elements=elements))
    keep = draw(st.integers(1, height - 1))
    binarize = draw(st.sampled_from([False, True, 0.3]))
    return image, bool(channels), keep, binarize


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images())
def test_completion_contract_holds_for_any_accepted_image(case):
    image, rgb, keep, binarize = case
    before = image.copy()
    # every generated image is valid, so any exception at all is a failure
    model = train(image, rgb=rgb, steps=1, hidden_size=4, binarize=binarize, architecture="dense")
    out = complete(model, image, keep)
    assert out.shape == image.shape and out.dtype == image.dtype
    axis = image.ndim - (3 if rgb else 2)
    assert np.array_equal(np.moveaxis(out, axis, 0)[:keep], np.moveaxis(image, axis, 0)[:keep])
    np.testing.assert_array_equal(image, before)
    generated = np.moveaxis(out, axis, 0)[keep:]
    if image.dtype.kind == "f":  # floats map back into the input's own range
        low, high = image.min(), image.max()
        assert np.isfinite(generated).all()
        if high > low:
            assert (generated >= low).all() and (generated <= high).all()
