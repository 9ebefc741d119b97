"""The entry point: parse, run the command, turn user errors into one line and status 2."""

from __future__ import annotations

import sys

from .parser import build_parser
from .processes import error, leave_process_group
from .running import Interrupted


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from ..core import PixelRNNError

    # One torch thread unless --threads says otherwise: with torch's default (one per
    # core), a busy neighbour made OpenMP's spin-waiting threads turn a 6 s job into
    # minutes (docs/benchmarks.md, "A busy neighbour"); the per-row work is small.
    torch.set_num_threads(getattr(args, "threads", None) or 1)

    try:
        return args.run(args)
    except (PixelRNNError, OSError) as exc:
        error(f"error: {exc}")
        return 2
    except Interrupted:  # the model trained so far was saved, and it said so
        return 130
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    finally:
        leave_process_group()


if __name__ == "__main__":
    sys.exit(main())
