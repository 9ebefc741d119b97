"""The widget's jobs in flight: a napari worker, its stop flag and its progress bar.

Stopping sets a flag the job's generator polls after every step or row (see ``jobs``):
the generator then returns, closing the core's generator in the worker thread, so a
stopped training leaves its model ready to generate. No private worker attributes.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field

from napari.qt.threading import GeneratorWorker, create_worker


@dataclass
class Job:
    """One running worker and the flag that asks it to stop."""

    worker: GeneratorWorker
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def stop_requested(self) -> bool:
        return self.stop.is_set()


# The worker thread's nice value while a job runs, above the GUI thread's (Linux only).
# On a core shared by the GUI thread and the worker, the scheduler split it evenly, so
# every paint took twice as long as the GUI thread's work; at +10 the GUI thread gets
# ~90 % of the core while it draws and the job gets the rest of the time, as before.
WORKER_NICENESS = 10


def start_job(function, *args, connect: dict) -> Job:
    """A (not yet started) worker running ``function(*args, stop)``: the generator gets
    a function that says whether to stop. It runs below the calling (GUI) thread's
    priority: at its nice value plus ``WORKER_NICENESS``, read here."""
    stop = threading.Event()
    niceness = None
    if sys.platform.startswith("linux"):  # a thread id names one thread there
        with contextlib.suppress(OSError):
            niceness = _nice(threading.get_native_id()) + WORKER_NICENESS
    worker = create_worker(in_background, niceness, function, *args, stop.is_set,
                           _start_thread=False, _connect=connect)
    return Job(worker, stop)


def in_background(niceness: int | None, function, *args):
    """``function(*args)``'s generator, run with the calling thread's nice value set to
    ``niceness`` (that thread only; ``None``: unchanged) and put back when the generator
    ends. An absolute value, not a raise: without the privilege to lower it again
    (unprivileged users) a pool thread keeps the value until Qt retires it (30 s idle),
    and a later job on it is not pushed further down."""
    thread, before = threading.get_native_id(), None
    if niceness is not None:
        with contextlib.suppress(OSError):
            before = _nice(thread)
            os.setpriority(os.PRIO_PROCESS, thread, niceness)
    try:
        return (yield from function(*args))
    finally:
        if before is not None:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, thread, before)


def _nice(thread: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread)


class Running:
    """The jobs in flight and their progress bars, by kind ("train" or "complete").

    The bars are plain QProgressBars in the dock (``bars``, by kind), hidden while idle.
    Not napari's ``progress``: creating one took 110-450 ms on the GUI thread, and each
    update of it processes Qt events (a full repaint) inside the caller.

    It holds no reference to the widget, so it can still stop everything when the
    widget's Qt object is destroyed (e.g. when the viewer closes).
    """

    def __init__(self, bars: dict | None = None):
        self.jobs: dict[str, Job] = {}
        self.bars: dict = bars or {}
        self._begun: dict[str, tuple[float, int, str]] = {}  # start time, total, text

    def start(self, kind: str, job: Job, total: int, desc: str) -> None:
        self.jobs[kind] = job
        self._begun[kind] = (time.monotonic(), total, desc)
        bar = self.bars.get(kind)
        if bar is not None:
            with later(bar):
                bar.setRange(0, total)
                bar.setValue(0)
                bar.setFormat(f"{desc}: %v/%m")
            bar.show()
        job.worker.start()

    def get(self, kind: str) -> Job | None:
        return self.jobs.get(kind)

    def advance(self, kind: str, count: int) -> None:
        """Show ``count`` units done and the time left (the runs call this once a frame)."""
        bar = self.bars.get(kind)
        if bar is None or kind not in self.jobs:
            return
        began, total, desc = self._begun[kind]
        left = ""
        if 0 < count < total:
            left = f", ~{(time.monotonic() - began) * (total - count) / count:.0f} s left"
        with later(bar):
            bar.setValue(min(count, total))
            bar.setFormat(f"{desc}: %v/%m{left}")

    def quit(self, kind: str) -> bool:
        """Ask a job to stop after its current step or row; False if none runs."""
        job = self.jobs.get(kind)
        if job is None:
            return False
        job.stop.set()
        return True

    def done(self, kind: str) -> None:
        self.jobs.pop(kind, None)
        bar = self.bars.get(kind)
        if bar is not None:
            with contextlib.suppress(RuntimeError):  # the dock (and its bars) may be gone
                bar.hide()

    def stop_all(self, *_) -> None:
        for kind in list(self.jobs):
            self.quit(kind)
            self.done(kind)


@contextlib.contextmanager
def later(widget):
    """Changes to ``widget`` inside are drawn with the next frame, not at once.

    QProgressBar.setValue repaints at once; beside napari's OpenGL canvas that
    composites the whole window there and then (with the canvas, if a layer changed:
    ~0.1 s under software OpenGL). Re-enabling updates asks for an ordinary update().
    """
    widget.setUpdatesEnabled(False)
    try:
        yield
    finally:
        widget.setUpdatesEnabled(True)
