"""The demo command: the horse sample completed by the lab note's dense model and by
the Row LSTM, side by side."""

from __future__ import annotations

from pathlib import Path

from .commands import retired_keep_rows_only
from .picture import side_by_side
from .processes import main_process
from .running import complete, print_scores, save, train, value_settings

# The demo's honest completion trains the Row LSTM for fewer steps than its default, so
# that the whole demo takes about a minute on 2 CPU cores.
DEMO_ROW_LSTM_STEPS = 300


def cmd_demo(args) -> int:
    """(a) the lab note's reconstruction experiment: a dense model trained on every row;
    (b) an honest completion: a Row LSTM trained on the rows above the cut only."""
    from ..core import evaluate, load_sample
    from ..core.io import write_image
    from ..core.training import ARCHITECTURE_DEFAULTS

    retired_keep_rows_only(args, "the demo always shows (b), trained on the rows above "
                                  "the cut only")
    if args.binarize is None:  # the lab note's binary model, unless --values says otherwise
        args.binarize = args.values in (None, "binary") and args.levels is None and \
            args.components is None
    image = load_sample("horse")
    keep = image.shape[0] // 2
    out = _demo_folder(args.out)
    values = value_settings(args)["values"] or ("binary" if args.binarize else None)
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
    if main_process():
        print(f"horse sample {image.shape}, {values or 'default'} values; keeping the top "
              f"{keep} rows and completing the {image.shape[0] - keep} below, twice: (a) "
              "the lab note's reconstruction experiment, (b) an honest completion", flush=True)
    results = []
    for label, name, architecture, keep_rows, overrides, what in runs:
        if main_process():
            print(f"({label}) {what}", flush=True)
        model = train(args, image, keep_rows, architecture, **overrides)
        if not main_process():
            continue  # torchrun: the first process completes and writes
        completed = complete(model, image, keep, args)
        write_image(out / f"horse_{name}.png", completed)
        files = [out / f"horse_{name}.png", save(model, out / f"horse_{name}.pixelrnn")]
        print(f"({label}) scores of the {name}:")
        print_scores(evaluate(model, image, keep, completed=None if args.sample else completed))
        results.append((completed, files))
    if not main_process():
        return 0
    panel = out / "horse_side_by_side.png"
    titles = ["(a) dense, trained on all rows", "(b) row-lstm, rows above the cut"]
    write_image(panel, side_by_side(image, [done for done, _ in results], keep, titles))
    print(f"wrote {', '.join(str(f) for _, files in results for f in files)}, {panel} "
          "(original | masked | (a) reconstruction | (b) honest completion)")
    return 0


def _demo_folder(folder) -> Path:
    """The demo's output folder, made (if needed) and tried before any training."""
    from ..core import PixelRNNError
    from ..core.io import check_writable_folder

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise PixelRNNError(f"Cannot write the demo's files to {out}: it is a file, not a "
                            "folder.")
    if main_process():
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PixelRNNError(f"Cannot make the folder {out} for the demo's files: "
                                f"{exc.strerror or exc}.") from None
        check_writable_folder(out, f"the demo's files to {out}")
    return out
