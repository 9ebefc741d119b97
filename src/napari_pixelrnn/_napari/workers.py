"""The widget's jobs in flight: a napari worker, its stop flag and its progress bar.

Stopping sets a flag the job's generator polls after every step or row (see ``jobs``):
the generator then returns, closing the core's generator in the worker thread, so a
stopped training leaves its model ready to generate. No private worker attributes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils import progress

BAR_EVERY_S = 0.1  # redraw the progress bars at most ~10 times a second


@dataclass
class Job:
    """One running worker and the flag that asks it to stop."""

    worker: GeneratorWorker
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def stop_requested(self) -> bool:
        return self.stop.is_set()


def start_job(function, *args, connect: dict) -> Job:
    """A (not yet started) worker running ``function(*args, stop)``: the generator gets
    a function that says whether to stop."""
    stop = threading.Event()
    worker = create_worker(function, *args, stop.is_set, _start_thread=False,
                           _connect=connect)
    return Job(worker, stop)


class Running:
    """The jobs and progress bars in flight, by kind ("train" or "complete").

    It holds no reference to the widget, so it can still stop everything when the
    widget's Qt object is destroyed (e.g. when the viewer closes).
    """

    def __init__(self):
        self.jobs: dict[str, Job] = {}
        self.bars: dict = {}
        self._shown: dict = {}  # when each bar was last redrawn

    def start(self, kind: str, job: Job, total: int, desc: str) -> None:
        self.jobs[kind] = job  # first: napari's progress bar processes events
        self.bars[kind] = progress(total=total, desc=desc)
        self._shown[kind] = 0.0
        job.worker.start()

    def get(self, kind: str) -> Job | None:
        return self.jobs.get(kind)

    def advance(self, kind: str, count: int) -> None:
        """Show ``count`` units done, at most ~10 times a second.

        napari's progress bar processes Qt events while it redraws, so later worker
        signals can run inside this call: callers call it last.
        """
        bar, now = self.bars.get(kind), time.monotonic()
        if bar is not None and (now - self._shown[kind] > BAR_EVERY_S or count >= bar.total):
            self._shown[kind] = now
            bar.update(count - bar.n)

    def quit(self, kind: str) -> bool:
        """Ask a job to stop after its current step or row; False if none runs."""
        job = self.jobs.get(kind)
        if job is None:
            return False
        job.stop.set()
        return True

    def done(self, kind: str) -> None:
        self.jobs.pop(kind, None)
        bar = self.bars.pop(kind, None)
        if bar is not None:
            bar.close()

    def stop_all(self, *_) -> None:
        for kind in list(self.jobs):
            self.quit(kind)
            self.done(kind)
