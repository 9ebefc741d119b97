"""Make docs/images/screenshot.png: napari with the dock widget after a real run.

Opens the horse sample through the plugin's manifest, keeps its top rows, trains on them
in the widget (as a user would, by pressing Train), completes the masked rows and saves a
screenshot of the whole window. On a machine without a display it re-runs itself under
``xvfb-run``::

    python docs/screenshot.py            # about half a minute on a laptop CPU
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "images" / "screenshot.png"
SAMPLE, KEEP_ROWS, STEPS = "horse", 160, 200
WINDOW = (1700, 1000)


def main() -> None:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            sys.exit("No display and no xvfb-run: install Xvfb (e.g. apt-get install xvfb).")
        screen = f"-screen 0 {WINDOW[0] + 100}x{WINDOW[1] + 100}x24"
        sys.exit(subprocess.call([xvfb, "-a", "-s", screen, sys.executable, *sys.argv]))

    import napari
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(title="napari-pixelrnn")
    viewer.window.resize(*WINDOW)
    [layer] = viewer.open_sample("napari-pixelrnn", SAMPLE)
    _, widget = viewer.window.add_plugin_dock_widget("napari-pixelrnn", "Train and complete")
    widget.layer_combo.value = layer
    widget.keep_rows.value = KEEP_ROWS
    widget.settings.architecture.value = "dense"  # the README's picture of the lab note's model
    widget.settings.binarize.value = "otsu"
    widget.settings.steps.value = STEPS

    def wait(busy) -> None:
        deadline = time.monotonic() + 600
        while busy():
            if time.monotonic() > deadline:
                sys.exit("Timed out waiting for the widget.")
            QApplication.processEvents()
            time.sleep(0.01)

    widget.train_button.native.click()
    wait(lambda: widget.is_training)
    print(widget.train_status.value, flush=True)
    widget.complete_button.native.click()
    wait(lambda: widget.is_completing)
    completed = widget.completed_layer
    if completed is None or not completed.metadata["pixelrnn"].get("finished"):
        sys.exit("The completion did not finish.")
    print(widget.result.value)

    grid = getattr(viewer, "canvas", viewer).grid  # napari >= 0.9 moved it to the canvas
    grid.enabled = True  # the original and its completion side by side
    grid.spacing = 0.05
    viewer.reset_view()
    for _ in range(20):  # let the canvas and the plot draw
        QApplication.processEvents()
        time.sleep(0.05)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(OUT), canvas_only=False)
    print(f"wrote {OUT}")
    viewer.close()


if __name__ == "__main__":
    main()
