"""Starting weights learned on other photographs, which ``pretrained=True`` fine-tunes.

One image's kept rows are a few thousand pixels: too few to learn what photographs have
in common (edges, shading, flat regions). These weights learned it from tiles of
scikit-image's offline photographs that no benchmark or bundled image comes from
(:data:`CORPUS`); training on the kept rows then starts from them instead of from random
weights. The masked rows are still never trained on.

The shipped files are Row LSTMs with the default shape (:data:`SHAPE`), one for grayscale
and one for RGB images; ``python -m napari_pixelrnn.core.row_lstm.pretrained`` rebuilds
them (5-15 minutes each on one core; it needs scikit-image), bit for bit on the same
machine, not across machines (float rounding; see the weights' README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import PixelRNNError

PRETRAINED_DIR = Path(__file__).resolve().parent.parent.parent / "pretrained"
FILES = {1: "row_lstm_gray.pixelrnn", 3: "row_lstm_rgb.pixelrnn"}
# scikit-image's offline samples the weights learned from: none is a benchmark image,
# a bundled sample or the source of one (tests check this)
CORPUS = {1: ("rocket", "motorcycle_left", "motorcycle_right", "retina", "text",
              "microaneurysms"),
          3: ("rocket", "motorcycle_left", "motorcycle_right", "retina")}
STEPS = {1: 3000, 3: 2000}  # the validation rows were still improving, slowly, at the end
# the Row LSTM settings the weights have; fine-tuning needs the same
SHAPE = {"hidden_size": 32, "num_layers": 1, "kernel": 5, "values": "mixture",
         "components": 5, "prior": "edge"}
TILE = 128  # pixels: the tiles are the bundled images' size
WIDTHS = (192, 320)  # each photograph resized to these widths before tiling
# Fine-tuning's learning rate: a tenth of training from scratch's. At the full rate, the
# camera's fine-tuned weights (chosen among steps 50, 100, ...) coded its masked rows in
# 4.53 bits/dim, its starting weights in 4.09; the start is now validated as well
LR = 3e-4


def check_shape(config) -> None:
    """Refuse a (resolved) TrainConfig whose Row LSTM the shipped weights do not fit."""
    differ = [f"{k}={getattr(config, k)!r}" for k, v in SHAPE.items() if getattr(config, k) != v]
    if differ:
        wanted = ", ".join(f"{k}={v!r}" for k, v in SHAPE.items())
        raise PixelRNNError(f"pretrained=True starts from weights of the default Row LSTM "
                            f"({wanted}), but got {', '.join(differ)}. Use those settings, "
                            "or pretrained=False.")


def step_name(step: int) -> str:
    """A kept step as the front ends say it: step 0 is the pretrained start."""
    return "step 0 (the pretrained weights)" if step == 0 else f"step {step}"


def load_weights(channels: int) -> dict:
    """The shipped starting weights for images of ``channels`` (1 or 3)."""
    from ..checkpoint import load_model

    if channels not in FILES:
        raise PixelRNNError(f"pretrained=True has weights for grayscale and RGB images; this "
                            f"image has {channels} channels. Use pretrained=False.")
    return load_model(PRETRAINED_DIR / FILES[channels]).state_dict()


def corpus(channels: int) -> list[np.ndarray]:
    """The training tiles: every :data:`CORPUS` photograph resized to :data:`WIDTHS` and
    cut into ``TILE`` squares (stride half a tile), grayscale or RGB, as uint8."""
    from skimage import data
    from skimage.color import rgb2gray
    from skimage.transform import resize

    left, right = data.stereo_motorcycle()[:2]
    photos = {"rocket": data.rocket(), "motorcycle_left": left, "motorcycle_right": right,
              # the retina's middle: around it is black
              "retina": data.retina()[200:1200, 200:1200]}
    tiles = []
    for name in CORPUS[channels]:
        if name in photos:
            picture = photos[name] / 255.0
            picture = picture if channels == 3 else rgb2gray(picture)
            widths = WIDTHS
        else:  # the grayscale ones, at their own width (the microaneurysms' 102: a tile)
            picture = getattr(data, name)() / 255.0
            widths = (max(TILE, picture.shape[1]),)
        for width in widths:
            height = round(picture.shape[0] * width / picture.shape[1])
            small = resize(picture, (height, width) + picture.shape[2:], anti_aliasing=True)
            for top in range(0, height - TILE + 1, TILE // 2):
                for x in range(0, width - TILE + 1, TILE // 2):
                    tiles.append(small[top:top + TILE, x:x + TILE])
    return [np.round(np.clip(t, 0, 1) * 255).astype(np.uint8) for t in tiles]


def build(channels: int, progress=None):
    """Train the starting weights from scratch (what the shipped files hold)."""
    from ..training import train

    return train(corpus(channels), rgb=channels == 3, steps=STEPS[channels], patience=0,
                 seed=0, threads=1, progress=progress, **SHAPE)


def main() -> None:
    from ..checkpoint import save_model

    for channels, name in FILES.items():
        model = build(channels, lambda p: print(f"\r{name}: step {p.step}/{p.steps}", end=""))
        print()
        save_model(model, PRETRAINED_DIR / name)


if __name__ == "__main__":
    main()
