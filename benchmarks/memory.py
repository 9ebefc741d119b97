"""Peak resident memory (RSS) training and completing a large RGB image, each in a fresh
process so one peak does not hide the other."""

from __future__ import annotations

import json
import subprocess
import sys

from .common import table

PROBE = """
import json, resource, time, numpy as np
from napari_pixelrnn.core import GenModel, DataSpec, train, complete
size, steps, job = {size}, {steps}, "{job}"
image = np.random.default_rng(0).integers(0, 256, (size, size, 3)).astype(np.uint8)
start = time.perf_counter()
if job == "train":
    train(image, steps=steps, architecture="dense")
    seconds = (time.perf_counter() - start) / steps
else:  # an untrained model of the default size: completion costs the same
    model = GenModel(size * 3, values="continuous").eval()
    model.data = DataSpec("uint8", size, 3, True, 0.0, 255.0, None)
    complete(model, image, size // 2)
    seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"peak": peak, "seconds": seconds}}))
"""


def peak_memory(quick: bool) -> tuple[str, list[str]]:
    size = 256 if quick else 2048
    rows = []
    for job, steps in (("train", 2), ("complete", 0)):
        code = PROBE.format(size=size, steps=steps, job=job)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=1800)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        what = "train (per step)" if job == "train" else f"complete {size // 2} rows"
        rows.append([f"{size}x{size}x3 uint8, continuous", what, result["peak"] / 2**30,
                     result["seconds"]])
    text = table(["image", "job", "peak RSS GiB", "seconds"], rows)
    notes = [("Each job runs in a fresh process; the peak includes Python, torch and the "
             "input image (target <= 2 GB). Before allocating, "
             "training and completion compare an estimate with the memory the system has "
             "available and refuse with a clear message if it does not fit.")]
    return text, notes
