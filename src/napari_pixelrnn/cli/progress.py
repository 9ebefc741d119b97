"""Progress on stderr: a bar with rate and time left, and the training report."""

from __future__ import annotations

import sys
import time

from ..core.row_lstm.pretrained import step_name
from .processes import main_process


def progress(label: str, unit: str = "steps", clock=time.monotonic, stream=None):
    """A progress callback printing to stderr: the bar, the rate (``unit`` per second)
    and the time left. Redrawn in place on a terminal; elsewhere (a log file, a pipe) a
    line every 5 s and one at the end."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    last = [None]
    start = [None]  # (clock, done) at the first report: setup time is not counted

    def report(done: int, total: int, extra: str = "") -> None:
        if not main_process():
            return
        now = clock()
        if start[0] is None:
            start[0] = (now, done)
        if done != total and last[0] is not None and now - last[0] < (0.1 if tty else 5.0):
            return
        last[0] = now
        width = 30
        bar = "#" * (width * done // total)
        line = f"{label} [{bar:<{width}}] {done}/{total}"
        rate = _rate(start[0], now, done)
        if rate is not None:
            line += f" {_format_rate(rate)} {unit}/s"
            if done < total:
                line += f", {_format_duration((total - done) / rate)} left"
        if extra:
            line += f" {extra}"
        stream.write(("\r" + line + "\x1b[K") if tty else (line + "\n"))
        if tty and done == total:
            stream.write("\n")
        stream.flush()

    return report


def _rate(start, now: float, done: int) -> float | None:
    """Units per second since the first report; None before there is anything to measure."""
    (then, first) = start
    if now <= then or done <= first:
        return None
    return (done - first) / (now - then)


def _format_rate(rate: float) -> str:
    return f"{rate:.3g}" if rate < 100 else f"{rate:.0f}"


def _format_duration(seconds: float) -> str:
    """0:07, 12:30, 1:02:03."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class TrainingReport:
    """The training progress line, every number with its unit: the step's loss and, when
    the core measured it, the validation loss (shown until the next measurement)."""

    def __init__(self, altered_rows: str | None = None):
        self.bar = progress("training")
        # the training loss is on rows read with these alterations (None: true rows)
        self.loss_name = "loss" if altered_rows is None else f"loss (rows read: {altered_rows})"
        self.last = None  # the latest TrainProgress
        self.validated = None  # the latest one that measured the validation rows
        self.validations: dict[int, float] = {}  # step -> validation bits/dim
        self.best_step = None  # the step whose weights the core keeps, once it says

    def __call__(self, p) -> None:
        self.last = p
        if p.best_step is not None:
            self.best_step = p.best_step
            # step 0 (a pretrained start) was scored before the first yield: say its score too
            self.validations.setdefault(p.best_step, p.best_bits_per_dim)
        if p.validation_bits_per_dim is not None:
            self.validated = p
            self.validations[p.step] = p.validation_bits_per_dim
        extra = f"{self.loss_name} {p.loss_bits_per_dim:.4f} bits/dim"
        if self.validated is not None:
            v = self.validated
            extra += (f", validation {v.validation_bits_per_dim:.4f} bits/dim (step "
                      f"{v.step}; best: {step_name(v.best_step)})")
        elif self.best_step is not None:  # only the pretrained start is scored so far
            extra += (f", validation {self.validations[self.best_step]:.4f} bits/dim "
                      f"({step_name(self.best_step)})")
        self.bar(p.step, p.steps, extra)

    def stopped_at(self) -> str:
        """'at step 120 of 800 (the weights of step 100, ...)': where Ctrl-C stopped."""
        p = self.last
        text = f"at training step {p.step} of {p.steps}"
        if self.best_step is not None:
            best = self.validations.get(self.best_step)
            score = f", {best:.4f} bits/dim" if best is not None else ""
            text += (f" (kept the weights of {step_name(self.best_step)}, the best on the "
                     f"validation rows{score})")
        return text

    def finish(self) -> None:
        """Say when training stopped early, which step's weights were kept, and the level
        calibration's offsets and the draw check if there are any."""
        p = self.last
        if p is None or not main_process():
            return
        if p.step < p.steps:
            sys.stderr.write(f"training stopped early at step {p.step} of {p.steps}: the "
                             "validation loss stopped improving (--patience)\n")
        if self.best_step is not None:
            best = self.validations.get(self.best_step)
            score = f" ({best:.4f} bits/dim)" if best is not None else ""
            sys.stderr.write(f"kept the weights of {step_name(self.best_step)}, the best on the "
                             f"validation rows{score}\n")
        from ..core.row_lstm.calibration import offsets_text
        from ..core.row_lstm.draw_check import draw_check_text

        for note in (offsets_text(p.model), draw_check_text(p.model)):
            if note:
                sys.stderr.write(note + "\n")
        sys.stderr.flush()
