"""The command line: ``napari-pixelrnn demo | train | complete | evaluate``.

Bad input prints one line on stderr and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from .core.config import owner

EPILOG = "Run 'napari-pixelrnn COMMAND -h' for a command's options."

TRAIN_EPILOG = """\
Several images: a folder (its .png/.tif/.tiff files, sorted by name), a quoted glob
pattern such as "imgs/*.png" (expanded here, sorted), or several paths. They must share
width, channels and dtype; heights may differ.

Data-parallel training on several processes (GPUs, or CPU cores) with torchrun: every
process trains on its share of each batch; only the first writes the model and prints.
  torchrun --nproc_per_node=2 -m napari_pixelrnn train imgs/ -o model.pixelrnn
"""


def _main_process() -> bool:
    """False in every process but the first under torchrun: those train, then exit 0
    without printing or writing anything. Before training has joined the process group,
    torchrun's RANK says which process this is."""
    from .core.distributed import is_main

    return is_main() and int(os.environ.get("RANK", "0") or 0) == 0


def _progress(label: str, unit: str = "steps", clock=time.monotonic, stream=None):
    """A progress callback printing to stderr: the bar, the rate (``unit`` per second)
    and the time left. Redrawn in place on a terminal; elsewhere (a log file, a pipe) a
    line every 5 s and one at the end."""
    stream = stream or sys.stderr
    tty = stream.isatty()
    last = [None]
    start = [None]  # (clock, done) at the first report: setup time is not counted

    def report(done: int, total: int, extra: str = "") -> None:
        if not _main_process():
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


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error like any other bad input: one line, status 2
    (plain argparse prints the usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} -h')\n")


def _defaults_help(name: str) -> str:
    """'dense D, row-lstm R': an architecture-dependent default, for help texts."""
    from .core.training import ARCHITECTURE_DEFAULTS

    return ", ".join(f"{arch} {values[name]:g}" for arch, values in ARCHITECTURE_DEFAULTS.items())


