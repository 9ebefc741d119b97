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


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def expand_inputs(inputs) -> list[Path]:
    """Image files from paths, folders (their .png/.tif/.tiff files, sorted by name) and
    glob patterns (expanded here, so quoted patterns work in every shell; sorted).

    A path that exists is taken as it is, even if its name contains glob characters.
    """
    found: list[Path] = []
    for text in map(str, inputs):
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file()
                           and p.suffix.lower() in READABLE)
            if not files:
                raise PixelRNNError(
                    f"No {', '.join(READABLE)} files in folder {path}.")
            found += files
        elif not path.exists() and _has_magic(text):
            import glob

            files = sorted(Path(p) for p in glob.glob(text, recursive=True)
                           if Path(p).is_file() and Path(p).suffix.lower() in READABLE)
            if not files:
                raise PixelRNNError(f"No {', '.join(READABLE)} files match {text!r}.")
            found += files
        else:
            found.append(path)  # read_image says what is wrong with it, if anything
    return found


def read_images(paths) -> list[np.ndarray]:
    return [read_image(path) for path in paths]


def check_output(path, what: str = "image", tiff_only: bool = False) -> Path:
    """Refuse an output name :func:`write_image` cannot write, before any work is done."""
    path = Path(path)
    accepted = TIFF if tiff_only else READABLE
    if path.suffix.lower() not in accepted:
        raise PixelRNNError(
            f"Cannot write {what} to {path.name}: accepted are {', '.join(accepted)} files.")
    return path
