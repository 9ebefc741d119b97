"""Reading and writing PNG and TIFF files for the command line and samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import PixelRNNError

TIFF = (".tif", ".tiff")
READABLE = (".png", *TIFF)


def read_image(path) -> np.ndarray:
    path = Path(path)
    if path.suffix.lower() not in READABLE:
        raise PixelRNNError(f"Cannot read {path.name}: accepted are {', '.join(READABLE)} files.")
    if not path.is_file():
        raise PixelRNNError(f"No such image file: {path}")
    try:
        if path.suffix.lower() in TIFF:
            import tifffile

            return tifffile.imread(path)
        import imageio.v3 as iio

        return iio.imread(path)
    except Exception as exc:
        raise PixelRNNError(f"Cannot read {path}: {exc}") from None


def write_image(path, image: np.ndarray) -> None:
    path = Path(path)
    if path.suffix.lower() in TIFF:
        import tifffile

        tifffile.imwrite(path, image)
    elif path.suffix.lower() == ".png":
        import imageio.v3 as iio

        if image.dtype.kind == "b":
            image = image.astype(np.uint8) * 255
        elif image.dtype not in (np.uint8, np.uint16):
            raise PixelRNNError(
                f"PNG holds uint8 or uint16 images; this one is {image.dtype}: write a .tif instead."
            )
        iio.imwrite(path, image)
    else:
        raise PixelRNNError(f"Cannot write {path.name}: accepted are .png, .tif and .tiff.")
