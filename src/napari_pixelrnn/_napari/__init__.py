"""The napari side of napari-pixelrnn: the dock widget, its forms and workers, the cut
guide, the completion layers, the loss plot and the sample-data providers.

Everything here reads the user's choices into :mod:`napari_pixelrnn.core`'s configs on
the GUI thread and runs the core's generators in workers; the core never imports this.
"""
