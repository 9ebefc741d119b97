"""The command line: ``napari-pixelrnn demo | train | complete | evaluate``.

Bad input prints one line on stderr and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

EPILOG = "Run 'napari-pixelrnn COMMAND -h' for a command's options."


def _progress(label: str):
    """A progress callback printing to stderr, redrawn in place on a terminal."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def report(done: int, total: int, extra: str = "") -> None:
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
    g.add_argument("--seed", type=int, default=d.seed)
    g.add_argument("--device", default=d.device, help="auto, cpu, cuda or mps")
    g.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")


def _train(args, image, keep_rows: int | None):
    from .core import train

    bar = _progress("training")
    return train(
        image, keep_rows=keep_rows, steps=args.steps, lr=args.lr,
        hidden_size=args.hidden_size, num_layers=args.num_layers, cell=args.cell,
        mode=args.mode, context=args.context, bidirectional=args.bidirectional,
        batch_norm=args.batch_norm, binarize=args.binarize, rgb=args.rgb, seed=args.seed,
        device=args.device, threads=args.threads,
        progress=lambda p: bar(p.step, p.steps, f"loss {p.loss:.4f} nats/dim"),
    )


def _complete(model, image, keep_rows: int, args) -> np.ndarray:
    from .core import complete_rows

    bar = _progress("completing")
    rows = complete_rows(model, image, keep_rows, sample=args.sample,
                         temperature=args.temperature, seed=args.sample_seed)
    while True:
        try:
            row = next(rows)
        except StopIteration as done:
            return done.value
        bar(row.index + 1 - keep_rows, row.total - keep_rows)  # rows generated so far


def _add_sampling_options(parser) -> None:
    g = parser.add_argument_group("sampling")
    g.add_argument("--sample", action="store_true", help="draw values instead of the most probable")
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--sample-seed", type=int, default=None)


def _print_scores(scores: dict) -> None:
    print(json.dumps(scores, indent=2))


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

    image = load_sample("horse")
    keep = image.shape[0] // 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    what = "rows above the cut only (honest completion)" if args.train_on_kept else \
        "all rows (the lab note's reconstruction experiment; add --keep-rows-only for honest completion)"
    print(f"horse sample {image.shape}, binarized; keeping the top {keep} rows; training on {what}")
    model = _train(args, image, keep if args.train_on_kept else None)
    completed = _complete(model, image, keep, args)
    write_image(out / "horse_completed.png", completed)
    write_image(out / "horse_side_by_side.png", side_by_side(image, completed, keep))
    save_model(model, out / "horse.pixelrnn")
    scores = evaluate(model, image, keep, completed=None if args.sample else completed)
    print(f"sampling loss on the {scores['masked_rows']} masked rows: "
          f"teacher-forced {scores['teacher_forced_bits_per_dim']:.4f} bits/dim, "
          f"free-running pixel accuracy {scores['free_running_pixel_accuracy_pct']:.2f} %, "
          f"MSE {scores['free_running_mse']:.5f} (intensities in [0, 1])")
    print(f"wrote {out / 'horse_completed.png'}, {out / 'horse_side_by_side.png'}, "
          f"{out / 'horse.pixelrnn'}")
    return 0


def cmd_train(args) -> int:
    from .core import save_model
    from .core.io import read_image

    image = read_image(args.image)
    model = _train(args, image, args.keep_rows)
    print(f"wrote {save_model(model, args.output)}")
    return 0


def cmd_complete(args) -> int:
    from .core import evaluate, load_model
    from .core.io import read_image, write_image

    image = read_image(args.image)
    _check_keep_rows_first(image, args)
    if args.model:
        model = load_model(args.model)
    else:
        model = _train(args, image, args.keep_rows if args.train_on_kept else None)
    completed = _complete(model, image, args.keep_rows, args)
    write_image(args.output, completed)
    print(f"wrote {args.output}")
    if args.scores:
        _print_scores(evaluate(model, image, args.keep_rows,
                               completed=None if args.sample else completed))
    return 0


def _check_keep_rows_first(image, args) -> None:
    """Refuse a bad --keep-rows before spending minutes on training."""
    from .core.data import check_image, check_keep_rows, image_height

    image, rgb = check_image(image, args.rgb)
    check_keep_rows(args.keep_rows, image_height(image, rgb))


def cmd_evaluate(args) -> int:
    from .core import evaluate, load_model
    from .core.io import read_image

    _print_scores(evaluate(load_model(args.model), read_image(args.image), args.keep_rows))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="napari-pixelrnn", epilog=EPILOG,
        description="Learn an image row by row with an RNN and complete its lower rows.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="train on the bundled horse sample and complete it")
    demo.add_argument("--out", default="pixelrnn-demo", help="output folder (default %(default)s)")
    _add_training_options(demo)
    _add_sampling_options(demo)
    demo.set_defaults(run=cmd_demo, binarize=True)

    train = sub.add_parser("train", help="train a model on an image and save it")
    train.add_argument("image", help="PNG or TIFF image")
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
    comp.set_defaults(run=cmd_complete)

    ev = sub.add_parser("evaluate", help="print the sampling loss of a model on an image")
    ev.add_argument("image")
    ev.add_argument("--model", required=True)
    ev.add_argument("--keep-rows", type=int, required=True)
    ev.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .core import PixelRNNError

    try:
        return args.run(args)
    except PixelRNNError as exc:
        print(f"napari-pixelrnn: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"napari-pixelrnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-pixelrnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
