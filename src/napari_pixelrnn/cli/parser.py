"""The argument parser: commands, their options, and the option groups they share.

The training options are checked against :class:`~napari_pixelrnn.core.TrainConfig` by a test:
one option per field, choices from the core's tuples."""

from __future__ import annotations

import argparse

from .commands import cmd_complete, cmd_evaluate, cmd_info, cmd_train
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


def _training_options() -> dict[str, dict]:
    """The training options in the order -h lists them: a TrainConfig field's name (the
    flag, unless "flag" says otherwise) -> argparse's keywords. Every default but the
    architecture's is None, so that what was given can be told from what was not."""
    from ..core import TrainConfig
    from ..core.config import ARCHITECTURES, CHOICES

    def listed(name: str) -> str:  # the core checks these itself; -h shows its choices
        return "{" + ",".join(CHOICES[name]) + "}"

    return {
        "architecture": {"choices": ARCHITECTURES, "default": TrainConfig().architecture},
        "steps": {"type": int},
        "lr": {"type": float},
        "hidden_size": {"type": int},
        "num_layers": {"type": int},
        "dropout": {"type": float},
        "weight_decay": {"type": float},
        "kernel": {"type": int},
        "prior": {"choices": CHOICES["prior"]},
        "pretrained": {"action": argparse.BooleanOptionalAction, "default": None},
        "crop": {"type": int},
        "flip": {"action": argparse.BooleanOptionalAction, "default": None},
        "rotate": {"action": argparse.BooleanOptionalAction, "default": None},
        "calibrate": {"action": argparse.BooleanOptionalAction, "default": None},
        "input_noise": {"type": float, "metavar": "STD"},
        "own_rows": {"type": float, "metavar": "SHARE"},
        "validation": {"type": float, "metavar": "SHARE"},
        "patience": {"type": int},
        "cell": {"metavar": listed("cell")},
        "mode": {"metavar": listed("mode")},
        "context": {"type": int},
        "bidirectional": {"action": "store_true", "default": None},
        "batch_norm": {"flag": "--no-batch-norm", "action": "store_false", "default": None},
        "within_row": {"choices": CHOICES["within_row"]},
        "granularity": {"choices": CHOICES["granularity"]},
        "binarize": {"nargs": "?", "const": True, "type": float, "metavar": "THRESHOLD"},
        "rgb": {"action": argparse.BooleanOptionalAction, "default": None},
        "values": {"choices": CHOICES["values"]},
        "levels": {"type": int, "metavar": "K"},
        "components": {"type": int, "metavar": "K"},
        "seed": {"type": int},
        "batch_size": {"type": int},
        "device": {},
        "threads": {"type": int},
    }


def _defaults() -> dict[str, str]:
    """How -h states a default: the core's, unless the option's own note says more."""
    from dataclasses import asdict

    from ..core import TrainConfig
    from ..core.config import ARCHITECTURE_DEFAULTS, INTENSITIES, PRETRAINED_LR

    d = TrainConfig()
    per_architecture = {name: "default: " + ", ".join(
        f"{arch} {values[name]:g}" for arch, values in ARCHITECTURE_DEFAULTS.items())
        for name in ARCHITECTURE_DEFAULTS[d.architecture]}
    intensities = " or ".join(f"{kind} ({arch})" for arch, kind in INTENSITIES.items())
    per_architecture["lr"] += f"; {PRETRAINED_LR:g} with --pretrained"
    return {name: f"default {value}" for name, value in asdict(d).items()} | per_architecture | {
        "keep_rows": "default: all rows", "architecture": "default %(default)s",
        "batch_norm": "default: on; this option turns it off",
        "binarize": "default: no; THRESHOLD in (0, 1), or Otsu's when left out",
        "rgb": "default: guess",
        "values": f"default: binary with --binarize, else {intensities}",
        "levels": f"default {d.levels}; implies --values levels",
        "within_row": f"default {d.within_row}; the row-lstm always generates left to right",
        "seed": f"default {d.seed}; in complete and demo also seeds the draws, unless "
                "--sample-seed is given",
        "batch_size": f"default {d.batch_size}; under torchrun each step's batch is split "
                      "between the processes",
        "threads": "default 1: more threads spin-wait and slow everything down when "
                   "another process is busy",
    }


def _help(name: str, defaults: dict[str, str]) -> str:
    """A training setting's help: [its architecture], the core's description, (default)."""
    from ..core import owner
    from ..core.descriptions import DESCRIPTIONS

    tag = f"[{owner(name)}] " if owner(name) else ""
    return f"{tag}{DESCRIPTIONS[name]} ({defaults[name]})"


def _add_training_options(parser: argparse.ArgumentParser, kept_flag: bool = True,
                          architecture: bool = True) -> None:
    """The training options, one per TrainConfig field (the cut aside): see
    :func:`_training_options`; their help comes from the core's descriptions."""
    g = parser.add_argument_group(
        "training", "Options marked [dense] or [row-lstm] apply to that architecture only.")
    if kept_flag:  # retired: training on the kept rows only is the default
        g.add_argument("--keep-rows-only", action="store_true", help=argparse.SUPPRESS)
    defaults = _defaults()
    for name, options in _training_options().items():
        if name != "architecture" or architecture:
            flag = options.pop("flag", "--" + name.replace("_", "-"))
            g.add_argument(flag, dest=name, help=_help(name, defaults), **options)


def _add_sampling_options(parser) -> None:
    from ..core.descriptions import COMPLETION_DESCRIPTIONS as TEXT

    g = parser.add_argument_group("sampling")
    g.add_argument("--sample", action="store_true", help=TEXT["sample"])
    g.add_argument("--temperature", type=float, default=1.0,
                   help=TEXT["temperature"] + " (default %(default)s)")
    g.add_argument("--sample-seed", type=int, default=None,
                   help=TEXT["seed"] + " (default: --seed, else random)")


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
                       help=_help("keep_rows", _defaults()))
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
    from ..core.descriptions import COMPLETION_DESCRIPTIONS as TEXT
    from ..core.sampler import MAX_SAMPLES

    g = comp.add_argument_group("several completions")
    g.add_argument("--samples", type=_count(1, MAX_SAMPLES), default=None, metavar="N",
                   help=TEXT["samples"] + ", written as a TIFF stack (N, *shape) (default: "
                        "one completion, not drawn unless --sample)")
    g.add_argument("--uncertainty", nargs=2, action=_Uncertainty, metavar=("KIND", "PATH"),
                   help=TEXT["uncertainty"] + ", written to PATH as a float32 TIFF")
    g.add_argument("--mean", metavar="PATH",
                   help=TEXT["mean"] + ", in the image's dtype, written to PATH (PNG or TIFF)")
    comp.set_defaults(run=cmd_complete)

    ev = sub.add_parser("evaluate", help="print the sampling loss of a model on an image")
    ev.add_argument("image", help="PNG or TIFF image")
    ev.add_argument("--model", required=True, help="checkpoint to evaluate")
    ev.add_argument("--keep-rows", type=int, required=True, metavar="N",
                    help="rows kept from the top; the loss is over the rows below")
    ev.add_argument("--json", action="store_true", help="print every score as JSON")
    ev.set_defaults(run=cmd_evaluate)

    info = sub.add_parser("info", help="say what a saved model is and how it was trained")
    info.add_argument("model", help="checkpoint file")
    info.add_argument("--json", action="store_true",
                      help="print its settings, data and training record as JSON")
    info.set_defaults(run=cmd_info)
    return parser
