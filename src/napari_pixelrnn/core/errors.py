"""The project's exceptions: each message says what was wrong and what is accepted."""


class PixelRNNError(ValueError):
    """Bad input or settings; the message is meant for the user, not a traceback."""


class CheckpointError(PixelRNNError):
    """A file that is not a readable napari-pixelrnn checkpoint."""
