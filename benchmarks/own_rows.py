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

from . import generalization
from .pretrained import _unseen, side_by_side

SHARE = 0.5  # of the rows read; 1 cost the camera 0.5 bits/dim in a probe
SETTINGS = ({"own_rows": SHARE}, ("defaults", f"own rows {SHARE}"),
            f"with its defaults, or with own_rows={SHARE}")


def own_rows_bundled(quick: bool) -> tuple[str, list[str]]:
    return side_by_side(generalization.cases(quick), quick, "own_rows.png", *SETTINGS)


def own_rows_unseen(quick: bool) -> tuple[str, list[str]]:
    return side_by_side(_unseen(quick), quick, "own_rows_unseen.png", *SETTINGS)