def _add_training_options(parser: argparse.ArgumentParser, kept_flag: bool = True,
                          architecture: bool = True) -> None:
    """The training options, one per TrainConfig field. Every default is None here (so
    that what was given can be told from what was not); the help shows the core's."""
    from .core import TrainConfig
    from .core.training import ARCHITECTURES
    from .core.values import VALUE_KINDS

    d = TrainConfig()
    g = parser.add_argument_group(
        "training", "Options marked [dense] or [row-lstm] apply to that architecture only.")
    if kept_flag:  # retired: training on the kept rows only is the default
        g.add_argument("--keep-rows-only", action="store_true", help=argparse.SUPPRESS)
    if architecture:
        g.add_argument("--architecture", choices=ARCHITECTURES, default=d.architecture,
                       help="row-lstm: the PixelRNN paper's Row LSTM, small weights shared "
                            "by every column, trained on crops of the kept rows (completes "
                            "rows it has not seen); dense: the lab note's model, one weight "
                            "per column (reproduces rows it was trained on) "
                            "(default %(default)s)")
    g.add_argument("--steps", type=int, help=f"optimizer steps at most (default: "
                   f"{_defaults_help('steps')})")
    g.add_argument("--lr", type=float, help=f"Adam learning rate, cosine-decayed to a tenth "
                   f"(default: {_defaults_help('lr')})")
    g.add_argument("--hidden-size", type=int,
                   help=f"dense: RNN units; row-lstm: features per pixel (default: "
                        f"{_defaults_help('hidden_size')})")
    g.add_argument("--num-layers", type=int, help=f"stacked layers (default {d.num_layers})")
    g.add_argument("--dropout", type=float,
                   help=f"dense: between stacked layers; row-lstm: on the row state "
                        f"(default {d.dropout})")
    g.add_argument("--weight-decay", type=float,
                   help=f"AdamW decoupled weight decay (default {d.weight_decay})")
    g.add_argument("--kernel", type=int,
                   help=f"[row-lstm] input-to-state kernel along the row, odd (default "
                        f"{d.kernel})")
    g.add_argument("--crop", type=int,
                   help=f"[row-lstm] train on random CROP x CROP patches of the kept rows "
                        f"(default {d.crop})")
    g.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help=f"[row-lstm] also train on mirrored crops; --no-flip for images that "
                        f"are not mirror-symmetric (default {d.flip})")
    g.add_argument("--validation", type=float, metavar="SHARE",
                   help=f"[row-lstm] share of each image's kept rows (its last ones) held out "
                        f"to validate on, for early stopping and the best weights; 0 = none "
                        f"(default {d.validation})")
    g.add_argument("--patience", type=int,
                   help=f"[row-lstm] validations without improvement before training stops "
                        f"early; 0 = never (default {d.patience})")
    g.add_argument("--cell", help=f"[dense] lstm, gru or rnn (default {d.cell})")
    g.add_argument("--mode", help=f"[dense] many-to-many or many-to-one (default {d.mode})")
    g.add_argument("--context", type=int,
                   help=f"[dense] many-to-one window, in rows (default {d.context})")
    g.add_argument("--bidirectional", action="store_true", default=None,
                   help="[dense] read each window both ways (many-to-one only)")
    g.add_argument("--no-batch-norm", dest="batch_norm", action="store_false", default=None,
                   help="[dense] no causal batch norm after the encoder")
    g.add_argument("--within-row", choices=("independent", "autoregressive"),
                   help=f"[dense] values of a row independent given the rows above, or "
                        f"generated left to right (R -> G -> B) (default {d.within_row}; "
                        "the row-lstm always generates left to right)")
    g.add_argument("--granularity", choices=("row", "pixel"),
                   help=f"[dense] one RNN step per row, or per pixel (grayscale, at most "
                        f"128 x 128 pixels per image) (default {d.granularity})")
    g.add_argument("--binarize", nargs="?", const=True, type=float, metavar="THRESHOLD",
                   help="binarize (Otsu, or THRESHOLD in (0, 1)) (default: no)")
    g.add_argument("--rgb", action=argparse.BooleanOptionalAction, default=None,
                   help="last axis is colour (default: guess)")
    g.add_argument("--values", choices=VALUE_KINDS,
                   help="value model: binary (Bernoulli, implies Otsu binarization), "
                        "continuous (a discretized logistic), levels (a K-way softmax) or "
                        "mixture (a mixture of discretized logistics); default: binary "
                        "with --binarize, else continuous (dense) or mixture (row-lstm)")
    g.add_argument("--levels", type=int, metavar="K",
                   help=f"--values levels: K intensities, 2..256 (default {d.levels}; "
                        "implies --values levels)")
    g.add_argument("--components", type=int, metavar="K",
                   help=f"--values mixture: K logistics per value (default {d.components})")
    g.add_argument("--seed", type=int,
                   help=f"seed for training (default {d.seed}); in complete and demo also "
                        "for the draws, unless --sample-seed is given (default: random)")
    g.add_argument("--batch-size", type=int,
                   help=f"slices, crops or images per step (default {d.batch_size}); under "
                        "torchrun each step's batch is split between the processes")
    g.add_argument("--device", help=f"auto, cpu, cuda or mps (default {d.device})")
    g.add_argument("--threads", type=int,
                   help="torch CPU threads (default 1: more threads spin-wait and slow "
                        "everything down when another process is busy)")


# options read by _value_settings, or not passed to train() as they are
_SPECIAL = {"values", "levels", "keep_rows", "architecture"}


def _training_settings(args, architecture: str | None = None) -> dict:
    """The training options given, as train() settings; the core fills in the rest.

    An option of the other architecture is refused ("--kernel is a row-lstm option").
    ``architecture`` overrides ``--architecture`` (the demo trains both: each run skips
    the other architecture's options)."""
    from dataclasses import fields

    from .core import PixelRNNError, TrainConfig

    demo = architecture is not None  # it trains both: each run takes the options it has
    architecture = architecture or args.architecture
    settings = {"architecture": architecture, **_value_settings(args)}
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


def _value_settings(args) -> dict:
    """--values and --levels as train() settings; --levels alone means --values levels."""
    from .core import PixelRNNError

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


