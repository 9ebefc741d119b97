"""Sampler against its limits, and training time to quality."""

from __future__ import annotations

import time

import numpy as np
import torch

from napari_pixelrnn.core import (
    GenModel,
    RowLSTM,
    RowLSTMConfig,
    TrainConfig,
    complete,
    load_sample,
    train_steps,
)
from napari_pixelrnn.core.data import DataSpec, to_rows

from .common import best_time, table


def _random_model(width: int, channels: int) -> GenModel:
    torch.manual_seed(0)
    model = GenModel(width * channels, values="continuous").eval()
    model.data = DataSpec("uint8", width, channels, channels > 1, 0.0, 255.0, None)
    return model


def naive_complete(model: GenModel, image: np.ndarray, keep: int) -> np.ndarray:
    """What a straightforward seq2vec sampler does: re-run the RNN over every row so far
    for each new row."""
    rows = torch.from_numpy(to_rows(image, model.data))
    with torch.no_grad():
        for t in range(keep, rows.shape[1]):
            rows[:, t] = model.value_model.predict(model(rows[:, :t])[:, -1])
    return rows.numpy()


def sampler(quick: bool) -> tuple[str, list[str]]:
    cases = [(r, 256, 1) for r in ((32, 64) if quick else (64, 128, 256, 512))]
    cases.append((32 if quick else 256, 256, 3))
    rows = []
    for r, width, channels in cases:
        model = _random_model(width, channels)
        shape = (r + 1, width, channels) if channels > 1 else (r + 1, width)
        image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
        x = torch.from_numpy(to_rows(image, model.data))[:, :r]
        # best of 7, the sampler and the forward pass alternating so that both see the
        # same load: the machine is shared, and its runs vary up to 2x
        incremental = forward = float("inf")
        for _ in range(1 if quick else 7):
            incremental = min(incremental, best_time(  # rows 1..r
                lambda m=model, i=image: complete(m, i, 1), 1))
            with torch.no_grad():
                forward = min(forward, best_time(lambda m=model, x=x: m(x), 1))
        naive = best_time(lambda m=model, i=image: naive_complete(m, i, 1), repeat=1)
        rows.append([r, f"{width}x{channels}", incremental * 1e3, naive * 1e3, forward * 1e3,
                     naive / incremental, incremental / forward])
    text = table(["rows R", "width x channels", "incremental ms", "naive prefix ms",
                  "one forward ms", "naive / incremental", "incremental / forward"], rows)
    notes = []
    for row in rows:
        if row[0] == 256 and row[1] == "256x1":
            notes.append(
                f"At 256 rows the incremental sampler is {row[5]:.0f}x faster than naive "
                f"recomputation (target >= 20x: {'met' if row[5] >= 20 else 'missed'}) and "
                f"takes {row[6]:.1f}x one teacher-forced pass (target <= 3x: "
                f"{'met' if row[6] <= 3 else 'missed'}).")
    notes += [
        ("What changed (issue 13): the sampler's dense step (`core/dense/fast_step.py`) "
        "looks the weights up and computes the batch norm's scale once per completion, "
        "then writes every result into buffers reused row after row (`out=` and in-place "
        "operations, views made once). It computes `GenModel.step`'s values bit for bit "
        "(tested: completions, draws and scores identical for every cell). Measured in one "
        "process, alternating: the step takes 150-180 us a row against 280-450 us before, "
        "a whole 256-row completion 0.6-0.8x the time. The same code before and after, "
        "side by side in one session, gave 16x and 9x (before) against 20x and 22x (after) "
        "for naive / incremental at 256 rows: this machine's runs vary up to 2x."),
        ("Where a generated row's time goes (256 px, LSTM, hidden 256, one core; each phase "
        "of the loop timed, ~300 us a row in all): the RNN step 150 us, of which its three "
        "matrix-vector products take ~90 us; the decoder 60 us (its product ~30 us); "
        "drawing the values 50 us (half a dozen small torch operations); turning the row "
        "into the image's dtype and writing it into the result 55 us (numpy). The four "
        "products alone, 256 rows in a loop with nothing else, take 24-45 ms, 1.8-2.1x one "
        "teacher-forced pass measured beside them: a row streams all the weights (~2.8 MB) "
        "from the shared L3 cache (a 1024x256 product 35-50 us, ~25 GB/s), while the "
        "teacher-forced pass streams only the hidden gates' (1 MB) per row and batches the "
        "rest into matrix products. Every other operation costs 3.5-8 us of dispatch "
        "whatever its size (a 256-value add: 3.4 us alone), and a row makes about 35."),
        ("So <= 3x one pass is out of reach here: the products alone are ~2x, and the ~35 "
        "operations a row add ~1.5-2x more. Fusions that change the last bits (one sigmoid "
        "over all gates, one product over [x, h], the batch norm folded into the encoder) "
        "measured 15-30 us of the ~300 us a row: not taken, since completions would no "
        "longer equal the sampler's before them. What is left is outside the step: the "
        "value model's drawing and the per-row conversion to the image's dtype (which "
        "the live display needs row by row). The model is random (speed does not depend "
        "on the weights); torch's sequence LSTM costs ~4x more for a single step here, "
        "hence a step of our own."),
    ]
    return text, notes


