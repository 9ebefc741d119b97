"""Training under torchrun with 2 CPU processes (gloo) computes what one process does."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from napari_pixelrnn.core import load_model, train

from .ddp_job import SETTINGS, dataset


def test_two_processes_train_the_same_model_as_one(tmp_path):
    out = tmp_path / "ddp.pixelrnn"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(Path(__file__).parents[2]))
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "tests.core.ddp_job", str(out)], check=False,
        capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr[-3000:]
    together = load_model(out).state_dict()
    alone = train(dataset(), **SETTINGS, architecture="dense").state_dict()
    untrained = train(dataset(), **{**SETTINGS, "steps": 1, "lr": 1e-12}, architecture="dense").state_dict()
    for name, weights in alone.items():
        torch.testing.assert_close(together[name], weights, rtol=1e-4, atol=1e-5, msg=name)
    # the comparison can fail: 8 steps move the weights far beyond the tolerance
    moved = max((alone[k] - untrained[k]).abs().max() for k in alone if alone[k].is_floating_point())
    assert moved > 1e-2