def _train(args, images, keep_rows: int | None, architecture: str | None = None,
           save_on_interrupt=None, **overrides):
    """Train on one image or a list; the settings' errors come before any work.

    ``architecture`` (the demo's two runs): train that one, skipping the given options of
    the other; ``save_on_interrupt``: where Ctrl-C saves the model trained so far (then
    :class:`_Interrupted` is raised); ``overrides``: settings that replace the options'."""
    from .core import TrainConfig, train

    settings = _training_settings(args, architecture) | overrides
    if settings.get("seed") is None:
        settings["seed"] = TrainConfig().seed
    report = _TrainingReport()
    try:
        model = train(images, keep_rows=keep_rows, progress=report, **settings)
    except KeyboardInterrupt:
        if save_on_interrupt is None or report.last is None or not _main_process():
            raise  # nothing trained yet (or not this process's to save)
        _save_interrupted(report.last.model, save_on_interrupt, report.stopped_at())
    report.finish()
    return model


class _Interrupted(Exception):
    """Ctrl-C, after the model trained so far was saved and said so: exit status 130."""


def _save_interrupted(model, path, when: str) -> None:
    """Save the model trained so far, say where in one line, and end with status 130."""
    where = _save(model, path)
    newline = "\n" if sys.stderr.isatty() else ""  # after the progress line drawn in place
    sys.stderr.write(f"{newline}interrupted {when}: saved the model trained so far to {where}\n")
    sys.stderr.flush()
    raise _Interrupted


def _save(model, path):
    """save_model, its errors naming the user's path (not the temporary file it writes)."""
    from .core import PixelRNNError, save_model

    try:
        return save_model(model, path)
    except OSError as exc:
        raise PixelRNNError(f"Cannot write the model to {path}: "
                            f"{exc.strerror or exc}.") from None


def _interrupt_model_path(output) -> Path:
    """Where Ctrl-C in complete saves its model: beside the output, never over a file."""
    output = Path(output)
    path = output.with_suffix(".pixelrnn")
    number = 1
    while path.exists():
        path = output.with_name(f"{output.stem}-{number}.pixelrnn")
        number += 1
    return path


class _TrainingReport:
    """The training progress line, every number with its unit: the step's loss and, when
    the core measured it, the validation loss (shown until the next measurement)."""

    def __init__(self):
        self.bar = _progress("training")
        self.last = None  # the latest TrainProgress
        self.validated = None  # the latest one that measured the validation rows
        self.validations: dict[int, float] = {}  # step -> validation bits/dim
        self.best_step = None  # the step whose weights the core keeps, once it says

    def __call__(self, p) -> None:
        self.last = p
        if p.best_step is not None:
            self.best_step = p.best_step
        if p.validation_bits_per_dim is not None:
            self.validated = p
            self.validations[p.step] = p.validation_bits_per_dim
        extra = f"loss {p.loss_bits_per_dim:.4f} bits/dim"
        if self.validated is not None:
            v = self.validated
            extra += (f", validation {v.validation_bits_per_dim:.4f} bits/dim (step "
                      f"{v.step}; best: step {v.best_step})")
        self.bar(p.step, p.steps, extra)

    def stopped_at(self) -> str:
        """'at step 120 of 800 (the weights of step 100, ...)': where Ctrl-C stopped."""
        p = self.last
        text = f"at training step {p.step} of {p.steps}"
        if self.best_step is not None:
            best = self.validations.get(self.best_step)
            score = f", {best:.4f} bits/dim" if best is not None else ""
            text += (f" (kept the weights of step {self.best_step}, the best on the "
                     f"validation rows{score})")
        return text

    def finish(self) -> None:
        """Say when training stopped early, and which step's weights were kept."""
        p = self.last
        if p is None or not _main_process():
            return
        if p.step < p.steps:
            sys.stderr.write(f"training stopped early at step {p.step} of {p.steps}: the "
                             "validation loss stopped improving (--patience)\n")
        if self.best_step is not None:
            best = self.validations.get(self.best_step)
            score = f" ({best:.4f} bits/dim)" if best is not None else ""
            sys.stderr.write(f"kept the weights of step {self.best_step}, the best on the "
                             f"validation rows{score}\n")
        sys.stderr.flush()


