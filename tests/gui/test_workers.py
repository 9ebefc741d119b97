"""Jobs run in napari workers below the GUI thread's priority, and give it back."""

from __future__ import annotations

import contextlib
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


def test_a_pool_thread_left_low_is_not_pushed_further_down(qtbot, monkeypatch):
    """An unprivileged user cannot lower a nice value again, so a pool thread keeps the
    raised value of its last job: the next job on it runs at the GUI thread's value plus
    WORKER_NICENESS, not at that plus WORKER_NICENESS again."""
    set_nice = os.setpriority

    def unprivileged(which, who, value):  # raising is allowed, lowering is not
        if value < os.getpriority(which, who):
            raise PermissionError("lowering a nice value needs the privilege")
        set_nice(which, who, value)

    monkeypatch.setattr(os, "setpriority", unprivileged)
    seen, threads, done = [], [], []

    def job(stop):
        threads.append(threading.get_native_id())
        yield nice()

    gui = nice()
    for count in range(2):
        worker = start_job(job, connect={"yielded": seen.append,
                                         "finished": lambda: done.append(True)}).worker
        worker.start()
        qtbot.waitUntil(lambda: len(done) > count, timeout=WAIT_MS)  # noqa: B023
    monkeypatch.undo()
    with contextlib.suppress(OSError):  # give the pool thread its priority back
        os.setpriority(os.PRIO_PROCESS, threads[0], gui)
    assert threads[0] == threads[1]  # the pool reused its thread, still at the raised value
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
