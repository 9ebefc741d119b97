"""The project's exceptions: each message says what was wrong and what is accepted."""


class PixelRNNError(ValueError):
    """Bad input or settings; the message is meant for the user, not a traceback."""


def check_choice(name: str, value, accepted) -> None:
    """Refuse ``value`` unless it is one of ``accepted``, naming them all."""
    if value not in accepted:
        raise PixelRNNError(f"Unknown {name} {value!r}: accepted are {', '.join(accepted)}.")


class CheckpointError(PixelRNNError):
    """A file that is not a readable napari-pixelrnn checkpoint."""


class ImageMismatchError(PixelRNNError):
    """Training images that do not share width, channels and dtype. The fields say which
    image differs and how, so a front end can name its file without parsing the text."""

    def __init__(self, index: int, first: tuple, other: tuple):
        self.index = index  # the first image (0-based) that differs from image 0
        self.first, self.other = first, other  # (width, channels, dtype) of each
        super().__init__(
            f"All training images must share width, channels and dtype: image 0 is "
            f"{first[0]} wide with {first[1]} channel(s), {first[2]}; image {index} is "
            f"{other[0]} wide with {other[1]} channel(s), {other[2]}. Crop or convert them "
            "first (heights may differ).")

    @property
    def widths(self) -> tuple[int, int]:
        """The widths of image 0 and of the image that differs."""
        return self.first[0], self.other[0]
