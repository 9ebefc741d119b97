"""The opt-in pretrained start (``pretrained=True``) against training from scratch.

The same images as the generalization table and the ten unseen images, top half kept
(brick stack: slices 0-2 -> 3); each trained both ways with seed 0 on the kept rows only,
side by side in one run. The starting weights learned on other photographs
(``row_lstm/pretrained.py``'s corpus shares no image with these).
"""

from __future__ import annotations

import time

from napari_pixelrnn.core import evaluate, train

from . import generalization
from .common import table
from .generalization import DRAW_SETS, DRAWS, codec_bits, draw_sets, save_picture, variation
from .unseen_images import IMAGES, SIZE
from .unseen_images import image as unseen_image


def _unseen(quick: bool):
    for name in IMAGES[:1] if quick else IMAGES:
        picture = unseen_image(name)
        yield name, picture, picture, SIZE // 2


def side_by_side(images, quick: bool, picture_name: str, opt_in: dict,
                 labels: tuple[str, str], about: str, start: dict | None = None
                 ) -> tuple[str, list[str]]:
    """Each image trained twice (seed 0, kept rows only): with ``start`` (the defaults
    unless given) and with ``opt_in``; bits/dim, the mean of the draws and a draw's
    variation side by side. ``labels`` name the two; ``about`` says how they were
    trained."""
    rows, shown = [], []
    sets = 2 if quick else DRAW_SETS
    base, other = labels
    for name, data, image, keep in images:
        codecs = codec_bits(image[keep:])
        true_rows, true_cols = variation(image, keep)
        scores, panels = [], []
        for settings in (start or {}, opt_in):
            best = []
            started = time.perf_counter()
            model = train(data, keep_rows=None if data is not image else keep, seed=0,
                          progress=lambda p: best.append(p.best_step),
                          **settings, **({"steps": 20} if quick else {}))
            train_s = time.perf_counter() - started
            bits = evaluate(model, image, keep)["teacher_forced_bits_per_dim_256"]
            psnr, drawn = draw_sets(model, image, keep, sets)
            draw_rows, draw_cols = variation(drawn[0].images[0], keep)
            kept = next((s for s in reversed(best) if s is not None), "-")
            scores.append([bits, psnr, draw_rows / true_rows, draw_cols / true_cols, kept,
                           train_s])
            panels += [drawn[0].images[0], drawn[0].mean()]
        (bits0, *rest0), (bits1, *rest1) = scores
        rows.append([name, codecs["WebP"], codecs["JPEG XL"], bits0, bits1, bits1 - bits0,
                     rest0[0], rest1[0], f"{rest0[1]:.2f}, {rest0[2]:.2f}",
                     f"{rest1[1]:.2f}, {rest1[2]:.2f}", rest0[3], rest1[3], rest0[4], rest1[4]])
        shown.append((name, image, keep, panels))
    path = generalization.PICTURE.with_name(picture_name)
    save_picture(shown, path, ["original", "masked", "draw", f"mean of {DRAWS}",
                               f"{other}: draw", f"{other}: mean of {DRAWS}"])
    text = table(["image", "WebP lossless", "JPEG XL lossless", f"bits/dim, {base}",
                  f"bits/dim, {other}", "difference", f"mean of {DRAWS} dB, {base}",
                  f"mean of {DRAWS} dB, {other}", f"draw's variation, {base}",
                  f"draw's variation, {other}", f"kept step, {base}",
                  f"kept step, {other}", f"train s, {base}", f"train s, {other}"], rows)
    notes = [
        (f"Row LSTM, seed 0, trained on the kept rows only: {about}; scored on the masked "
         f"rows, teacher-forced, 8-bit scale. Mean of {DRAWS} draws: PSNR on the masked "
         f"rows, the median over {sets} sets (seeds 0-{sets - 1}). Draw's variation: row "
         "to row, pixel to pixel, of one draw (seed 0) against the truth's (1 is right). "
         "Kept step: the one whose weights the validation rows chose"
         + ("; 0 is the pretrained start itself." if "pretrained" in opt_in else ".")),
        (f"Picture: images/{path.name} beside this file: original | masked | draw | mean "
         f"of {DRAWS} | the same {other} (draw seed 0)."),
    ]
    return text, notes


def bundled_and_unseen(picture: str, *comparison):
    """One comparison's two sections, as ``(bundled, unseen)``: the bundled images and
    textures, then the ten unseen images; ``comparison`` is :func:`side_by_side`'s
    arguments after the picture's name, whose stem is ``picture``."""
    def bundled(quick: bool) -> tuple[str, list[str]]:
        return side_by_side(generalization.cases(quick), quick, f"{picture}.png", *comparison)

    def unseen(quick: bool) -> tuple[str, list[str]]:
        return side_by_side(_unseen(quick), quick, f"{picture}_unseen.png", *comparison)

    return bundled, unseen


pretrained_bundled, pretrained_unseen = bundled_and_unseen(
    "pretrained", {"pretrained": True}, ("scratch", "pretrained"),
    "with its defaults (scratch) or starting from the shipped weights and fine-tuned on "
    "them at a tenth of the learning rate (pretrained)")

# Measured to code the bundled photographs' unseen rows better from scratch ("Opt-in
# settings for photographs"); here on top of the pretrained start, on all 15 images.
pretrained_photographs_bundled, pretrained_photographs_unseen = bundled_and_unseen(
    "pretrained_photographs", {"pretrained": True, "rotate": True, "dropout": 0.3},
    ("pretrained", "pretrained + rotate + dropout"),
    "starting from the shipped weights (pretrained), or the same with turned crops and "
    "dropout 0.3", {"pretrained": True})