def _draw_seed(args) -> int | None:
    return args.sample_seed if args.sample_seed is not None else args.seed


def _complete(model, image, keep_rows: int, args, samples: int | None = None):
    """The completed image; with ``samples``, the :class:`Completions` (drawn)."""
    from .core import complete_rows

    bar = _progress("completing", "rows")
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


def _add_sampling_options(parser) -> None:
    g = parser.add_argument_group("sampling")
    g.add_argument("--sample", action="store_true",
                   help="draw values instead of taking the most probable (or the median)")
    g.add_argument("--temperature", type=float, default=1.0,
                   help="randomness of draws, 0 = deterministic (default %(default)s)")
    g.add_argument("--sample-seed", type=int, default=None,
                   help="seed for the draws only (default: --seed, else random)")


def _print_scores(scores: dict) -> None:
    """The sampling loss, teacher-forced and free-running side by side, units stated;
    the drift warning, if any, on stderr."""
    from .core import drift_warning

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
    line = (f"free-running completion: MSE {scores['free_running_mse']:.5f} "
            f"(intensities in [0, 1]), PSNR {scores['free_running_psnr_db']:.2f} dB")
    if "free_running_pixel_accuracy_pct" in scores:
        line += f", pixel accuracy {scores['free_running_pixel_accuracy_pct']:.2f} %"
    print(line)
    sys.stdout.flush()
    warning = drift_warning(scores)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


CUT = (255, 0, 0)  # the cut's colour in the side-by-side picture


def side_by_side(original: np.ndarray, completed, keep_rows: int,
                 titles=None) -> np.ndarray:
    """original | masked | completed (one or a list of them) as one uint8 picture, each
    panel titled in a white band above it; masked rows shown mid-grey, the cut a red line
    across the masked panel (red ticks in the gaps beside the others) labelled with its
    row number, panels 4 white pixels apart. ``titles``: one per completion (default
    "(a) completion", ...)."""
    from PIL import Image, ImageDraw, ImageFont

    completed = completed if isinstance(completed, (list, tuple)) else [completed]
    if titles is None:
        titles = [f"({chr(97 + k)}) completion" for k in range(len(completed))]
    titles = ["original", f"kept rows, cut at row {keep_rows}", *titles]

    def as_uint8_rgb(image):
        image = image.astype(np.float64)
        low, high = image.min(), image.max()
        image = (image - low) / (high - low) if high > low else image * 0
        image = np.round(image * 255).astype(np.uint8)
        return np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3]

    both = as_uint8_rgb(np.concatenate([original, *completed], axis=1))  # one shared scale
    height, width = original.shape[:2]
    panels = [both[:, k * width:(k + 1) * width] for k in range(1 + len(completed))]
    masked = panels[0].copy()
    masked[keep_rows:] = 128
    masked[keep_rows] = CUT
    panels.insert(1, masked)
    gap = np.full((height, 4, 3), 255, np.uint8)
    gap[keep_rows] = CUT  # a tick beside every panel, at the cut
    body = np.concatenate([x for panel in panels for x in (gap, panel)][1:], axis=1)

    font = ImageFont.load_default()
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = [_wrap(draw, font, title, width) for title in titles]
    line_height = max(draw.textbbox((0, 0), "Ag(b)", font=font)[3], 8) + 2
    band = 4 + line_height * max(len(x) for x in lines)
    picture = Image.fromarray(np.concatenate(
        [np.full((band, body.shape[1], 3), 255, np.uint8), body]))
    draw = ImageDraw.Draw(picture)
    for k, title in enumerate(lines):
        for n, text in enumerate(title):
            draw.text((k * (width + 4) + 1, 2 + n * line_height), text, fill=(0, 0, 0),
                      font=font)
    label = f"row {keep_rows}"  # the cut's number, in the grey below it
    if keep_rows + 2 + line_height <= height:
        draw.text((width + 4 + 2, band + keep_rows + 2), label, fill=CUT, font=font)
    return np.asarray(picture)


