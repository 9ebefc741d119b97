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


def _progress(label: str):
    """A progress callback printing to stderr, redrawn in place on a terminal."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def report(done: int, total: int, extra: str = "") -> None:
        if not _main_process():
            return
        now = time.monotonic()
        if done != total and now - last[0] < (0.1 if tty else 5.0):
            return
        last[0] = now
        width = 30
        bar = "#" * (width * done // total)
        line = f"{label} [{bar:<{width}}] {done}/{total} {extra}"
        sys.stderr.write(("\r" + line) if tty else (line + "\n"))
        if tty and done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error like any other bad input: one line, status 2
    (plain argparse prints the usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} -h')\n")


def _add_training_options(parser: argparse.ArgumentParser, kept_flag: bool = True) -> None:
    from .core import TrainConfig

    d = TrainConfig()
    g = parser.add_argument_group("training")
    if kept_flag:
        g.add_argument("--keep-rows-only", dest="train_on_kept", action="store_true",
                   help="learn only from the kept rows (honest completion)")
    g.add_argument("--steps", type=int, default=d.steps, help=f"optimizer steps (default {d.steps})")
    g.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    g.add_argument("--hidden-size", type=int, default=d.hidden_size)
    g.add_argument("--num-layers", type=int, default=d.num_layers)
    g.add_argument("--cell", default=d.cell, help="lstm, gru or rnn (default %(default)s)")
    g.add_argument("--mode", default=d.mode, help="many-to-many or many-to-one (default %(default)s)")
    g.add_argument("--context", type=int, default=d.context, help="many-to-one window (rows)")
    g.add_argument("--bidirectional", action="store_true", help="many-to-one only")
    g.add_argument("--no-batch-norm", dest="batch_norm", action="store_false")
    g.add_argument("--binarize", nargs="?", const=True, default=False, type=float,
                   metavar="THRESHOLD", help="binarize (Otsu, or THRESHOLD in (0, 1))")
    g.add_argument("--rgb", action=argparse.BooleanOptionalAction, default=None,
                   help="last axis is colour (default: guess)")
    g.add_argument("--values", choices=("binary", "continuous", "levels"), default=None,
                   help="value model: binary (Bernoulli, implies Otsu binarization), "
                        "continuous (discretized logistic) or levels (a K-way softmax); "
                        "default: binary with --binarize, else continuous")
    g.add_argument("--levels", type=int, default=None, metavar="K",
                   help=f"--values levels: K intensities, 2..256 (default {d.levels}; "
                        "implies --values levels)")
    g.add_argument("--within-row", choices=("independent", "autoregressive"),
                   default=d.within_row,
                   help="values of a row independent given the rows above, or generated "
                        "left to right (R -> G -> B) (default %(default)s)")
    g.add_argument("--granularity", choices=("row", "pixel"), default=d.granularity,
                   help="one RNN step per row, or per pixel (grayscale, at most 128 x 128 "
                        "pixels per image) (default %(default)s)")
    g.add_argument("--seed", type=int, default=None,
                   help=f"seed for training (default {d.seed}); in complete and demo also "
                        "for the draws, unless --sample-seed is given (default: random)")
    g.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"slices or images per step (default {d.batch_size}); under torchrun "
                        "each step's batch is split between the processes")
    g.add_argument("--device", default=d.device, help="auto, cpu, cuda or mps")
    g.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")


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
    settings = {"values": values}
    if args.levels is not None:
        settings["levels"] = args.levels
    return settings


def _train(args, images, keep_rows: int | None):
    """Train on one image or a list; the settings' errors come before any work."""
    from .core import TrainConfig, train

    bar = _progress("training")
    return train(
        images, keep_rows=keep_rows, steps=args.steps, lr=args.lr,
        hidden_size=args.hidden_size, num_layers=args.num_layers, cell=args.cell,
        mode=args.mode, context=args.context, bidirectional=args.bidirectional,
        batch_norm=args.batch_norm, binarize=args.binarize, rgb=args.rgb,
        seed=TrainConfig().seed if args.seed is None else args.seed,
        device=args.device, threads=args.threads, batch_size=args.batch_size,
        within_row=args.within_row,
        granularity=args.granularity, **_value_settings(args),
        progress=lambda p: bar(p.step, p.steps, f"loss {p.loss:.4f} nats/dim"),
    )


