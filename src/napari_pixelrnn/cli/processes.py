"""torchrun: which process speaks and writes, and leaving the process group."""

from __future__ import annotations

import os
import sys


def main_process() -> bool:
    """False in every process but the first under torchrun: those train, then exit 0
    without printing or writing anything. Before training has joined the process group,
    torchrun's RANK says which process this is."""
    from ..core.distributed import is_main

    return is_main() and int(os.environ.get("RANK", "0") or 0) == 0


def error(text: str) -> None:
    """One line on stderr. Under torchrun, an error before training started is the same
    in every process: only the first says it; one during training may be a single
    process's own (its GPU's memory, say): each says it, naming its rank."""
    import torch.distributed as dist

    if dist.is_initialized():
        rank = dist.get_rank()
        print(f"napari-pixelrnn{f' (rank {rank})' if rank else ''}: {text}", file=sys.stderr)
    elif main_process():
        print(f"napari-pixelrnn: {text}", file=sys.stderr)


def leave_process_group() -> None:
    """torchrun: training joined a process group; leave it before exiting."""
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
