"""The model's own draws as rows read while training (``own_rows``, opt-in) against the
defaults.

Drawing reads the model's own rows. A model trained only on true rows learns, for
instance, that a column that differs from its neighbours goes on differing (true of the
edges in the kept rows), and a draw's random error then runs down the image as a streak.
With ``own_rows``, a share of the rows each row is predicted from are the model's draws of
them, so it learns what its own errors look like and that the truth below does not
follow them. Same images and seeds as "Noisy rows read in training".
"""

from __future__ import annotations

from .pretrained import bundled_and_unseen

SHARE = 0.5  # of the rows read; 1 cost the camera 0.5 bits/dim in a probe
own_rows_bundled, own_rows_unseen = bundled_and_unseen(
    "own_rows", {"own_rows": SHARE}, ("defaults", f"own rows {SHARE}"),
    f"with its defaults, or with own_rows={SHARE}")
