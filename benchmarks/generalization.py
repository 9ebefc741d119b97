"""Generalization: the dense model against the Row LSTM on rows neither model saw.

Each model is trained with its default settings on the kept rows only (for the brick
stack: on slices 0-2, completing slice 3). Scored on the masked rows: the teacher-forced
likelihood next to lossless codecs of the same rows, the posterior mean of 8 draws next
to classical inpainting, and how much a draw varies from row to row and pixel to pixel
against the truth (1 is right; repeating the last kept row gives 0 row to row).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import imagecodecs
import numpy as np
import torch
from PIL import Image, ImageDraw
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from napari_pixelrnn.core import complete, evaluate, load_sample, train

from .common import table
from .quality import peers

DRAWS = 8
# the posterior mean is scored for this many sets of DRAWS draws (seeds 0, 1, ...): one
# set's PSNR moved by up to 5 dB when only the random numbers changed (measured)
DRAW_SETS = 4
# where the picture grid goes; the harness puts it beside the markdown it writes
PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "completions.png"


def cases(quick: bool):
    """(name, training data, image to complete, keep_rows or None for a separate set)."""
    brick = load_sample("brick_stack")
    yield "brick stack: slices 0-2 -> 3", list(brick[:3]), brick[3], 32
    if quick:
        return
    camera, astronaut = load_sample("camera"), load_sample("astronaut")
    yield "camera (top half kept)", camera, camera, 64
    yield "astronaut (colour, top half kept)", astronaut, astronaut, 64
    for name in ("grass", "gravel"):  # textures scikit-image ships offline
        texture = getattr(skdata, name)()[:128, :128]
        yield f"{name} 128x128 (top half kept)", texture, texture, 64


def codec_bits(pixels: np.ndarray) -> dict[str, float]:
    """Bits per value of ``pixels`` stored losslessly, headers included."""
    pixels = np.ascontiguousarray(pixels)
    sizes = {}
    for name, options in (("PNG", {"format": "PNG", "optimize": True}),
                          ("WebP", {"format": "WEBP", "lossless": True, "quality": 100, "method": 6})):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, **options)
        sizes[name] = buffer.tell()
    sizes["JPEG XL"] = len(imagecodecs.jpegxl_encode(pixels, lossless=True, effort=9))
    return {name: 8 * size / pixels.size for name, size in sizes.items()}


def variation(image: np.ndarray, keep: int) -> tuple[float, float]:
    """Mean absolute difference between vertical and horizontal neighbours, masked rows."""
    rows = image[keep - 1:].astype(np.float64)  # the first masked row against the last kept
    return float(np.abs(np.diff(rows, axis=0)).mean()), float(np.abs(np.diff(rows, axis=1)).mean())


def psnr_ssim(truth, guess, keep):
    t, g = truth[keep:], guess[keep:]
    rgb = truth.ndim == 3
    win = min(7, t.shape[0] - (t.shape[0] + 1) % 2)
    return (peak_signal_noise_ratio(t, g, data_range=255),
            structural_similarity(t, g, data_range=255, channel_axis=-1 if rgb else None,
                                  win_size=win))


def generalization(quick: bool) -> tuple[str, list[str]]:
    likelihood, completion, notes, picture = [], [], [], []
    for name, data, image, keep in cases(quick):
        masked_codecs = codec_bits(image[keep:])
        classical = peers(image, keep, image.ndim == 3)
        classical = {k: v for k, v in classical.items() if "(" in k}  # the inpainting methods
        peer_scores = {k: psnr_ssim(image, v, keep) for k, v in classical.items()}
        best_peer = max(peer_scores, key=lambda k: peer_scores[k][0])
        true_rows, true_cols = variation(image, keep)
        shown = {}
        for architecture in ("dense", "row-lstm"):
            settings = {"architecture": architecture, "seed": 0}
            if quick:
                settings["steps"] = 20
            started = time.perf_counter()
            model = train(data, keep_rows=None if data is not image else keep, **settings)
            train_s = time.perf_counter() - started
            bits = evaluate(model, image, keep)["teacher_forced_bits_per_dim_256"]
            started = time.perf_counter()
            draws = complete(model, image, keep, samples=DRAWS, seed=0)
            sample_s = time.perf_counter() - started
            mean = draws.mean()
            rows, cols = variation(draws.images[0], keep)
            sets = [draws] + [complete(model, image, keep, samples=DRAWS, seed=seed)
                              for seed in range(1, 2 if quick else DRAW_SETS)]
            scored = np.array([psnr_ssim(image, d.mean(), keep) for d in sets])
            psnr, ssim = np.median(scored, 0)
            spread = f"{scored[:, 0].min():.1f}-{scored[:, 0].max():.1f}"
            likelihood.append([name, architecture, bits, masked_codecs["PNG"],
                               masked_codecs["WebP"], masked_codecs["JPEG XL"], train_s])
            completion.append([name, architecture, psnr, spread, ssim, rows / true_rows,
                               cols / true_cols, sample_s])
            shown[architecture] = (complete(model, image, keep) if architecture == "dense"
                                   else draws.images[0], mean)
        for method, (psnr, ssim) in peer_scores.items():
            completion.append([name, method, psnr, "-", ssim, "-", "-", "-"])
        picture.append((f"{name}; best peer: {best_peer}", image, keep,
                        (shown["dense"][0], *shown["row-lstm"], classical[best_peer])))
    save_picture(picture, PICTURE, ["original", "masked", "dense", "row-lstm draw",
                                    "row-lstm mean", "best peer"])
    text = ("Held-out likelihood of the masked rows (bits per value, 8-bit scale; lower is "
            "better), next to lossless codecs of the same rows:\n\n")
    text += table(["image", "model", "teacher-forced bits/dim", "PNG", "WebP lossless",
                   "JPEG XL lossless", "train s"], likelihood)
    sets = 2 if quick else DRAW_SETS
    text += (f"\n\nCompletions: PSNR and SSIM of the posterior mean of {DRAWS} draws on the "
             f"masked rows, the median over {sets} sets of draws (seeds 0-{sets - 1}) and the "
             "PSNR's range; variation of one draw (seed 0) against the truth's:\n\n")
    text += table(["image", "method", "PSNR dB", f"PSNR range, {sets} sets", "SSIM",
                   "row-to-row variation ratio", "pixel-to-pixel variation ratio",
                   f"{DRAWS} draws s"], completion)
    notes += [
        ("Each model is trained with its default settings on the kept rows only (brick: on "
        "the other slices); neither sees a masked pixel. Our bits/dim is what an arithmetic "
        "coder driven by the model would need for the masked rows given the true rows above; "
        "codec sizes include their headers (a few dozen bytes, noticeable on the 32x64 brick "
        "rows)."),
        ("The dense row is the lab note's model, whose drawn completion is scored the same "
        "way; its picture column shows its deterministic completion."),
        (f"Picture: images/{PICTURE.name} beside this file: original | masked | "
        "dense | row-lstm draw | row-lstm mean | best classical peer (draw and mean: "
        "seed 0)."),
        ("The posterior mean of 8 draws is a noisy estimate where the draws drift (grass "
        "brightens, camera's patches turn black or white): the range column shows how far "
        "one set of draws can move it, so compare medians, and a win inside the range is "
        "not one."),
    ]
    return text, notes


# The opt-in Row LSTM settings measured against the defaults (README: "Training that
# generalizes"): turned crops give a photograph's few training pixels more variety,
# dropout keeps the model from learning them by heart; neither helps much alone.
OPT_IN = {"rotate": True, "dropout": 0.3}


def opt_in_settings(quick: bool) -> tuple[str, list[str]]:
    """Held-out bits/dim of the Row LSTM with its defaults and with :data:`OPT_IN`, side
    by side on the same images and rows as :func:`generalization`."""
    rows = []
    for name, data, image, keep in cases(quick):
        codecs = codec_bits(image[keep:])
        bits, seconds = [], []
        for extra in ({}, OPT_IN):
            settings = {"seed": 0, **extra, **({"steps": 20} if quick else {})}
            started = time.perf_counter()
            model = train(data, keep_rows=None if data is not image else keep, **settings)
            seconds.append(time.perf_counter() - started)
            bits.append(evaluate(model, image, keep)["teacher_forced_bits_per_dim_256"])
        rows.append([name, bits[0], bits[1], bits[1] - bits[0], codecs["WebP"],
                     codecs["JPEG XL"], seconds[0], seconds[1]])
    text = table(["image", "defaults bits/dim", "rotate + dropout 0.3 bits/dim", "difference",
                  "WebP lossless", "JPEG XL lossless", "train s, defaults",
                  "train s, rotate + dropout"], rows)
    notes = [
        ("Row LSTM, seed 0, trained on the kept rows only and scored on the masked rows as "
         "in the generalization table (teacher-forced, 8-bit scale); the two models of a "
         "row trained one after the other in this run. Turned crops are for images with no "
         "up: rows of bricks have one."),
    ]
    return text, notes


def draw_sets(model, image, keep, sets: int, draws: int = DRAWS, temperature: float = 1.0):
    """``sets`` sets of ``draws`` draws (seeds 0, 1, ...), and the median PSNR of their
    means on the masked rows."""
    drawn = [complete(model, image, keep, samples=draws, seed=seed, temperature=temperature)
             for seed in range(sets)]
    return float(np.median([psnr_ssim(image, d.mean(), keep)[0] for d in drawn])), drawn


def level_calibration(quick: bool) -> tuple[str, list[str]]:
    """The posterior mean of the Row LSTM's draws with and without the opt-in level
    calibration (``calibrate=True``), on the same trained model (the offset is fitted
    after training; zeroing it undoes it), and the mean intensity its draws reach on the
    masked rows against the truth's."""
    rows, picture = [], []
    for name, data, image, keep in cases(quick):
        settings = {"seed": 0, "calibrate": True, **({"steps": 20} if quick else {})}
        model = train(data, keep_rows=None if data is not image else keep, **settings)
        fitted = model.drift.clone()
        scores, shown = [], []
        for offset in (torch.zeros_like(fitted), fitted):
            model.drift.copy_(offset)
            psnr, sets = draw_sets(model, image, keep, 2 if quick else DRAW_SETS)
            scores += [psnr, np.mean([d.images[:, keep:].mean() for d in sets])]
            shown += [sets[0].images[0], sets[0].mean()]
        rows.append([name, ", ".join(f"{v:+.2f}" for v in (fitted * 255).tolist()), *scores,
                     float(image[keep:].mean())])
        picture.append((name, image, keep, shown))
    path = PICTURE.with_name("level_calibration.png")
    save_picture(picture, path, ["original", "masked", "draw", "mean", "calibrated draw",
                                 "calibrated mean"])
    text = table(["image", "fitted offset, levels", "PSNR dB, uncalibrated",
                  "draws' mean level, uncalibrated", "PSNR dB, calibrated",
                  "draws' mean level, calibrated", "truth's mean level"], rows)
    notes = [
        (f"Row LSTM, seed 0, defaults plus calibrate=True; PSNR of the posterior mean of "
         f"{DRAWS} draws on the masked rows, the median over {2 if quick else DRAW_SETS} "
         "sets of draws (seeds as in the generalization table), the same draws' mean "
         "intensity (8-bit levels). Uncalibrated: the same model with its offset set to "
         "zero, as the defaults draw."),
        (f"Picture: images/{path.name} beside this file: original | masked | draw | mean "
         "| calibrated draw | calibrated mean (draw seed 0, the same random numbers)."),
    ]
    return text, notes


