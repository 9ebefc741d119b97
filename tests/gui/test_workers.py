"""Jobs run in napari workers below the GUI thread's priority, and give it back."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from napari_pixelrnn._napari.workers import WORKER_NICENESS, in_background, start_job

from .conftest import WAIT_MS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="a thread's own nice value is Linux's")


def nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_job_runs_below_the_gui_thread(qtbot):
    threads, during, done = [], [], []

    def job(stop):
        threads.append(threading.get_native_id())
        yield nice()

    gui = nice()
    worker = start_job(job, connect={"yielded": during.append,
                                     "finished": lambda: done.append(True)}).worker
    worker.start()
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert threads != [threading.get_native_id()]  # it ran in a worker thread
    assert during == [min(gui + WORKER_NICENESS, 19)]
    assert nice() == gui  # the GUI thread's own priority is untouched


def test_a_thread_left_low_is_not_pushed_further_down(qtbot, monkeypatch):
    """An unprivileged user cannot lower a nice value again, so a pool thread keeps the
    raised value of its last job: the next job on it runs at the GUI thread's value plus
    WORKER_NICENESS, not at that plus WORKER_NICENESS again. Both jobs run one after the
    other in one thread of ours, as a pool that reuses its thread runs them (Qt's pool
    may or may not reuse one, so it is not left to the pool)."""
    set_nice = os.setpriority

    def unprivileged(which, who, value):  # raising is allowed, lowering is not
        if value < os.getpriority(which, who):
            raise PermissionError("lowering a nice value needs the privilege")
        set_nice(which, who, value)

    monkeypatch.setattr(os, "setpriority", unprivileged)
    seen = []

    def job(stop):
        yield nice()

    gui = nice()
    jobs = [start_job(job, connect={"yielded": seen.append}) for _ in range(2)]
    pool_thread = threading.Thread(target=lambda: [each.worker.run() for each in jobs])
    pool_thread.start()
    pool_thread.join(timeout=WAIT_MS / 1000)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert seen == [min(gui + WORKER_NICENESS, 19)] * 2


def test_the_worker_thread_gets_its_priority_back_when_it_may():
    def job(stop):
        yield nice()

    seen = {}

    def thread():
        seen["before"] = nice()
        seen["during"] = list(in_background(seen["before"] + WORKER_NICENESS, job,
                                            lambda: False))
        seen["after"] = nice()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join()
    assert seen["during"] == [min(seen["before"] + WORKER_NICENESS, 19)]
    if os.geteuid() == 0:  # lowering a nice value again needs the privilege
        assert seen["after"] == seen["before"]
    else:
        assert seen["after"] in (seen["before"], seen["during"][0])