def _draw_seed(args) -> int | None:
    return args.sample_seed if args.sample_seed is not None else args.seed


def _complete(model, image, keep_rows: int, args, samples: int | None = None):
    """The completed image; with ``samples``, the :class:`Completions` (drawn)."""
    from .core import complete_rows

    bar = _progress("completing")
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
    g.add_argument("--sample", action="store_true", help="draw values instead of the most probable")
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


def side_by_side(original: np.ndarray, completed: np.ndarray, keep_rows: int) -> np.ndarray:
    """original | masked | completed as one uint8 picture; masked rows shown mid-grey."""
    def as_uint8_rgb(image):
        image = image.astype(np.float64)
        low, high = image.min(), image.max()
        image = (image - low) / (high - low) if high > low else image * 0
        image = np.round(image * 255).astype(np.uint8)
        return np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3]

    both = as_uint8_rgb(np.concatenate([original, completed], axis=1))  # one shared scale
    width = original.shape[1]
    left, right = both[:, :width], both[:, width:]
    masked = left.copy()
    masked[keep_rows:] = 128
    masked[keep_rows] = (255, 0, 0)  # the cut
    gap = np.full((left.shape[0], 4, 3), 255, np.uint8)
    return np.concatenate([left, gap, masked, gap, right], axis=1)


def cmd_demo(args) -> int:
    from .core import evaluate, load_sample, save_model
    from .core.io import write_image

    if args.binarize is None:  # the lab note's binary model, unless --values says otherwise
        args.binarize = args.values in (None, "binary") and args.levels is None
    image = load_sample("horse")
    keep = image.shape[0] // 2
    out = Path(args.out)
    what = "rows above the cut only (honest completion)" if args.train_on_kept else \
        "all rows (the lab note's reconstruction experiment; add --keep-rows-only for honest completion)"
    if _main_process():
        values = _value_settings(args)["values"] or ("binary" if args.binarize else "continuous")
        print(f"horse sample {image.shape}, {values} values; keeping the top {keep} rows; "
              f"training on {what}", flush=True)
    model = _train(args, image, keep if args.train_on_kept else None)
    if not _main_process():
        return 0  # torchrun: the first process completes and writes
    out.mkdir(parents=True, exist_ok=True)
    completed = _complete(model, image, keep, args)
    write_image(out / "horse_completed.png", completed)
    write_image(out / "horse_side_by_side.png", side_by_side(image, completed, keep))
    save_model(model, out / "horse.pixelrnn")
    _print_scores(evaluate(model, image, keep, completed=None if args.sample else completed))
    print(f"wrote {out / 'horse_completed.png'}, {out / 'horse_side_by_side.png'}, "
          f"{out / 'horse.pixelrnn'}")
    return 0


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
    from .core import PixelRNNError, save_model
    from .core.io import expand_inputs, read_images

    _value_settings(args)  # a contradiction is refused before reading the images
    paths = expand_inputs(args.images)
    _check_not_input([args.output], paths)
    images = read_images(paths)
    if _main_process() and len(images) > 1:
        print(f"training on {len(images)} images: {paths[0]} ... {paths[-1]}", flush=True)
    try:
        model = _train(args, images if len(images) > 1 else images[0], args.keep_rows)
    except PixelRNNError as exc:
        raise PixelRNNError(_name_images(exc, paths)) from None
    if not _main_process():
        return 0  # torchrun: the first process writes the model
    spec = model.data
    print(f"wrote {save_model(model, args.output)} ({model.config.values} values, images "
          f"{spec.width} wide with {spec.channels} channel(s), {spec.dtype})")
    return 0