def _wrap(draw, font, text: str, width: int) -> list[str]:
    """``text`` in lines that fit ``width`` pixels, broken at spaces (a word too long
    for a line is kept whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width - 2:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]


# The demo's honest completion trains the Row LSTM for fewer steps than its default, so
# that the whole demo takes about a minute on 2 CPU cores.
DEMO_ROW_LSTM_STEPS = 300


def cmd_demo(args) -> int:
    """(a) the lab note's reconstruction experiment: a dense model trained on every row;
    (b) an honest completion: a Row LSTM trained on the rows above the cut only."""
    from .core import evaluate, load_sample
    from .core.io import write_image
    from .core.training import ARCHITECTURE_DEFAULTS

    _retired_keep_rows_only(args, "the demo always shows (b), trained on the rows above "
                                  "the cut only")
    if args.binarize is None:  # the lab note's binary model, unless --values says otherwise
        args.binarize = args.values in (None, "binary") and args.levels is None and \
            args.components is None
    image = load_sample("horse")
    keep = image.shape[0] // 2
    out = _demo_folder(args.out)
    values = _value_settings(args)["values"] or ("binary" if args.binarize else None)
    lstm_steps = args.steps if args.steps is not None else DEMO_ROW_LSTM_STEPS
    runs = [
        ("a", "reconstruction", "dense", None, {},
         (f"the lab note's reconstruction experiment: a dense model trained on all "
          f"{image.shape[0]} rows, the {image.shape[0] - keep} it completes included (it has "
          "seen the rows it completes)")),
        ("b", "completion", "row-lstm", keep, {"steps": lstm_steps},
         f"an honest completion: a Row LSTM trained on the {keep} rows above the cut only, "
         f"{lstm_steps} steps at most" + (
             f" (fewer than its default {ARCHITECTURE_DEFAULTS['row-lstm']['steps']}, to keep "
             "the demo short)" if args.steps is None else "")),
    ]
    if _main_process():
        print(f"horse sample {image.shape}, {values or 'default'} values; keeping the top "
              f"{keep} rows and completing the {image.shape[0] - keep} below, twice: (a) "
              "the lab note's reconstruction experiment, (b) an honest completion", flush=True)
    results = []
    for label, name, architecture, keep_rows, overrides, what in runs:
        if _main_process():
            print(f"({label}) {what}", flush=True)
        model = _train(args, image, keep_rows, architecture, **overrides)
        if not _main_process():
            continue  # torchrun: the first process completes and writes
        completed = _complete(model, image, keep, args)
        write_image(out / f"horse_{name}.png", completed)
        files = [out / f"horse_{name}.png", _save(model, out / f"horse_{name}.pixelrnn")]
        print(f"({label}) scores of the {name}:")
        _print_scores(evaluate(model, image, keep, completed=None if args.sample else completed))
        results.append((completed, files))
    if not _main_process():
        return 0
    panel = out / "horse_side_by_side.png"
    titles = ["(a) dense, trained on all rows", "(b) row-lstm, rows above the cut"]
    write_image(panel, side_by_side(image, [done for done, _ in results], keep, titles))
    print(f"wrote {', '.join(str(f) for _, files in results for f in files)}, {panel} "
          "(original | masked | (a) reconstruction | (b) honest completion)")
    return 0


def _demo_folder(folder) -> Path:
    """The demo's output folder, made (if needed) and tried before any training."""
    from .core import PixelRNNError
    from .core.io import check_writable_folder

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise PixelRNNError(f"Cannot write the demo's files to {out}: it is a file, not a "
                            "folder.")
    if _main_process():
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PixelRNNError(f"Cannot make the folder {out} for the demo's files: "
                                f"{exc.strerror or exc}.") from None
        check_writable_folder(out, f"the demo's files to {out}")
    return out


def _retired_keep_rows_only(args, now: str) -> None:
    """--keep-rows-only is still accepted: say once that it is the default now."""
    if getattr(args, "keep_rows_only", False) and _main_process():
        print(f"note: --keep-rows-only is no longer needed: {now}", file=sys.stderr, flush=True)


def _check_not_input(outputs, inputs) -> None:
    """Input files are never modified: refuse an output that is one of them."""
    from .core import PixelRNNError

    sources = {Path(p).resolve() for p in inputs if Path(p).exists()}
    for output in outputs:
        if output is not None and Path(output).resolve() in sources:
            raise PixelRNNError(f"The output {output} is an input file; inputs are never "
                                "overwritten: choose another name.")


