"""The train, complete and evaluate commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .processes import main_process
from .running import (
    complete,
    interrupt_model_path,
    print_scores,
    print_warnings,
    save,
    save_interrupted,
    train,
    value_settings,
)


def retired_keep_rows_only(args, now: str) -> None:
    """--keep-rows-only is still accepted: say once that it is the default now."""
    if getattr(args, "keep_rows_only", False) and main_process():
        print(f"note: --keep-rows-only is no longer needed: {now}", file=sys.stderr, flush=True)


def _check_not_input(outputs, inputs) -> None:
    """Input files are never modified: refuse an output that is one of them."""
    from ..core import PixelRNNError

    sources = {Path(p).resolve() for p in inputs if Path(p).exists()}
    for output in outputs:
        if output is not None and Path(output).resolve() in sources:
            raise PixelRNNError(f"The output {output} is an input file; inputs are never "
                                "overwritten: choose another name.")


def _name_images(exc, paths) -> str:
    """The core numbers a mismatched training image; the command line names its file."""
    from ..core import ImageMismatchError

    message = str(exc)
    if isinstance(exc, ImageMismatchError) and len(paths) > 1 and exc.index < len(paths):
        message += f" (image 0: {paths[0]}, image {exc.index}: {paths[exc.index]})"
    return message


def cmd_train(args) -> int:
    from ..core import PixelRNNError
    from ..core.io import check_output, expand_inputs, read_images

    value_settings(args)  # a contradiction is refused before reading the images
    paths = expand_inputs(args.images)
    _check_not_input([args.output], paths)
    check_output(args.output, "the model", tiff_only=None)
    images = read_images(paths)
    if main_process() and len(images) > 1:
        print(f"training on {len(images)} images: {paths[0]} ... {paths[-1]}", flush=True)
    try:
        model = train(args, images if len(images) > 1 else images[0], args.keep_rows,
                       save_on_interrupt=args.output)
    except PixelRNNError as exc:
        raise PixelRNNError(_name_images(exc, paths)) from None
    if not main_process():
        return 0  # torchrun: the first process writes the model
    print(f"wrote {save(model, args.output)} ({_what(model)})")
    return 0


def _what(model) -> str:
    """The model in a few words: family, values, widths, channels, dtype."""
    spec = model.data
    width = (f"trained on images {spec.width} wide, completes any width"
             if model.architecture == "row-lstm" else f"images {spec.width} wide")
    return (f"{model.architecture}, {model.config.values} values, {width}, "
            f"{spec.channels} channel(s), {spec.dtype}")


def cmd_info(args) -> int:
    """What a saved model is and how it was trained, without an image."""
    from dataclasses import asdict

    from ..core import load_model
    from ..core.provenance import training_said

    model = load_model(args.model)
    if args.json:
        print(json.dumps({"architecture": model.architecture, "model": asdict(model.config),
                          "data": model.data.to_dict(), "training": model.provenance},
                         indent=2))
    else:
        print(f"{args.model}: {_what(model)}")
        print(training_said(model))
    return 0


def cmd_complete(args) -> int:
    from ..core import load_model
    from ..core.io import read_image
    from ..core.provenance import training_said

    _check_complete_outputs(args)
    image = read_image(args.image)
    _check_keep_rows_first(image, args)
    retired_keep_rows_only(args, "training sees only the rows above --keep-rows by "
                                  "default (--train-on-all-rows for every row)")
    if args.model:
        model = load_model(args.model)
        if main_process():  # what the file says of its training
            print(f"loaded {args.model}. {training_said(model)}", flush=True)
    else:
        if args.train_on_all_rows and main_process():
            print(f"training on all rows, the {_height(image, args) - args.keep_rows} it "
                  "completes included: the lab note's reconstruction experiment (the model "
                  "sees the rows it completes)", flush=True)
        model = train(args, image, None if args.train_on_all_rows else args.keep_rows,
                       save_on_interrupt=interrupt_model_path(args.output))
    if not main_process():
        return 0  # torchrun: the first process completes and writes
    try:
        _complete_and_write(model, image, args)
    except KeyboardInterrupt:
        if args.model:
            raise
        save_interrupted(model, interrupt_model_path(args.output),
                          "while completing, after training")
    return 0


def _complete_and_write(model, image, args) -> None:
    from ..core import evaluate
    from ..core.io import write_image

    if args.samples is None:
        completed = complete(model, image, args.keep_rows, args)
        write_image(args.output, completed)
        print(f"wrote {args.output}")
    else:
        completed = None
        _write_samples(complete(model, image, args.keep_rows, args, args.samples), args)
    if args.scores:
        print_scores(evaluate(model, image, args.keep_rows,
                               completed=None if args.sample else completed))


def _check_complete_outputs(args) -> None:
    """Refuse output names and sampling options that cannot work, before any training."""
    from ..core import CompletionConfig, PixelRNNError
    from ..core.io import check_output

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
    from ..core import uncertainty
    from ..core.io import write_image

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
    from ..core.data import check_image, image_height

    return image_height(*check_image(image, args.rgb))


def _check_keep_rows_first(image, args) -> None:
    """Refuse a bad --keep-rows before spending minutes on training."""
    from ..core.data import check_image, check_keep_rows, image_height

    image, rgb = check_image(image, args.rgb)
    check_keep_rows(args.keep_rows, image_height(image, rgb))


def cmd_evaluate(args) -> int:
    from ..core import evaluate, load_model
    from ..core.io import read_image

    if not main_process():
        return 0  # torchrun: nothing to train; the first process evaluates and prints
    scores = evaluate(load_model(args.model), read_image(args.image), args.keep_rows)
    if args.json:
        print(json.dumps(scores, indent=2))
        print_warnings(scores)
    else:
        print_scores(scores)
    return 0
