"""napari-pixelrnn: learn an image row by row and complete it.

Importing the package loads neither Qt nor torch; see ``napari_pixelrnn.core``.
"""

__version__ = "0.1.0"
