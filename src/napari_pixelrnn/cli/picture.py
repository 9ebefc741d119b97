"""The demo's side-by-side picture: original | masked | completions, titled."""

from __future__ import annotations

import numpy as np

CUT = (255, 0, 0)  # the cut's colour in the side-by-side picture


def side_by_side(original: np.ndarray, completed, keep_rows: int,
                 titles=None) -> np.ndarray:
    """original | masked | completed (one or a list of them) as one uint8 picture, each
    panel titled in a white band above it; masked rows shown mid-grey, the cut a red line
    across the masked panel (red ticks in the gaps beside the others) labelled with its
    row number, panels 4 white pixels apart. ``titles``: one per completion (default
    "(a) completion", ...)."""
    from PIL import Image, ImageDraw, ImageFont

    completed = completed if isinstance(completed, (list, tuple)) else [completed]
    if titles is None:
        titles = [f"({chr(97 + k)}) completion" for k in range(len(completed))]
    titles = ["original", f"kept rows, cut at row {keep_rows}", *titles]

    def as_uint8_rgb(image):
        image = image.astype(np.float64)
        low, high = image.min(), image.max()
        image = (image - low) / (high - low) if high > low else image * 0
        image = np.round(image * 255).astype(np.uint8)
        return np.repeat(image[..., None], 3, -1) if image.ndim == 2 else image[..., :3]

    both = as_uint8_rgb(np.concatenate([original, *completed], axis=1))  # one shared scale
    height, width = original.shape[:2]
    panels = [both[:, k * width:(k + 1) * width] for k in range(1 + len(completed))]
    masked = panels[0].copy()
    masked[keep_rows:] = 128
    masked[keep_rows] = CUT
    panels.insert(1, masked)
    gap = np.full((height, 4, 3), 255, np.uint8)
    gap[keep_rows] = CUT  # a tick beside every panel, at the cut
    body = np.concatenate([x for panel in panels for x in (gap, panel)][1:], axis=1)

    font = ImageFont.load_default()
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = [_wrap(draw, font, title, width) for title in titles]
    line_height = max(draw.textbbox((0, 0), "Ag(b)", font=font)[3], 8) + 2
    band = 4 + line_height * max(len(x) for x in lines)
    picture = Image.fromarray(np.concatenate(
        [np.full((band, body.shape[1], 3), 255, np.uint8), body]))
    draw = ImageDraw.Draw(picture)
    for k, title in enumerate(lines):
        for n, text in enumerate(title):
            draw.text((k * (width + 4) + 1, 2 + n * line_height), text, fill=(0, 0, 0),
                      font=font)
    label = f"row {keep_rows}"  # the cut's number, in the grey below it
    if keep_rows + 2 + line_height <= height:
        draw.text((width + 4 + 2, band + keep_rows + 2), label, fill=CUT, font=font)
    return np.asarray(picture)


def _wrap(draw, font, text: str, width: int) -> list[str]:
    """``text`` in lines that fit ``width`` pixels, broken at spaces (a word too long
    for a line is kept whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width - 2:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines or [""]