def _name_images(exc, paths) -> str:
    """The core numbers mismatched training images; the command line names their files."""
    message = str(exc)
    numbers = [int(n) for n in re.findall(r"image (\d+) is", message)]
    if len(paths) > 1 and numbers and max(numbers) < len(paths):
        message += " (" + ", ".join(f"image {n}: {paths[n]}" for n in numbers) + ")"
    return message


def cmd_train(args) -> int:
    from .core import PixelRNNError
    from .core.io import check_output, expand_inputs, read_images

    _value_settings(args)  # a contradiction is refused before reading the images
    paths = expand_inputs(args.images)
    _check_not_input([args.output], paths)
    check_output(args.output, "the model", tiff_only=None)
    images = read_images(paths)
    if _main_process() and len(images) > 1:
        print(f"training on {len(images)} images: {paths[0]} ... {paths[-1]}", flush=True)
    try:
        model = _train(args, images if len(images) > 1 else images[0], args.keep_rows,
                       save_on_interrupt=args.output)
    except PixelRNNError as exc:
        raise PixelRNNError(_name_images(exc, paths)) from None
    if not _main_process():
        return 0  # torchrun: the first process writes the model
    spec = model.data
    width = (f"trained on images {spec.width} wide, completes any width"
             if model.architecture == "row-lstm" else f"images {spec.width} wide")
    print(f"wrote {_save(model, args.output)} ({model.architecture}, "
          f"{model.config.values} values, {width}, {spec.channels} channel(s), {spec.dtype})")
    return 0


def cmd_complete(args) -> int:
    from .core import load_model
    from .core.io import read_image

    _check_complete_outputs(args)
    image = read_image(args.image)
    _check_keep_rows_first(image, args)
    _retired_keep_rows_only(args, "training sees only the rows above --keep-rows by "
                                  "default (--train-on-all-rows for every row)")
    if args.model:
        model = load_model(args.model)
    else:
        if args.train_on_all_rows and _main_process():
            print(f"training on all rows, the {_height(image, args) - args.keep_rows} it "
                  "completes included: the lab note's reconstruction experiment (the model "
                  "sees the rows it completes)", flush=True)
        model = _train(args, image, None if args.train_on_all_rows else args.keep_rows,
                       save_on_interrupt=_interrupt_model_path(args.output))
    if not _main_process():
        return 0  # torchrun: the first process completes and writes
    try:
        _complete_and_write(model, image, args)
    except KeyboardInterrupt:
        if args.model:
            raise
        _save_interrupted(model, _interrupt_model_path(args.output),
                          "while completing, after training")
    return 0


def _complete_and_write(model, image, args) -> None:
    from .core import evaluate
    from .core.io import write_image

    if args.samples is None:
        completed = _complete(model, image, args.keep_rows, args)
        write_image(args.output, completed)
        print(f"wrote {args.output}")
    else:
        completed = None
        _write_samples(_complete(model, image, args.keep_rows, args, args.samples), args)
    if args.scores:
        _print_scores(evaluate(model, image, args.keep_rows,
                               completed=None if args.sample else completed))


def _check_complete_outputs(args) -> None:
    """Refuse output names and sampling options that cannot work, before any training."""
    from .core import PixelRNNError
    from .core.io import check_output
    from .core import CompletionConfig

    CompletionConfig(temperature=args.temperature)
    many = args.samples is not None and args.samples > 1
    if args.keep_rows_only and args.train_on_all_rows:
        raise PixelRNNError("--keep-rows-only and --train-on-all-rows contradict each other: "
                            "drop one (training on the kept rows only is the default).")
    if args.model and args.train_on_all_rows:
        raise PixelRNNError("--train-on-all-rows trains a new model; with --model nothing is "
                            "trained: drop one of them.")
    check_output(args.output, f"{args.samples} completions" if many else "the completion",
                 tiff_only=many)
    if args.uncertainty is not None:
        path = args.uncertainty[1]
        if args.samples is None or args.samples < 2:
            raise PixelRNNError("--uncertainty compares several completions: add --samples N "
                                "with N >= 2.")
        check_output(path, "the uncertainty (float32)", tiff_only=True)
    if args.mean is not None:
        if not many:
            raise PixelRNNError("--mean averages several drawn completions: add --samples N "
                                "with N >= 2.")
        check_output(args.mean, "the posterior mean")
    outputs = {"-o": args.output, "--uncertainty": args.uncertainty and args.uncertainty[1],
               "--mean": args.mean}
    named = [(option, Path(path).resolve()) for option, path in outputs.items() if path]
    for k, (option, path) in enumerate(named):
        for other, same in named[:k]:
            if path == same:
                raise PixelRNNError(f"{other} and {option} both name {outputs[option]}: use "
                                    "two files.")
    _check_not_input(list(outputs.values()), [args.image] + ([args.model] if args.model else []))


