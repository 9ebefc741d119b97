"""The command line: ``napari-pixelrnn demo | train | complete | evaluate``.

Bad input prints one line on stderr and exits with status 2; no traceback. The parser
(:mod:`.parser`) builds the options from the core's configs; the commands
(:mod:`.commands`, :mod:`.demo`) run the core through :mod:`.running`.
"""

from .main import main
from .parser import build_parser

__all__ = ["build_parser", "main"]
