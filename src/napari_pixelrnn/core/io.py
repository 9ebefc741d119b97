"""Reading and writing PNG and TIFF files for the command line and samples."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np

from .errors import PixelRNNError

TIFF = (".tif", ".tiff")
READABLE = (".png", *TIFF)


FORMATS = "PNG and TIFF (.png, .tif, .tiff)"
# the first bytes of each format we read: what a file is, whatever its name says
MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"II*\x00": "tiff", b"MM\x00*": "tiff",
         b"II+\x00": "tiff", b"MM\x00+": "tiff"}


def not_an_image(path) -> PixelRNNError:
    return PixelRNNError(f"{path} is not an image napari-pixelrnn can read: it reads {FORMATS} "
                         "files.")


def read_image(path) -> np.ndarray:
    """A PNG or TIFF file as an array; anything else is refused in one line (which
    formats are read), never with a decoder's plugin suggestions."""
    path = Path(path)
    if path.suffix.lower() not in READABLE:
        raise not_an_image(path)
    if not path.is_file():
        raise PixelRNNError(f"No such image file: {path}")
    try:
        with open(path, "rb") as file:
            head = file.read(8)
    except OSError as exc:
        raise PixelRNNError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    kind = next((k for magic, k in MAGIC.items() if head.startswith(magic)), None)
    if kind is None:
        raise not_an_image(path)
    try:
        if kind == "tiff":
            import tifffile

            return tifffile.imread(path)
        import imageio.v3 as iio

        return iio.imread(path, extension=".png")
    except Exception as exc:  # noqa: BLE001 (any decoder error: one line)
        detail = " ".join(str(exc).split())[:200]  # one line, whatever the decoder says
        raise PixelRNNError(f"Cannot read {path}: a damaged {kind.upper()} file "
                            f"({detail}).") from None


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
        raise PixelRNNError(f"Cannot write {path}: accepted are .png, .tif and .tiff.")


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


def check_output(path, what: str = "image", tiff_only: bool | None = False) -> Path:
    """Refuse an output :func:`write_image` (or ``save_model``, ``tiff_only=None``: any
    name) cannot write, before any work is done: an unsupported extension, a folder, a
    missing or read-only folder. The message names the path as given."""
    path = Path(path)
    if path.is_dir():
        raise PixelRNNError(f"Cannot write {what} to {path}: it is a folder; give a file name.")
    if tiff_only is not None:
        accepted = TIFF if tiff_only else READABLE
        if path.suffix.lower() not in accepted:
            raise PixelRNNError(f"Cannot write {what} to {path}: accepted are "
                                f"{', '.join(accepted)} files.")
    check_writable_folder(path.parent, f"{what} to {path}")
    if path.exists() and not os.access(path, os.W_OK) and tiff_only is not None:
        raise PixelRNNError(f"Cannot write {what} to {path}: the file is read-only.")
    return path


def check_writable_folder(folder, what: str) -> None:
    """Refuse a folder that is missing, not a folder, or cannot take a new file (tried:
    a probe file is made there and removed at once)."""
    folder = Path(folder)
    shown = f"{folder}{os.sep}" if str(folder) != "." else "the current folder"
    if not folder.exists():
        raise PixelRNNError(f"Cannot write {what}: the folder {shown} does not exist.")
    if not folder.is_dir():
        raise PixelRNNError(f"Cannot write {what}: {folder} is not a folder.")
    import tempfile

    try:
        handle, probe = tempfile.mkstemp(prefix=".napari-pixelrnn-probe.", dir=folder)
    except OSError as exc:
        reason = "it is read-only" if isinstance(exc, PermissionError) or exc.errno in (
            errno.EACCES, errno.EPERM, errno.EROFS) else (exc.strerror or str(exc)).lower()
        raise PixelRNNError(f"Cannot write {what}: {reason} (the folder {shown}).") from None
    os.close(handle)
    os.unlink(probe)
