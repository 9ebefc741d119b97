"""The layers a completion adds: the completion itself, filled in row by row, and the
samples' uncertainty and posterior mean."""

from __future__ import annotations

import copy
from dataclasses import asdict

import numpy as np

from ..core import CompletionConfig, GeneratedRow, geometry
from .jobs import Completed

DRAW_ORDER = " (draw order)"  # in the name while several samples are not yet ranked


class CompletionLayer:
    """The layer a completion fills in, and where each generated row goes."""

    def __init__(self, viewer, source_layer, index: tuple, keep_rows: int,
                 how: CompletionConfig, model, model_info: dict):
        """Add a copy of ``source_layer`` (one per sample) with every masked row blanked;
        ``index``: the stack index of the completed slice, () for all slices."""
        data = np.asarray(source_layer.data)
        rgb = bool(source_layer.rgb)
        shape = geometry(data, rgb)
        samples = how.samples or 1
        # napari and the worker hold an image per sample: the core checked the memory
        array = np.repeat(data[None], samples, axis=0)
        np.moveaxis(array, 1 + shape.row_axis, 0)[keep_rows:] = blank(source_layer)
        scale, translate = list(source_layer.scale), list(source_layer.translate)
        if samples > 1:
            scale, translate = [1.0, *scale], [0.0, *translate]
        metadata = {"pixelrnn": {
            "source_layer": source_layer.name, "keep_rows": keep_rows,
            "completion": asdict(how) | {"samples": samples, "draws": how.draws,
                                         "keep_rows": keep_rows},
            "slices": "current" if index else "all", "slice_index": list(index) or None,
            "model": asdict(model.config), "data": model.data.to_dict(),
            # how the model was trained (None for files from before it was saved)
            "provenance": copy.deepcopy(model.provenance),
            **model_info, "finished": False,
        }}
        kwargs = {} if rgb else {"colormap": source_layer.colormap}
        self.name = f"{source_layer.name} completed"
        self.viewer = viewer
        self.layer = viewer.add_image(
            array if samples > 1 else array[0],
            name=self.name + (DRAW_ORDER if samples > 1 else ""), rgb=rgb, scale=scale,
            translate=translate, contrast_limits=list(source_layer.contrast_limits),
            metadata=metadata, **kwargs)
        self.array = array  # (samples, *input shape); the layer shows it (or its [0])
        self.index = index
        self.rgb = rgb
        self.total_rows = shape.height - keep_rows  # each generated row holds every sample
        self.source = {"name": source_layer.name, "scale": list(source_layer.scale),
                       "translate": list(source_layer.translate)}
        self.rows_done = 0
        self.cancelled = False

    @property
    def info(self) -> dict:
        return self.layer.metadata.setdefault("pixelrnn", {})

    @property
    def region(self) -> np.ndarray:
        """The completed part of every sample: (samples, *completed image shape), a view."""
        return self.array[(slice(None), *self.index)]

    @property
    def shown(self) -> bool:
        return self.layer in self.viewer.layers

    def write(self, row: GeneratedRow) -> None:
        """One new row of every sample (and slice), values (samples, *stack, W[, C]);
        the layer shows it with the next :meth:`show_rows`."""
        region = self.region
        np.moveaxis(region, geometry(region[0], self.rgb).row_axis + 1, 0)[row.index] = \
            row.values
        self.rows_done += 1

    def show_rows(self) -> None:
        """Redraw the rows written so far: only the shown slice; the layer list's
        thumbnail waits for the end (it costs as much again on the GUI thread)."""
        if self.shown:
            self.layer.refresh(thumbnail=False, extent=False, highlight=False)

    def finish(self, result: Completed) -> None:
        """Every row is made: samples in their ranked order (the name says so), scores in
        the metadata, and the uncertainty and mean layers asked for."""
        info = self.info
        if result.ranked is not None:  # most probable first, as the core ranks them
            self.region[...] = result.ranked.images
            info["sample_bits_per_dim"] = [float(b) for b in result.ranked.bits_per_dim]
        info["sampling_loss"] = result.scores
        info["drift_warning"] = result.drift
        info["finished"] = True
        if self.shown:
            self.layer.name = self.name
            self.layer.refresh()
        if result.uncertainty is not None:
            self._add_uncertainty(result.uncertainty)
        if result.mean is not None:
            self._add_mean(result.mean)

    def stopped(self) -> None:
        """Cancelled or failed: note how far it got; draw the rows made."""
        if self.cancelled:
            self.info["cancelled_after_rows"] = self.rows_done
        if self.shown:
            self.layer.refresh()

    def _add_uncertainty(self, spread: np.ndarray) -> None:
        """A new layer of how much the samples disagree, placed like the input."""
        kind = self.info["completion"]["uncertainty"]
        full = np.zeros(self.array.shape[1:], np.float32)  # slices not completed: 0
        full[self.index] = spread
        if self.rgb:  # one map for the pixel: napari shows floats as RGB only in [0, 1]
            full = full.mean(axis=-1)
        source = self.source
        self.viewer.add_image(
            full, name=f"{source['name']} uncertainty ({kind})", colormap="inferno",
            scale=source["scale"], translate=source["translate"],
            metadata={"pixelrnn": {
                "uncertainty": kind, "completed_layer": self.layer.name,
                "samples": self.array.shape[0],
                "units": "bits" if kind == "entropy" else "intensity (standard deviation)",
                "channels": "mean over colour channels" if self.rgb else None}})

    def _add_mean(self, mean: np.ndarray) -> None:
        """A new layer of the samples' posterior mean, shown like the completion; slices
        not completed show what the completion layer shows there."""
        samples = self.array.shape[0]
        full = self.array[0].copy()
        full[self.index] = mean
        source, layer = self.source, self.layer
        kwargs = {} if self.rgb else {"colormap": layer.colormap}
        self.viewer.add_image(
            full, name=f"{source['name']} mean of {samples} draws", rgb=self.rgb,
            scale=source["scale"], translate=source["translate"],
            contrast_limits=list(layer.contrast_limits),
            metadata={"pixelrnn": {
                "posterior_mean_of": samples, "completed_layer": layer.name,
                "source_layer": source["name"],
                "keep_rows": layer.metadata["pixelrnn"]["keep_rows"]}}, **kwargs)


def blank(layer):
    """The value masked rows start as: the bottom of the layer's contrast range."""
    dtype = np.dtype(layer.dtype)
    low = float(layer.contrast_limits[0])
    if dtype.kind == "b":
        return False
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return dtype.type(np.clip(round(low), info.min, info.max))
    return dtype.type(low)
