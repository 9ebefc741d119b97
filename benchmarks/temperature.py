"""Drawing below temperature 1, from scratch and from the pretrained start.

A Row LSTM draws each row from its own previous draws; a model whose draws are a little
too varied feeds that back and the next rows vary more (in "Pretrained start", a draw
varies 1.3-10x as much as the truth, row to row or pixel to pixel, on 14 of 15 images,
from scratch and pretrained alike). Drawing at a lower temperature narrows every value's
distribution. Same settings, same images as "Pretrained start"
(seed 0, kept rows only), each model drawn at each temperature; the draws are then no longer
samples of the model, so their mean is no longer its posterior mean.
"""

from __future__ import annotations

from napari_pixelrnn.core import train

from . import generalization
from .common import table
from .generalization import DRAW_SETS, DRAWS, draw_sets, save_picture, variation
from .pretrained import _unseen

TEMPERATURES = (1.0, 0.8, 0.6)


def _compare(images, quick: bool, picture_name: str) -> tuple[str, list[str]]:
    rows, shown = [], []
    sets = 2 if quick else DRAW_SETS
    for name, data, image, keep in images:
        true_rows, true_cols = variation(image, keep)
        for pretrained in (False, True):
            model = train(data, keep_rows=None if data is not image else keep, seed=0,
                          pretrained=pretrained, **({"steps": 20} if quick else {}))
            scores, ratios, draws, means = [], [], [], []
            for temperature in TEMPERATURES:
                psnr, drawn = draw_sets(model, image, keep, sets, temperature=temperature)
                draw_rows, draw_cols = variation(drawn[0].images[0], keep)
                scores.append(psnr)
                ratios.append(f"{draw_rows / true_rows:.2f}, {draw_cols / true_cols:.2f}")
                draws.append(drawn[0].images[0])
                means.append(drawn[0].mean())
            start = "pretrained" if pretrained else "scratch"
            rows.append([name, start, *scores, *ratios])
            shown.append((f"{name}, {start}", image, keep, draws + means[:2]))
    path = generalization.PICTURE.with_name(picture_name)
    t = [f"{temperature:g}" for temperature in TEMPERATURES]
    save_picture(shown, path, ["original", "masked", *(f"draw, T {x}" for x in t),
                               f"mean of {DRAWS}, T {t[0]}", f"mean of {DRAWS}, T {t[1]}"])
    text = table(["image", "start", *(f"mean of {DRAWS} dB, T {x}" for x in t),
                  *(f"draw's variation, T {x}" for x in t)], rows)
    notes = [
        ("Row LSTM with its defaults, seed 0, trained on the kept rows only, from random "
         "weights (scratch) or the shipped ones (pretrained, fine-tuned at a tenth of the "
         "learning rate); each model drawn at each temperature T. Mean of "
         f"{DRAWS} draws: PSNR on the masked rows, the median over {sets} sets (seeds "
         f"0-{sets - 1}). Draw's variation: row to row, pixel to pixel, of one draw (seed "
         "0) against the truth's (1 is right)."),
        (f"Picture: images/{path.name} beside this file: original | masked | a draw at "
         f"each T (seed 0) | the mean of {DRAWS} at T {t[0]} and {t[1]}."),
    ]
    return text, notes


def temperature_bundled(quick: bool) -> tuple[str, list[str]]:
    return _compare(generalization.cases(quick), quick, "temperature.png")


def temperature_unseen(quick: bool) -> tuple[str, list[str]]:
    return _compare(_unseen(quick), quick, "temperature_unseen.png")
