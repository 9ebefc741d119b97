"""Training and completing for the commands: options -> core settings, progress,
Ctrl-C saving the model trained so far, and the printed scores."""

from __future__ import annotations

import sys
from pathlib import Path

from ..core.config import owner
from .processes import main_process
from .progress import TrainingReport, progress

# options read by value_settings, or not passed to train() as they are
_SPECIAL = {"values", "levels", "keep_rows", "architecture"}


def _training_settings(args, architecture: str | None = None) -> dict:
    """The training options given, as train() settings; the core fills in the rest.

    An option of the other architecture is refused ("--kernel is a row-lstm option").
    ``architecture`` overrides ``--architecture`` (the demo trains both: each run skips
    the other architecture's options)."""
    from dataclasses import fields

    from ..core import PixelRNNError, TrainConfig

    demo = architecture is not None  # it trains both: each run takes the options it has
    architecture = architecture or args.architecture
    settings = {"architecture": architecture, **value_settings(args)}
    for field in fields(TrainConfig):
        value = getattr(args, field.name, None)
        if field.name in _SPECIAL or value is None:
            continue
        arch = owner(field.name)
        if arch is not None and arch != architecture:
            if demo:
                continue
            raise PixelRNNError(
                f"{_option(field.name)} is a {arch} option; this is --architecture "
                f"{architecture} (add --architecture {arch}, or leave it out).")
        settings[field.name] = value
    return settings


def _option(name: str) -> str:
    return "--no-batch-norm" if name == "batch_norm" else "--" + name.replace("_", "-")


def value_settings(args) -> dict:
    """--values and --levels as train() settings; --levels alone means --values levels."""
    from ..core import PixelRNNError

    values = args.values
    if args.levels is not None:
        if values is None:
            values = "levels"
        elif values != "levels":
            raise PixelRNNError(f"--levels {args.levels} applies to --values levels, not "
                                f"--values {values}.")
    if args.components is not None and values not in (None, "mixture"):
        raise PixelRNNError(f"--components {args.components} applies to --values mixture, "
                            f"not --values {values}.")
    settings = {"values": values}
    if args.levels is not None:
        settings["levels"] = args.levels
    return settings


def train(args, images, keep_rows: int | None, architecture: str | None = None,
           save_on_interrupt=None, **overrides):
    """Train on one image or a list; the settings' errors come before any work.

    ``architecture`` (the demo's two runs): train that one, skipping the given options of
    the other; ``save_on_interrupt``: where Ctrl-C saves the model trained so far (then
    :class:`Interrupted` is raised); ``overrides``: settings that replace the options'."""
    from ..core import TrainConfig, train

    settings = _training_settings(args, architecture) | overrides
    if settings.get("seed") is None:
        settings["seed"] = TrainConfig().seed
    report = TrainingReport(TrainConfig.from_settings(**settings).altered_rows())
    try:
        model = train(images, keep_rows=keep_rows, progress=report, **settings)
    except KeyboardInterrupt:
        if save_on_interrupt is None or report.last is None or not main_process():
            raise  # nothing trained yet (or not this process's to save)
        save_interrupted(report.last.model, save_on_interrupt, report.stopped_at())
    report.finish()
    return model


class Interrupted(Exception):
    """Ctrl-C, after the model trained so far was saved and said so: exit status 130."""


def save_interrupted(model, path, when: str) -> None:
    """Save the model trained so far, say where in one line, and end with status 130."""
    where = save(model, path)
    newline = "\n" if sys.stderr.isatty() else ""  # after the progress line drawn in place
    sys.stderr.write(f"{newline}interrupted {when}: saved the model trained so far to {where}\n")
    sys.stderr.flush()
    raise Interrupted


def save(model, path):
    """save_model, its errors naming the user's path (not the temporary file it writes)."""
    from ..core import PixelRNNError, save_model

    try:
        return save_model(model, path)
    except OSError as exc:
        raise PixelRNNError(f"Cannot write the model to {path}: "
                            f"{exc.strerror or exc}.") from None


def interrupt_model_path(output) -> Path:
    """Where Ctrl-C in complete saves its model: beside the output, never over a file."""
    output = Path(output)
    path = output.with_suffix(".pixelrnn")
    number = 1
    while path.exists():
        path = output.with_name(f"{output.stem}-{number}.pixelrnn")
        number += 1
    return path


def _draw_seed(args) -> int | None:
    return args.sample_seed if args.sample_seed is not None else args.seed


def complete(model, image, keep_rows: int, args, samples: int | None = None):
    """The completed image; with ``samples``, the :class:`Completions` (drawn)."""
    from ..core import complete_rows

    bar = progress("completing", "rows")
    rows = complete_rows(model, image, keep_rows,
                         sample=(True if args.sample else None) if samples else args.sample,
                         temperature=args.temperature, seed=_draw_seed(args),
                         samples=samples)
    while True:
        try:
            row = next(rows)
        except StopIteration as done:
            return done.value
        bar(row.index + 1 - keep_rows, row.total - keep_rows)  # rows generated so far


def print_scores(scores: dict) -> None:
    """The sampling loss, teacher-forced and free-running side by side, units stated;
    its warnings, if any, on stderr."""
    def row(label, key):
        return (f"  {label:<40}{scores[f'teacher_forced_{key}']:>15.4f}"
                f"{scores[f'free_running_{key}']:>15.4f}")

    print(f"sampling loss on the {scores['masked_rows']} masked rows "
          f"({scores['masked_values']} values), mean negative log-likelihood per value:")
    print(f"  {'':<40}{'teacher-forced':>15}{'free-running':>15}")
    print(row(f"bits/dim (model's {scores['alphabet']} values)", "bits_per_dim"))
    print(row("bits/dim (256 8-bit intensities)", "bits_per_dim_256"))
    print("  teacher-forced: each masked row given the true rows above; free-running: given")
    print("  the model's own completion above; 8-bit: comparable across --values")
    binary = "free_running_pixel_accuracy_pct" in scores
    line = (f"free-running completion{' against the binarized image' if binary else ''}: "
            f"MSE {scores['free_running_mse']:.5f} (intensities in [0, 1]), "
            f"PSNR {scores['free_running_psnr_db']:.2f} dB")
    if binary:
        line += (f", pixel accuracy {scores['free_running_pixel_accuracy_pct']:.2f} %; "
                 f"against the original: MSE {scores['free_running_mse_vs_original']:.5f}, "
                 f"PSNR {scores['free_running_psnr_db_vs_original']:.2f} dB")
    print(line)
    sys.stdout.flush()
    print_warnings(scores)


def print_warnings(scores: dict) -> None:
    """What the scores warn of, a line each on stderr: drift, worse than a uniform guess."""
    from ..core import drift_warning, uniform_warning

    for warning in (drift_warning(scores), uniform_warning(scores)):
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
