"""Driving the core's generators (training steps, generated rows) to their end.

Training and completion are generators so that a script, the CLI and the napari widget
can all follow them; these two helpers are the only hand-written ``next()`` loop.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

Y = TypeVar("Y")
R = TypeVar("R")


def until(generator: Generator[Y, None, R], stop: Callable[[], bool] | None = None
          ) -> Generator[Y, None, R | None]:
    """Yield ``generator``'s items, checking ``stop()`` after each; return its value, or
    None when stopped. The generator is closed here either way, in the caller's thread,
    so its clean-up (a model back in eval mode, the best weights restored) runs now."""
    try:
        while True:
            try:
                item = next(generator)
            except StopIteration as done:
                return done.value
            yield item
            if stop is not None and stop():
                return None
    finally:
        generator.close()


def run_to_end(generator: Generator[Y, None, R], each: Callable[[Y], None] | None = None,
               stop: Callable[[], bool] | None = None) -> R | None:
    """Run ``generator`` to its end, calling ``each(item)`` on every item; its return
    value (None when ``stop()`` ended it early)."""
    result = None

    def follow():
        nonlocal result
        result = yield from until(generator, stop)

    for item in follow():
        if each is not None:
            each(item)
    return result
