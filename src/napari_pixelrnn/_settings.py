"""The widget's settings forms (magicgui) and how they read into plain settings objects.

The forms are read on the GUI thread into a :class:`~napari_pixelrnn.core.TrainConfig` or
a :class:`~napari_pixelrnn._jobs.CompletionRequest`; workers only ever see those.
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox

from ._jobs import GUI_TORCH_THREADS, CompletionRequest
from .core import TrainConfig
from .core.device import available_devices

DEFAULTS = TrainConfig()  # one source of truth for the defaults: the core's config
BIDIRECTIONAL_WHY = (
    "Only with mode many-to-one. In many-to-many mode the backward direction would read "
    "the rows below each position, so the model would see the row it has to predict."
)
MAX_SEED = 2**31 - 1


class ModelSettings:
    """Network and training settings: a ``basic`` form and a foldable ``advanced`` one."""

    def __init__(self):
        self.hidden_size = SpinBox(label="Hidden size", min=1, max=8192,
                                   value=DEFAULTS.hidden_size,
                                   tooltip="RNN units; more can memorize more rows.")
        self.cell = ComboBox(label="Cell", value=DEFAULTS.cell,
                             choices=[("LSTM", "lstm"), ("GRU", "gru"), ("RNN", "rnn")])
        self.mode = ComboBox(
            label="Mode", value=DEFAULTS.mode,
            choices=["many-to-many", "many-to-one"],
            tooltip="many-to-many: the RNN reads every row above; many-to-one: a window of "
                    "the last 'context' rows predicts the next one.")
        self.context = SpinBox(label="Context rows", min=1, max=4096, value=DEFAULTS.context,
                               tooltip="many-to-one: how many previous rows the window holds.")
        self.bidirectional = CheckBox(label="Bidirectional", value=DEFAULTS.bidirectional)
        self.values = ComboBox(
            label="Values", value="continuous",
            choices=[("binary (0/1)", "binary"), ("continuous intensities", "continuous"),
                     ("K levels", "levels")],
            tooltip="What the model predicts for each value: binary (the image is "
                    "binarized), a continuous intensity, or one of K intensity levels.")
        self.levels = SpinBox(label="Levels (K)", min=2, max=256, value=DEFAULTS.levels,
                              tooltip="Values 'K levels': intensities in the softmax.")
        self.binarize = ComboBox(
            label="Binarize", value="off",
            choices=[("no (intensities)", "off"), ("Otsu threshold", "otsu"),
                     ("fixed threshold", "fixed")],
            tooltip="Binary images learn faster and complete sharper. Binarizing means "
                    "binary values, and binary values need a threshold.")
        self.threshold = FloatSpinBox(label="Threshold", min=0.01, max=0.99, step=0.01,
                                      value=0.5, tooltip="On intensities scaled to [0, 1].")
        self.steps = SpinBox(label="Steps", min=1, max=1_000_000, value=DEFAULTS.steps)
        self.basic = Container(widgets=[self.hidden_size, self.cell, self.mode, self.context,
                                        self.bidirectional, self.values, self.levels,
                                        self.binarize, self.threshold, self.steps])

        self.num_layers = SpinBox(label="Layers", min=1, max=16, value=DEFAULTS.num_layers)
        self.dropout = FloatSpinBox(label="Dropout", min=0.0, max=0.95, step=0.05,
                                    value=DEFAULTS.dropout,
                                    tooltip="Between stacked layers (needs layers > 1).")
        self.batch_norm = CheckBox(label="Batch norm", value=DEFAULTS.batch_norm)
        self.lr = FloatSpinBox(label="Learning rate", min=0.0001, max=1.0, step=0.0005,
                               value=DEFAULTS.lr)
        self.batch_size = SpinBox(label="Batch size", min=1, max=4096, value=DEFAULTS.batch_size,
                                  tooltip="Slices per step (many-to-one: 4x as many windows).")
        self.seed = SpinBox(label="Seed", min=0, max=MAX_SEED, value=DEFAULTS.seed)
        self.device = ComboBox(label="Device", choices=available_devices(), value="auto")
        self.within_row = ComboBox(
            label="Within a row", value=DEFAULTS.within_row,
            choices=[("all values at once", "independent"),
                     ("left to right (R, G, B)", "autoregressive")],
            tooltip="Left to right: each value of a new row also sees the values to its "
                    "left (sharper rows, slower generation).")
        self.granularity = ComboBox(
            label="Step", value=DEFAULTS.granularity,
            choices=[("one row", "row"), ("one pixel", "pixel")],
            tooltip="What one RNN step reads. One pixel: grayscale images of at most "
                    "128 x 128 pixels (slow).")
        self.advanced = Container(widgets=[self.num_layers, self.dropout, self.batch_norm,
                                           self.within_row, self.granularity, self.lr,
                                           self.batch_size, self.seed, self.device])

        self.values.changed.connect(self._on_values)
        self.binarize.changed.connect(self._on_binarize)
        self.mode.changed.connect(self._sync_enabled)
        self.granularity.changed.connect(self._sync_enabled)
        self.num_layers.changed.connect(self._sync_enabled)
        self._sync_enabled()

    def _on_values(self, *_) -> None:
        """Binary values need a binarized image; intensities need the image as it is."""
        if self.values.value != "binary":
            self.binarize.value = "off"
        elif self.binarize.value == "off":
            self.binarize.value = "otsu"
        self._sync_enabled()

    def _on_binarize(self, *_) -> None:
        if self.binarize.value != "off":
            self.values.value = "binary"
        elif self.values.value == "binary":
            self.values.value = "continuous"
        self._sync_enabled()

    def _sync_enabled(self, *_) -> None:
        """Enable only the settings that apply; say why bidirectional is off."""
        window = self.mode.value == "many-to-one"
        self.context.enabled = window
        if not window:
            self.bidirectional.value = False
        self.bidirectional.enabled = window
        self.bidirectional.tooltip = (
            "Read each window of previous rows in both directions." if window
            else BIDIRECTIONAL_WHY)
        self.threshold.enabled = self.binarize.value == "fixed"
        self.dropout.enabled = self.num_layers.value > 1
        self.levels.enabled = self.values.value == "levels"
        pixels = self.granularity.value == "pixel"
        if pixels:  # one value per step: nothing to its left within the step
            self.within_row.value = "independent"
        self.within_row.enabled = not pixels

    def train_config(self, keep_rows: int | None, rgb: bool) -> TrainConfig:
        """The training settings; ``keep_rows`` None trains on the whole image."""
        binarize = {"off": False, "otsu": True}.get(self.binarize.value,
                                                    float(self.threshold.value))
        return TrainConfig(
            keep_rows=keep_rows, steps=self.steps.value, lr=float(self.lr.value),
            hidden_size=self.hidden_size.value, num_layers=self.num_layers.value,
            cell=self.cell.value, mode=self.mode.value, context=self.context.value,
            bidirectional=bool(self.bidirectional.value), batch_norm=self.batch_norm.value,
            dropout=float(self.dropout.value) if self.num_layers.value > 1 else 0.0,
            binarize=binarize, values=self.values.value, levels=self.levels.value,
            within_row=self.within_row.value, granularity=self.granularity.value, rgb=rgb,
            seed=self.seed.value, device=self.device.value,
            batch_size=self.batch_size.value, threads=GUI_TORCH_THREADS,
        )


class CompletionSettings(Container):
    """How to complete: samples, temperature, seed, uncertainty, which slices of a stack."""

    def __init__(self):
        self.samples = SpinBox(label="Samples", min=1, max=64, value=1,
                               tooltip="More than 1 draws that many completions in one batch "
                                       "and stacks them along a new first axis, most "
                                       "probable first.")
        self.draw = CheckBox(label="Draw values", value=False,
                             tooltip="Off: each value is the most probable one (binary, "
                                     "levels) or the median (continuous), so the result is "
                                     "repeatable.")
        self.temperature = FloatSpinBox(label="Temperature", min=0.0, max=100.0, step=0.1,
                                        value=1.0, tooltip="Randomness of draws (0 = none).")
        self.seed = SpinBox(label="Sampling seed", min=0, max=MAX_SEED, value=0,
                            tooltip="Same seed and settings, same samples.")
        self.uncertainty = CheckBox(label="Uncertainty layer", value=False,
                                    tooltip="Add a layer of how much the samples disagree "
                                            "at each pixel (needs 2 or more samples).")
        self.uncertainty_kind = ComboBox(
            label="Uncertainty", value="std",
            choices=[("standard deviation", "std"), ("entropy (bits)", "entropy")])
        self.slices = ComboBox(label="Slices", value="all",
                               choices=[("all slices", "all"), ("current slice", "current")])
        super().__init__(widgets=[self.samples, self.draw, self.temperature, self.seed,
                                  self.uncertainty, self.uncertainty_kind, self.slices])
        for widget in (self.samples, self.draw, self.uncertainty):
            widget.changed.connect(self._sync_enabled)
        self._sync_enabled()

    def _sync_enabled(self, *_) -> None:
        """Temperature only matters when values are drawn; uncertainty needs samples."""
        many = self.samples.value > 1
        self.temperature.enabled = self.draw.value or many
        self.uncertainty.enabled = many
        self.uncertainty_kind.enabled = many and self.uncertainty.value

    def request(self, keep_rows: int) -> CompletionRequest:
        many = self.samples.value > 1
        return CompletionRequest(
            keep_rows=keep_rows, samples=self.samples.value, sample=bool(self.draw.value),
            temperature=float(self.temperature.value), seed=self.seed.value,
            uncertainty=self.uncertainty_kind.value if many and self.uncertainty.value
            else None)