def training(quick: bool) -> tuple[str, list[str]]:
    """Time to quality: the seed experiment (dense, binarized horse, all rows) until >= 99 %
    of the lower half is restored, and honest completion (the default Row LSTM on the
    camera's top half) until its best validation bits/dim."""
    seed_row, seed_note = _seed_experiment(quick)
    honest_row, honest_note = _honest_completion(quick)
    text = table(["image, architecture", "steps run", "train s", "rows/s", "values/s",
                  "time to quality", "quality"], [seed_row, honest_row])
    notes = [seed_note, honest_note,
             (f"torch uses {torch.get_num_threads()} intra-op threads (its default: one per "
             "core); the per-row RNN work is too small to gain from more.")]
    return text, notes


def _seed_experiment(quick: bool):
    """Defaults, binarized horse, all rows; time until >= 99 % of the lower half is
    restored (completion checks are not timed)."""
    horse = load_sample("horse")
    half = horse.shape[0] // 2
    config = TrainConfig(binarize=True, steps=10 if quick else 300, architecture="dense")
    check_every = 5 if quick else 25
    elapsed, reached, accuracy = 0.0, None, 0.0
    steps = train_steps(horse, config)
    start = time.perf_counter()
    for update in steps:
        if update.step % check_every == 0 or update.step == update.steps:
            elapsed += time.perf_counter() - start
            update.model.eval()
            out = complete(update.model, horse, half)
            update.model.train()
            accuracy = float((out[half:] == horse[half:]).mean())
            if reached is None and accuracy >= 0.99:
                reached = (update.step, elapsed)
            start = time.perf_counter()
    rows = config.steps * (horse.shape[0] - 1)  # every row after the first, every step
    row = [f"horse {horse.shape[0]}x{horse.shape[1]} binary, dense (seed experiment)",
           config.steps, elapsed, rows / elapsed, rows * horse.shape[1] / elapsed,
           f"first check >= 99 %: step {reached[0]}, {reached[1]:.1f} s" if reached
           else "no check >= 99 %", f"lower-half accuracy {100 * accuracy:.1f} % (last)"]
    note = (f"Seed experiment: all {config.steps} steps of the dense model on every row; "
            f"the lower half is completed every {check_every} steps and compared with the "
            "truth, the completion's time excluded. rows/s: image rows (256 values) "
            "predicted per second of training.")
    return row, note


def _honest_completion(quick: bool):
    """The default architecture and settings (Row LSTM) on the camera's top half; the
    time until the step whose validation was best (its weights are the ones kept)."""
    camera = load_sample("camera")
    keep = camera.shape[0] // 2
    config = TrainConfig(keep_rows=keep, steps=60 if quick else None).resolved()
    updates = train_steps(camera, config)
    elapsed, stepping, validating, best = 0.0, 0.0, 0, None
    start = time.perf_counter()
    for update in updates:  # each step's time, its validation included when it has one
        took = time.perf_counter() - start
        elapsed += took
        if update.validation_bits_per_dim is None:
            stepping += took
        else:
            validating += 1
            if best is None or update.validation_bits_per_dim < best[2]:
                best = (update.step, elapsed, update.validation_bits_per_dim)
        last = update
        start = time.perf_counter()
    crop = min(config.crop, keep, camera.shape[1])
    steps_timed = last.step - validating
    rows = steps_timed * config.batch_size * (crop - 1)  # crop rows predicted per step
    stopped = "early stop" if last.step < last.steps else "all steps"
    row = [(f"camera {camera.shape[0]}x{camera.shape[1]}, top {keep} rows kept, row-lstm "
           "(defaults)"), f"{last.step} of {last.steps} ({stopped})", elapsed,
           rows / stepping, rows * crop / stepping,
           f"best validation: step {best[0]}, {best[1]:.1f} s",
           f"{best[2]:.3f} bits/dim (validation rows)"]
    note = (f"Honest completion: TrainConfig(keep_rows={keep}) and nothing else, the "
            f"default architecture (Row LSTM, hidden {config.hidden_size}, {config.values} "
            f"values, {config.prior} prior), trained on random {crop}x{crop} crops of the "
            f"kept rows ({config.batch_size} a step), validated every 50 steps on the "
            f"last {config.validation:.0%} of them, stopped after {config.patience} "
            "validations without improvement. train s: until it stopped, validations "
            "included; rows/s and values/s: crop rows (32 values) predicted per second of "
            "the steps without a validation. The best weights are kept, so the time to "
            "quality is when the best validation was measured.")
    return row, note


def _left_to_right(name, model, rows, width, repeat):
    """Table rows for 1 and 16 draws of ``rows`` x ``width`` from a random ``model``."""
    model.data = DataSpec("uint8", width, 1, False, 0.0, 255.0, None)
    image = np.random.default_rng(0).integers(0, 256, (2 * rows, width)).astype(np.uint8)
    x = torch.from_numpy(to_rows(image, model.data, any_width=True))
    with torch.no_grad():
        forward = best_time(lambda: model(x[:, :-1], next_rows=x[:, 1:]), repeat)
    table_rows = []
    for draws in (1, 16):
        took = best_time(lambda n=draws: complete(model, image, rows, samples=n, seed=0), repeat)
        table_rows.append([name, draws, f"{rows} x {width}", took,
                           took * 1e6 / (draws * rows * width), forward * 1e6 / (2 * rows * width)])
    return table_rows


