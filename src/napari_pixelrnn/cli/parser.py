"""The argument parser: commands, their options, and the option groups they share.

The training options are checked against :class:`~napari_pixelrnn.core.TrainConfig` by a test:
one option per field, choices from the core's tuples."""

from __future__ import annotations

import argparse

from .commands import cmd_complete, cmd_evaluate, cmd_train
from .demo import DEMO_ROW_LSTM_STEPS, cmd_demo

EPILOG = "Run 'napari-pixelrnn COMMAND -h' for a command's options."


TRAIN_EPILOG = """\
Several images: a folder (its .png/.tif/.tiff files, sorted by name), a quoted glob
pattern such as "imgs/*.png" (expanded here, sorted), or several paths. They must share
width, channels and dtype; heights may differ.

Data-parallel training on several processes (GPUs, or CPU cores) with torchrun: every
process trains on its share of each batch; only the first writes the model and prints.
  torchrun --nproc_per_node=2 -m napari_pixelrnn train imgs/ -o model.pixelrnn
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error like any other bad input: one line, status 2
    (plain argparse prints the usage block first)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} -h')\n")


def _defaults_help(name: str) -> str:
    """'dense D, row-lstm R': an architecture-dependent default, for help texts."""
    from ..core.training import ARCHITECTURE_DEFAULTS

    return ", ".join(f"{arch} {values[name]:g}" for arch, values in ARCHITECTURE_DEFAULTS.items())


def _add_training_options(parser: argparse.ArgumentParser, kept_flag: bool = True,
                          architecture: bool = True) -> None:
    """The training options, one per TrainConfig field. Every default is None here (so
    that what was given can be told from what was not); the help shows the core's."""
    from ..core import TrainConfig
    from ..core.config import CHOICES
    from ..core.training import ARCHITECTURES
    from ..core.values import VALUE_KINDS

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
    g.add_argument("--prior", choices=CHOICES["prior"],
                   help=f"[row-lstm] what each intensity's distribution starts from: edge "
                        f"(a lossless codec's guess from the neighbours) or above (the "
                        f"value above) (default {d.prior})")
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


def _add_sampling_options(parser) -> None:
    g = parser.add_argument_group("sampling")
    g.add_argument("--sample", action="store_true",
                   help="draw values instead of taking the most probable (or the median)")
    g.add_argument("--temperature", type=float, default=1.0,
                   help="randomness of draws, 0 = deterministic (default %(default)s)")
    g.add_argument("--sample-seed", type=int, default=None,
                   help="seed for the draws only (default: --seed, else random)")


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
    from .. import __version__

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
    from ..core.sampler import MAX_SAMPLES

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
