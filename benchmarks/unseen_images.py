"""Ten images no setting was chosen on: the Row LSTM's defaults, top half kept.

The bundled images and the two textures of the generalization table are where the
defaults were measured and chosen; these ten (scikit-image's offline data, resized to
128 x 128) are not. On each: the held-out likelihood of the masked rows next to lossless
codecs, and the posterior mean against the best classical inpainting, from 8 draws
uncalibrated (the defaults), 8 draws with the opt-in level calibration, and 32 draws.
"""

from __future__ import annotations

import time

import numpy as np
from skimage import data as skdata
from skimage.transform import resize

from napari_pixelrnn.core import evaluate, train

from . import generalization
from .common import table
from .generalization import DRAW_SETS, DRAWS, codec_bits, draw_sets, psnr_ssim, save_picture
from .quality import peers

IMAGES = ("coins", "moon", "page", "clock", "cell", "brick", "chelsea", "coffee",
          "immunohistochemistry", "hubble_deep_field")
SIZE = 128
MANY_DRAWS = 32


def image(name: str) -> np.ndarray:
    """A scikit-image sample as 128 x 128 (x 3) uint8, the whole picture resized."""
    picture = getattr(skdata, name)()
    resized = resize(picture, (SIZE, SIZE) + picture.shape[2:], anti_aliasing=True)
    return np.round(resized * 255).astype(np.uint8)


def unseen_images(quick: bool) -> tuple[str, list[str]]:
    rows, shown = [], []
    sets = 2 if quick else DRAW_SETS
    for name in IMAGES[:1] if quick else IMAGES:
        picture = image(name)
        keep = SIZE // 2
        codecs = codec_bits(picture[keep:])
        classical = {k: v for k, v in peers(picture, keep, picture.ndim == 3).items()
                     if "(" in k}  # the inpainting methods
        scored = {k: psnr_ssim(picture, v, keep)[0] for k, v in classical.items()}
        best = max(scored, key=scored.get)
        started = time.perf_counter()
        model = train(picture, keep_rows=keep, seed=0, calibrate=True,
                      **({"steps": 20} if quick else {}))
        train_s = time.perf_counter() - started
        bits = evaluate(model, picture, keep)["teacher_forced_bits_per_dim_256"]
        calibrated, calibrated_draws = draw_sets(model, picture, keep, sets)
        offset = model.drift.clone()
        model.drift.zero_()  # as the defaults draw
        default, draws = draw_sets(model, picture, keep, sets)
        many = draw_sets(model, picture, keep, 1, draws=MANY_DRAWS)[0]
        rows.append([name, bits, codecs["WebP"], codecs["JPEG XL"], default, calibrated,
                     ", ".join(f"{v:+.2f}" for v in (offset * 255).tolist()), many,
                     best.split(" (")[0], scored[best], train_s])
        shown.append((name, picture, keep, (draws[0].images[0], draws[0].mean(),
                                            calibrated_draws[0].mean(), classical[best])))
    path = generalization.PICTURE.with_name("unseen_images.png")
    save_picture(shown, path, ["original", "masked", "draw", f"mean of {DRAWS}",
                               "calibrated mean", "best peer"])
    text = table(["image", "teacher-forced bits/dim", "WebP lossless", "JPEG XL lossless",
                  f"mean of {DRAWS} draws dB", f"calibrated mean of {DRAWS} dB", "offset, levels",
                  f"mean of {MANY_DRAWS} draws dB", "best peer", "best peer dB", "train s"],
                 rows)
    notes = [
        (f"scikit-image's offline samples resized to {SIZE}x{SIZE}, top half kept. Row "
         "LSTM with its defaults, seed 0, trained on the kept rows only and scored on the "
         "masked rows (teacher-forced, 8-bit scale). Calibrated: the same model with the "
         "offset calibrate=True fitted (uncalibrated: set to zero, as the defaults "
         f"draw). Mean of {DRAWS} draws: the median over {sets} sets (seeds 0-{sets - 1}); "
         f"of {MANY_DRAWS}: one set (seed 0), uncalibrated. Best peer: the closest of "
         "biharmonic, Telea and Navier-Stokes on each image."),
        (f"Picture: images/{path.name} beside this file: original | masked | draw | mean "
         f"of {DRAWS} | calibrated mean of {DRAWS} | best peer (draw seed 0)."),
    ]
    return text, notes
