"""Regenerate the bundled sample images from scikit-image's offline data.

Run once by a developer (needs scikit-image); the package itself only reads the
written files. Sources and licences are listed in README.md beside this file.
"""

from pathlib import Path

import numpy as np
import skimage.data
import tifffile
from imageio.v3 import imwrite
from skimage.transform import resize

HERE = Path(__file__).parent


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def main() -> None:
    # Horse silhouette: 328x400 bool (True = background); black horse on white,
    # letterboxed into 256x256 so the benchmark's "256x256 binary image" is literal.
    horse = resize(skimage.data.horse().astype(float), (210, 256), order=0) > 0.5
    canvas = np.ones((256, 256), bool)
    canvas[23:233] = horse
    imwrite(HERE / "horse.png", np.where(canvas, 255, 0).astype(np.uint8))

    camera = resize(skimage.data.camera(), (128, 128), anti_aliasing=True)
    imwrite(HERE / "camera.png", _to_uint8(camera))

    astronaut = resize(skimage.data.astronaut(), (128, 128), anti_aliasing=True)
    imwrite(HERE / "astronaut.png", _to_uint8(astronaut))

    # Four 64x64 crops of a brick wall texture: a stack whose slices share structure.
    brick = resize(skimage.data.brick(), (256, 256), anti_aliasing=True)
    crops = [brick[r : r + 64, c : c + 64] for r, c in [(0, 0), (0, 128), (128, 0), (128, 128)]]
    tifffile.imwrite(HERE / "brick_stack.tif", _to_uint8(np.stack(crops)))


if __name__ == "__main__":
    main()