def row_lstm_sampler(quick: bool) -> tuple[str, list[str]]:
    """Left-to-right drawing: N draws in one batch against one, and against one
    teacher-forced pass over the same rows (random models at the default sizes; speed
    does not depend on the weights): the Row LSTM, and the dense model's left-to-right
    rows (issue 13's target 3 covers both)."""
    rows, width = (8, 32) if quick else (64, 128)
    repeat = 1 if quick else 2
    torch.manual_seed(0)
    row_lstm = RowLSTM(RowLSTMConfig(channels=1, hidden_size=32)).eval()
    table_rows = _left_to_right("row-lstm (mixture)", row_lstm, rows, width, repeat)
    torch.manual_seed(0)
    dense = GenModel(width, within_row="autoregressive", values="continuous").eval()
    dense_rows = _left_to_right("dense left-to-right (continuous)", dense, rows, width, repeat)
    table_rows += dense_rows
    one, sixteen = table_rows[0][3], table_rows[1][3]
    per_value = table_rows[1][4] / table_rows[1][5]
    text = table(["model", "draws", "rows x width generated", "seconds", "us per drawn value",
                  "us per value, one teacher-forced pass"], table_rows)
    notes = [(f"16 draws of {rows} rows x {width} px take {sixteen:.1f} s (target <= 10 s: "
             f"{'met' if sixteen <= 10 else 'missed'}), {sixteen / one:.1f}x one draw "
             f"(target <= 3x: {'met' if sixteen <= 3 * one else 'missed'}). The row state "
             "is carried from row to row and each value is one small matrix product per "
             "layer of the row network: the cost is per-operation overhead, so a batch of "
             "draws costs little more than one."),
             (f"A drawn value (16 draws) costs {per_value:.0f}x a teacher-forced one (target "
             f"<= 5x: {'met' if per_value <= 5 else 'missed'}); it cost 17x before issue 13's "
             "first rework and 6-8x after it, when each value was ~55 torch operations of "
             "3-6 us of dispatch each on 16 numbers. Each value is now drawn in numpy "
             "(core/row_draw.py: the row network's weights converted once per completion, "
             "a row's features, random numbers and the prior's columns once per row; an "
             "operation on 16 numbers costs numpy 0.3-1 us), by the same draw code that "
             "runs on tensors all at once (tested equal, value by value, for every value "
             "model and prior)."),
             (f"The dense model's left-to-right rows (hidden 256, the same row network and "
              f"drawing): 16 draws cost {dense_rows[1][3] / dense_rows[0][3]:.1f}x one "
              f"(target <= 3x: {'met' if dense_rows[1][3] <= 3 * dense_rows[0][3] else 'missed'}), "
              f"a drawn value {dense_rows[1][4] / dense_rows[1][5]:.0f}x a teacher-forced one "
              f"(target <= 5x: {'met' if dense_rows[1][4] <= 5 * dense_rows[1][5] else 'missed'}): "
              "its teacher-forced pass is cheap per value (the row network reads a whole row "
              "at once), its draw is the same chain of small operations per value.")]
    return text, notes


# another torch job with torch's default threads: small matrix products, as training does
NEIGHBOUR = "import torch\na = torch.rand(256, 256)\nwhile True:\n    a @ a"


def busy_neighbour(quick: bool) -> tuple[str, list[str]]:
    """The same small CLI training job alone and beside a busy process, with one torch
    thread (the CLI's default) and with two (torch's default on this machine)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from napari_pixelrnn.core.io import write_image

    steps = "5" if quick else "30"
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "in.png"
        write_image(image, load_sample("camera"))
        command = [sys.executable, "-m", "napari_pixelrnn", "train", str(image), "-o",
                   str(Path(folder) / "m.pixelrnn"), "--keep-rows", "64", "--steps", steps,
                   "--architecture", "dense"]
        for neighbour in (False, True):
            busy = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if neighbour else None
            try:
                for threads in ("1", "2"):
                    start = time.perf_counter()
                    subprocess.run([*command, "--threads", threads], check=True,
                                   capture_output=True, timeout=1800)
                    rows.append(["busy" if neighbour else "alone", threads,
                                 time.perf_counter() - start])
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    alone_1 = rows[0][2]
    for row in rows:
        row.append(row[2] / alone_1)
    text = table(["neighbour", "torch threads", "seconds", "x alone with 1 thread"], rows)
    notes = [(f"`napari-pixelrnn train` of the camera's top half, dense, {steps} steps, each in "
             "a fresh process (start-up included); the neighbour is another torch process "
             "multiplying 256x256 matrices with torch's default threads. "
             "The CLI uses 1 thread unless --threads says otherwise.")]
    return text, notes