def cmd_complete(args) -> int:
    from .core import evaluate, load_model
    from .core.io import read_image, write_image

    _check_complete_outputs(args)
    image = read_image(args.image)
    _check_keep_rows_first(image, args)
    if args.model:
        model = load_model(args.model)
    else:
        model = _train(args, image, args.keep_rows if args.train_on_kept else None)
    if not _main_process():
        return 0  # torchrun: the first process completes and writes
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
    return 0


def _check_complete_outputs(args) -> None:
    """Refuse output names and sampling options that cannot work, before any training."""
    from .core import PixelRNNError
    from .core.io import check_output
    from .core.sampler import _check_temperature

    _check_temperature(args.temperature)
    many = args.samples is not None and args.samples > 1
    check_output(args.output, f"{args.samples} completions" if many else "the completion",
                 tiff_only=many)
    if args.uncertainty is not None:
        kind, path = args.uncertainty
        if args.samples is None or args.samples < 2:
            raise PixelRNNError("--uncertainty compares several completions: add --samples N "
                                "with N >= 2.")
        check_output(path, "the uncertainty (float32)", tiff_only=True)
        if Path(path).resolve() == Path(args.output).resolve():
            raise PixelRNNError(f"--uncertainty and -o both name {path}: use two files.")
    _check_not_input([args.output, args.uncertainty and args.uncertainty[1]],
                     [args.image] + ([args.model] if args.model else []))


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
    if args.uncertainty is not None:
        kind, path = args.uncertainty
        write_image(path, uncertainty(ranked.images, kind))
        unit = "bits (entropy of the samples' values)" if kind == "entropy" else \
            "intensity units (standard deviation across samples)"
        print(f"wrote {path}: per-pixel uncertainty, float32, in {unit}")


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
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train on the bundled horse sample and complete it")
    demo.add_argument("--out", default="pixelrnn-demo", help="output folder (default %(default)s)")
    _add_training_options(demo)
    _add_sampling_options(demo)
    demo.set_defaults(run=cmd_demo, binarize=None)

    train = sub.add_parser("train", help="train a model on images and save it",
                           epilog=TRAIN_EPILOG,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("images", nargs="+", metavar="IMAGE",
                       help="PNG or TIFF image(s), folders of them, or quoted glob patterns")
    train.add_argument("-o", "--output", required=True, help="checkpoint file to write")
    train.add_argument("--keep-rows", type=int, default=None,
                       help="learn only from the top N rows (default: all rows)")
    _add_training_options(train, kept_flag=False)
    train.set_defaults(run=cmd_train)

    comp = sub.add_parser("complete", help="complete an image below --keep-rows")
    comp.add_argument("image", help="PNG or TIFF image")
    comp.add_argument("-o", "--output", required=True, help="PNG or TIFF file to write")
    comp.add_argument("--keep-rows", type=int, required=True, help="rows to keep from the top")
    comp.add_argument("--model", help="checkpoint to use (default: train one now)")
    comp.add_argument("--scores", action="store_true", help="also print the sampling loss")
    _add_training_options(comp)
    _add_sampling_options(comp)
    from .core.sampler import MAX_SAMPLES

    g = comp.add_argument_group("several completions")
    g.add_argument("--samples", type=_count(1, MAX_SAMPLES), default=None, metavar="N",
                   help="draw N completions at once and write them as a TIFF stack (N, *shape), "
                        "most probable first, printing each one's bits/dim")
    g.add_argument("--uncertainty", nargs=2, action=_Uncertainty, metavar=("KIND", "PATH"),
                   help="with --samples N >= 2: write the per-pixel disagreement of the "
                        "samples, KIND std or entropy, as a float32 TIFF")
    comp.set_defaults(run=cmd_complete)

    ev = sub.add_parser("evaluate", help="print the sampling loss of a model on an image")
    ev.add_argument("image")
    ev.add_argument("--model", required=True)
    ev.add_argument("--keep-rows", type=int, required=True)
    ev.add_argument("--json", action="store_true", help="print every score as JSON")
    ev.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .core import PixelRNNError

    try:
        return args.run(args)
    except (PixelRNNError, OSError) as exc:
        _error(f"error: {exc}")
        return 2
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
