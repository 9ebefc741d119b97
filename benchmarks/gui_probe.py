"""Run in a child process by ``benchmarks.gui``: open napari with the dock, press its
buttons and record the gaps between ticks of a 10 ms QTimer on the GUI thread.

``python -m benchmarks.gui_probe IMAGE STEPS ROWS SAMPLES...`` prints one JSON line:
for each job, the longest gap, when it began, the CPU time the GUI thread and the whole
process used within it (the rest of the gap went to other processes: Xvfb, a neighbour
on the same core), the 99th percentile, the job's seconds and what the GUI thread ran
during the longest gap (sampled every 10 ms), and the canvas size.

The window has the same size in every run (``WINDOW``), and napari reads and writes its
settings in a fresh folder: napari restores the window's last size and dock layout, and
the canvas a paint has to fill was 83 or 694 pixels wide depending on the run before.
"""

from __future__ import annotations

import collections
import gc
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

TAIL_S = 0.5  # keep ticking after the job: its last redraws and notifications count
PLUMBING = ("events/", "_proxies", "qt_main_window")  # napari's event dispatch
OURS = ("napari_pixelrnn", "napari/", "vispy/", "pyqtgraph/", "superqt/", "magicgui/")
WINDOW = (1700, 1416)  # px; the dock needs ~1400 of height; the canvas is then 694 x 1345


class Sampler:
    """The GUI thread's Python stack every 10 ms (cheap: code objects, no strings), and
    Python's full garbage collections (they hold the GIL, whichever thread runs them)."""

    def __init__(self):
        self.samples: list[tuple[float, tuple]] = []
        self.collections: list[tuple[float, float]] = []  # (start, end) of each full gc
        self._gc_began = 0.0
        gc.callbacks.append(self._on_gc)
        self._main = threading.main_thread().ident
        self._on = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while self._on:
            frame = sys._current_frames().get(self._main)
            stack = []
            while frame is not None:
                stack.append(frame.f_code)
                frame = frame.f_back
            self.samples.append((time.perf_counter(), tuple(reversed(stack))))
            time.sleep(0.01)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        elif info["generation"] == 2:
            self.collections.append((self._gc_began, time.perf_counter()))

    def where(self, start: float, end: float) -> str:
        """The calls most samples in [start, end] were inside, outermost first, and the
        time full garbage collections took within it."""
        full_gc = sum(min(b, end) - max(a, start) for a, b in self.collections
                      if a < end and b > start)
        calls = self._calls(start, end)
        return f"{calls}; full gc {1e3 * full_gc:.0f} ms" if full_gc > 0.005 else calls

    def _calls(self, start: float, end: float) -> str:
        inside = [stack for t, stack in self.samples if start <= t <= end]
        if not inside:
            return "?"
        counts = collections.Counter(code for stack in inside for code in set(stack))
        common = [code for code in max(inside, key=len)
                  if counts[code] * 2 >= len(inside) and any(k in code.co_filename for k in OURS)
                  and not any(k in code.co_filename for k in PLUMBING)]
        names = [f"{Path(c.co_filename).stem}.{c.co_name}" for c in common]
        if not names:
            return "Qt painting (no Python on the stack)"
        return " > ".join(dict.fromkeys(names[:1] + names[-2:]))  # who called, and what ran


def main(image: str, steps: int, rows: int, samples: list[int]) -> dict:
    os.environ["NAPARI_CONFIG"] = str(Path(tempfile.mkdtemp()) / "settings.yaml")
    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer()
    if image == "horse":
        viewer.open_sample("napari-pixelrnn", "horse")
    else:  # a 512x512 RGB photograph: the astronaut sample, each pixel 4x4
        from napari_pixelrnn.core import load_sample

        viewer.add_image(np.kron(load_sample("astronaut"), np.ones((4, 4, 1), np.uint8)),
                         rgb=True, name="astronaut 512")
    _, widget = viewer.window.add_plugin_dock_widget("napari-pixelrnn", "Train and complete")
    widget.settings.binarize.value = "otsu" if image == "horse" else "off"
    widget.settings.steps.value = steps
    widget.keep_rows.value = widget.keep_rows.max + 1 - rows
    viewer.window.resize(*WINDOW)
    app = QApplication.instance()
    sampler = Sampler()

    def pump(seconds):
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            app.processEvents()
            time.sleep(0.001)

    def measure(start, busy=lambda: False):
        ticks, cpu = [], []  # when each tick fired; the CPU time used by then

        def tick():
            ticks.append(time.perf_counter())
            cpu.append((time.thread_time(), time.process_time()))  # GUI thread, process

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        timer.start()
        pump(0.3)  # ticking before the click: its cost counts too
        t0 = time.perf_counter()
        start()
        while busy():
            app.processEvents()
            time.sleep(0.001)
        elapsed = time.perf_counter() - t0
        pump(TAIL_S)
        timer.stop()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        worst = max(range(len(gaps)), key=gaps.__getitem__)
        (gui_a, all_a), (gui_b, all_b) = cpu[worst], cpu[worst + 1]
        return {"max_gap_ms": 1e3 * gaps[worst], "worst_at_s": ticks[worst] - t0,
                "gap_cpu_ms": [1e3 * (gui_b - gui_a), 1e3 * (all_b - all_a)],
                "p99_gap_ms": 1e3 * sorted(gaps)[int(0.99 * (len(gaps) - 1))],
                "seconds": elapsed, "where": sampler.where(ticks[worst], ticks[worst + 1])}

    pump(5.0)  # the first paints and the dock's torch warm-up (a worker) are over
    result = {"idle": measure(lambda: pump(2.0)),
              "train": measure(widget.train, lambda: widget.is_training)}
    for count in samples:
        widget.completion.samples.value = count
        result[f"complete {count}"] = measure(widget.complete, lambda: widget.is_completing)
    path = Path(tempfile.mkdtemp()) / "model.pixelrnn"
    result["save"] = measure(lambda: widget.save_model(path))
    result["load"] = measure(lambda: widget.load_model(path))
    result["canvas"] = list(viewer.canvas.size)  # height, width
    viewer.close()
    return result


if __name__ == "__main__":
    image, steps, rows, *samples = sys.argv[1:]
    print(json.dumps(main(image, int(steps), int(rows), [int(s) for s in samples])))