def _write_samples(completions, args) -> None:
    """The completions as a TIFF stack, most probable first, each one's loss printed."""
    from .core import uncertainty
    from .core.io import write_image

    ranked = completions.ranked()
    stack = ranked.images if len(ranked.images) > 1 or Path(args.output).suffix.lower() in (
        ".tif", ".tiff") else ranked.images[0]
    write_image(args.output, stack)
    print(f"wrote {args.output}: {len(ranked.images)} completion(s) {stack.shape}, most "
          "probable first; each one's mean negative log-likelihood per generated value "
          "under the model:")
    for number, bits in enumerate(ranked.bits_per_dim, start=1):
        print(f"  sample {number}: {bits:.4f} bits/dim")
    if args.mean is not None:
        mean = completions.mean()
        write_image(args.mean, mean)
        print(f"wrote {args.mean}: the posterior mean of the {len(ranked.images)} completions "
              f"(their pixel-wise average, {mean.dtype})")
    if args.uncertainty is not None:
        kind, path = args.uncertainty
        write_image(path, uncertainty(ranked.images, kind))
        unit = "bits (entropy of the samples' values)" if kind == "entropy" else \
            "intensity units (standard deviation across samples)"
        print(f"wrote {path}: per-pixel uncertainty, float32, in {unit}")


def _height(image, args) -> int:
    from .core.data import check_image, image_height

    return image_height(*check_image(image, args.rgb))


def _check_keep_rows_first(image, args) -> None:
    """Refuse a bad --keep-rows before spending minutes on training."""
    from .core.data import check_image, check_keep_rows, image_height

    image, rgb = check_image(image, args.rgb)
    check_keep_rows(args.keep_rows, image_height(image, rgb))


def cmd_evaluate(args) -> int:
    from .core import evaluate, load_model
    from .core.io import read_image

    if not _main_process():
        return 0  # torchrun: nothing to train; the first process evaluates and prints
    scores = evaluate(load_model(args.model), read_image(args.image), args.keep_rows)
    if args.json:
        from .core import drift_warning

        print(json.dumps(scores, indent=2))
        warning = drift_warning(scores)
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    else:
        _print_scores(scores)
    return 0


