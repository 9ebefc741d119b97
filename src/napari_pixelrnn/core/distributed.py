"""Data-parallel training under ``torchrun``: each process takes its share of every batch.

``torchrun --nproc_per_node=N`` starts N copies of the same training with ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK`` set. Every process draws the same batch from the same seeded
generator and computes the loss of its slice of it, weighted so that the average the
gradient all-reduce takes is the whole batch's mean loss: N processes compute the same
steps as one process would (up to floating-point summation order).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import inspect
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Group:
    rank: int
    size: int

    def share(self, count: int) -> slice:
        """This process's part of a batch of ``count`` items (every process gets one)."""
        return slice(self.rank, count, self.size)


def launched() -> bool:
    """Whether this process was started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def join(device: torch.device) -> Group | None:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA); None when alone."""
    if not launched():
        return None
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # Destroy it before the interpreter shuts down, as torch asks: a gloo group left
        # to the exit holds tensors in its worker threads, and freeing them during
        # finalization can abort the process (SIGABRT, "terminate called without an
        # active exception": once in a CI run of test_distributed.py)
        atexit.register(_leave)
    return Group(dist.get_rank(), dist.get_world_size())


def _leave() -> None:
    """Leave together, then destroy the group. The barrier gives up after a minute (a
    process that failed never comes; torchrun then ends the others anyway)."""
    if not dist.is_initialized():
        return
    with contextlib.suppress(RuntimeError):
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
        else:
            dist.barrier()
    dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """Under torchrun each process takes the GPU of its local rank."""
    if launched() and device.type == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def is_main() -> bool:
    """Only the first process writes files and prints."""
    return not dist.is_initialized() or dist.get_rank() == 0


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum over processes (in place); the tensor unchanged when alone."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor)
    return tensor


def data_parallel(model: torch.nn.Module) -> DistributedDataParallel:
    """Wrap ``model`` so backward averages gradients over processes. Buffers are not
    broadcast before each forward: CausalBatchNorm keeps them equal by all-reducing its
    statistics (the option was renamed in torch 2.13)."""
    if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
        return DistributedDataParallel(model, forward_sync_buffers=False)
    return DistributedDataParallel(model, broadcast_buffers=False)