def _as_rgb(image: np.ndarray, size: int) -> Image.Image:
    picture = Image.fromarray(image).convert("RGB")
    scale = size / max(picture.size)
    return picture.resize((round(picture.width * scale), round(picture.height * scale)),
                          Image.NEAREST)


def save_picture(rows, path: Path, titles: list[str], size: int = 160) -> None:
    """A grid: one row per ``(caption, image, keep, panels)``, the original and its masked
    copy first, then ``panels``, with the cut marked; ``titles`` name the columns."""
    pad, label = 6, 14
    sheet = Image.new("RGB", (len(titles) * (size + pad) + pad,
                              len(rows) * (size + pad + 2 * label) + pad + label), "white")
    draw = ImageDraw.Draw(sheet)
    for column, title in enumerate(titles):
        draw.text((pad + column * (size + pad), 2), title, fill="black")
    for index, (caption, image, keep, panels) in enumerate(rows):
        top = label + pad + index * (size + pad + 2 * label)
        draw.text((pad, top), caption, fill="black")
        masked = image.copy()
        masked[keep:] = 0
        for column, shown in enumerate((image, masked, *panels)):
            tile = _as_rgb(shown, size)
            left = pad + column * (size + pad)
            sheet.paste(tile, (left, top + label))
            cut = top + label + round(keep * tile.height / image.shape[0])
            draw.line([(left, cut), (left + tile.width - 1, cut)], fill=(255, 200, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