def _count(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {text!r}")
        return value

    return parse


class _Uncertainty(argparse.Action):
    KINDS = ("std", "entropy")

    def __call__(self, parser, namespace, values, option_string=None):
        kind, path = values
        if kind not in self.KINDS:
            parser.error(f"argument {option_string}: invalid kind {kind!r} (choose from "
                         f"{', '.join(self.KINDS)})")
        setattr(namespace, self.dest, (kind, path))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="napari-pixelrnn", epilog=EPILOG,
        description="Learn an image row by row with an RNN and complete its lower rows.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    kw = {"formatter_class": argparse.RawDescriptionHelpFormatter}

    demo = sub.add_parser(
        "demo", help="train two models on the bundled horse sample and complete it", **kw,
        description="The horse sample, its lower half completed twice: (a) the lab note's "
                    "reconstruction experiment (a dense model trained on every row), (b) an "
                    "honest completion (a Row LSTM trained on the rows above the cut only).",
        epilog="Training options apply to the run(s) whose architecture has them; --steps "
               f"to both (default: the dense default for (a), {DEMO_ROW_LSTM_STEPS} for (b)).")
    demo.add_argument("--out", default="pixelrnn-demo", help="output folder (default %(default)s)")
    _add_training_options(demo, architecture=False)
    _add_sampling_options(demo)
    demo.set_defaults(run=cmd_demo)

    train = sub.add_parser("train", help="train a model on images and save it",
                           epilog=TRAIN_EPILOG, **kw)
    train.add_argument("images", nargs="+", metavar="IMAGE",
                       help="PNG or TIFF image(s), folders of them, or quoted glob patterns")
    train.add_argument("-o", "--output", required=True, help="checkpoint file to write")
    train.add_argument("--keep-rows", type=int, default=None, metavar="N",
                       help="learn only from the top N rows (default: all rows)")
    _add_training_options(train, kept_flag=False)
    train.set_defaults(run=cmd_train)

    comp = sub.add_parser("complete", help="complete an image below --keep-rows")
    comp.add_argument("image", help="PNG or TIFF image")
    comp.add_argument("-o", "--output", required=True, help="PNG or TIFF file to write")
    comp.add_argument("--keep-rows", type=int, required=True, metavar="N",
                      help="rows to keep from the top; the rows below are generated")
    comp.add_argument("--model", help="checkpoint to use (default: train one now, on the rows "
                                      "above --keep-rows only)")
    comp.add_argument("--train-on-all-rows", action="store_true",
                      help="train on every row, the ones to complete included: the lab "
                           "note's reconstruction experiment, not a completion")
    comp.add_argument("--scores", action="store_true", help="also print the sampling loss")
    _add_training_options(comp)
    _add_sampling_options(comp)
    from .core.sampler import MAX_SAMPLES

    g = comp.add_argument_group("several completions")
    g.add_argument("--samples", type=_count(1, MAX_SAMPLES), default=None, metavar="N",
                   help="draw N completions at once and write them as a TIFF stack (N, *shape), "
                        "most probable first, printing each one's bits/dim (default: one "
                        "completion, not drawn unless --sample)")
    g.add_argument("--uncertainty", nargs=2, action=_Uncertainty, metavar=("KIND", "PATH"),
                   help="with --samples N >= 2: write the per-pixel disagreement of the "
                        "samples, KIND std or entropy, as a float32 TIFF")
    g.add_argument("--mean", metavar="PATH",
                   help="with --samples N >= 2: write the posterior mean (the pixel-wise "
                        "average of the samples, in the image's dtype) as a PNG or TIFF")
    comp.set_defaults(run=cmd_complete)

    ev = sub.add_parser("evaluate", help="print the sampling loss of a model on an image")
    ev.add_argument("image", help="PNG or TIFF image")
    ev.add_argument("--model", required=True, help="checkpoint to evaluate")
    ev.add_argument("--keep-rows", type=int, required=True, metavar="N",
                    help="rows kept from the top; the loss is over the rows below")
    ev.add_argument("--json", action="store_true", help="print every score as JSON")
    ev.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from .core import PixelRNNError

    # One torch thread unless --threads says otherwise: with torch's default (one per
    # core), a busy neighbour made OpenMP's spin-waiting threads turn a 6 s job into
    # minutes (docs/benchmarks.md, "A busy neighbour"); the per-row work is small.
    torch.set_num_threads(getattr(args, "threads", None) or 1)

    try:
        return args.run(args)
    except (PixelRNNError, OSError) as exc:
        _error(f"error: {exc}")
        return 2
    except _Interrupted:  # the model trained so far was saved, and it said so
        return 130
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    finally:
        _leave_process_group()


def _error(text: str) -> None:
    """One line on stderr. Under torchrun, an error before training started is the same
    in every process: only the first says it; one during training may be a single
    process's own (its GPU's memory, say): each says it, naming its rank."""
    import torch.distributed as dist

    if dist.is_initialized():
        rank = dist.get_rank()
        print(f"napari-pixelrnn{f' (rank {rank})' if rank else ''}: {text}", file=sys.stderr)
    elif _main_process():
        print(f"napari-pixelrnn: {text}", file=sys.stderr)


def _leave_process_group() -> None:
    """torchrun: training joined a process group; leave it before exiting."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
