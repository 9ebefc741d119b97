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


def test_the_worker_thread_gets_its_priority_back_when_it_may():
    def job(stop):
        yield nice()

    seen = {}

    def thread():
        seen["before"] = nice()
        seen["during"] = list(in_background(job, lambda: False))
        seen["after"] = nice()

    runner = threading.Thread(target=thread)
    runner.start()
    runner.join()
    assert seen["during"] == [min(seen["before"] + WORKER_NICENESS, 19)]
    if os.geteuid() == 0:  # lowering a nice value again needs the privilege
        assert seen["after"] == seen["before"]
    else:
        assert seen["after"] in (seen["before"], seen["during"][0])
