"""Noise on the rows read while training (``input_noise``, opt-in) against the defaults.

Drawing reads the model's own rows, which are never quite right; trained only on true
rows, a model can take its own errors for structure and amplify them row after row (the
brick wall's seed-0 draws run away within a few rows; the moon's vary 3-6x the truth's).
Noise on the rows each row is predicted from (never on the row predicted) teaches it to
read imperfect rows. Same images and seeds as "Pretrained start".
"""

from __future__ import annotations

from .pretrained import bundled_and_unseen

NOISE = 0.01  # intensities in [0, 1]: about 2.5 of 255 levels
input_noise_bundled, input_noise_unseen = bundled_and_unseen(
    "input_noise", {"input_noise": NOISE}, ("defaults", f"noise {NOISE}"),
    f"with its defaults, or with input_noise={NOISE}")
