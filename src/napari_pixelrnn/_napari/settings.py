"""The widget's settings forms (magicgui) and how they read into the core's configs.

The forms are read on the GUI thread into a :class:`~napari_pixelrnn.core.TrainConfig` or
a :class:`~napari_pixelrnn.core.CompletionConfig`; workers only ever see those. Every
form field is named after the config field it fills (a test checks the two match, and
that every choice offered is one of the core's).
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox

from ..core import CompletionConfig, TrainConfig, owner
from ..core.config import ARCHITECTURE_DEFAULTS, INTENSITIES, ONLY_FOR
from ..core.device import available_devices
from .jobs import GUI_TORCH_THREADS

DEFAULTS = TrainConfig()  # one source of truth for the defaults: the core's config
ARCH_NAMES = {"row-lstm": "Row LSTM", "dense": "dense"}
BIDIRECTIONAL_WHY = (
    "Only with mode many-to-one. In many-to-many mode the backward direction would read "
    "the rows below each position, so the model would see the row it has to predict."
)
MAX_SEED = 2**31 - 1


class ModelSettings:
    """Network and training settings: a ``basic`` form and a foldable ``advanced`` one."""

    def __init__(self):
        arch = DEFAULTS.architecture
        self.architecture = ComboBox(
            label="Architecture", value=arch,
            choices=[("Row LSTM (the paper)", "row-lstm"), ("dense (the lab note)", "dense")],
            tooltip="Row LSTM: small weights shared by every column, trained on crops of "
                    "the kept rows; it completes rows it has not seen. Dense: one weight per "
                    "column; it reproduces rows it was trained on (the lab note's "
                    "reconstruction experiment).")
        defaults = ARCHITECTURE_DEFAULTS[arch]
        self.hidden_size = SpinBox(label="Hidden size", min=1, max=8192,
                                   value=defaults["hidden_size"],
                                   tooltip="Dense: RNN units, more can memorize more rows. "
                                           "Row LSTM: features per pixel.")
        self.cell = ComboBox(label="Cell", value=DEFAULTS.cell,
                             choices=[("LSTM", "lstm"), ("GRU", "gru"), ("RNN", "rnn")],
                             tooltip="The recurrent cell that reads the rows.")
        self.mode = ComboBox(
            label="Mode", value=DEFAULTS.mode,
            choices=["many-to-many", "many-to-one"],
            tooltip="many-to-many: the RNN reads every row above; many-to-one: a window of "
                    "the last 'context' rows predicts the next one.")
        self.context = SpinBox(label="Context rows", min=1, max=4096, value=DEFAULTS.context,
                               tooltip="many-to-one: how many previous rows the window holds.")
        self.bidirectional = CheckBox(label="Bidirectional", value=DEFAULTS.bidirectional)
        self.values = ComboBox(
            label="Values", value=INTENSITIES[arch],
            choices=[("binary (0/1)", "binary"), ("continuous intensities", "continuous"),
                     ("K levels", "levels"), ("mixture of logistics", "mixture")],
            tooltip="What the model predicts for each value: binary (the image is "
                    "binarized), a continuous intensity (one discretized logistic), one of "
                    "K intensity levels, or a mixture of discretized logistics.")
        self.levels = SpinBox(label="Levels (K)", min=2, max=256, value=DEFAULTS.levels,
                              tooltip="Values 'K levels': intensities in the softmax.")
        self.components = SpinBox(label="Components", min=1, max=32,
                                  value=DEFAULTS.components,
                                  tooltip="Values 'mixture': logistics per value.")
        self.kernel = SpinBox(label="Kernel", min=1, max=31, step=2, value=DEFAULTS.kernel,
                              tooltip="Row LSTM: input-to-state kernel along the row (odd).")
        self.prior = ComboBox(
            label="Prior", value=DEFAULTS.prior,
            choices=[("edge guess (codec)", "edge"), ("value above", "above")],
            tooltip="Row LSTM, intensity values: what each value's distribution starts "
                    "from: a lossless codec's guess from the neighbours (edge), or the "
                    "value above.")
        self.crop = SpinBox(label="Crop", min=2, max=4096, value=DEFAULTS.crop,
                            tooltip="Row LSTM: each training sequence is a random crop x "
                                    "crop patch of the kept rows.")
        self.flip = CheckBox(label="Mirrored crops", value=DEFAULTS.flip,
                             tooltip="Row LSTM: also train on mirrored crops; turn it "
                                     "off for images that are not mirror-symmetric (text, "
                                     "oriented structures).")
        self.validation = FloatSpinBox(
            label="Validation share", min=0.0, max=0.5, step=0.05, value=DEFAULTS.validation,
            tooltip="Row LSTM: share of the kept rows (the last ones) held out to validate "
                    "on; training keeps the best weights and stops early when they stop "
                    "improving. 0 = no validation.")
        self.patience = SpinBox(label="Patience", min=0, max=100_000, value=DEFAULTS.patience,
                                tooltip="Row LSTM: validations without improvement before "
                                        "training stops early (0 = never).")
        self.binarize = ComboBox(
            label="Binarize", value="off",
            choices=[("no (intensities)", "off"), ("Otsu threshold", "otsu"),
                     ("fixed threshold", "fixed")],
            tooltip="Binary images learn faster and complete sharper. Binarizing means "
                    "binary values, and binary values need a threshold.")
        self.threshold = FloatSpinBox(label="Threshold", min=0.01, max=0.99, step=0.01,
                                      value=0.5, tooltip="On intensities scaled to [0, 1].")
        self.steps = SpinBox(label="Steps", min=1, max=1_000_000, value=defaults["steps"],
                             tooltip="Optimizer steps (the Row LSTM may stop earlier).")
        self.basic = Container(widgets=[
            self.architecture, self.hidden_size, self.cell, self.mode, self.context,
            self.bidirectional, self.crop, self.validation, self.patience, self.values,
            self.levels, self.components, self.binarize, self.threshold, self.steps])

        self.num_layers = SpinBox(label="Layers", min=1, max=16, value=DEFAULTS.num_layers)
        self.dropout = FloatSpinBox(label="Dropout", min=0.0, max=0.95, step=0.05,
                                    value=DEFAULTS.dropout,
                                    tooltip="Dense: between stacked layers (needs layers > 1). "
                                            "Row LSTM: on the row state.")
        self.batch_norm = CheckBox(label="Batch norm", value=DEFAULTS.batch_norm)
        self.lr = FloatSpinBox(label="Learning rate", min=0.0001, max=1.0, step=0.0005,
                               value=defaults["lr"])
        self.weight_decay = FloatSpinBox(label="Weight decay", min=0.0, max=9.99, step=0.001,
                                         value=DEFAULTS.weight_decay,
                                         tooltip="AdamW decoupled weight decay.")
        self.batch_size = SpinBox(label="Batch size", min=1, max=4096, value=DEFAULTS.batch_size,
                                  tooltip="Slices (Row LSTM: crops) per step; many-to-one "
                                          "takes 4x as many windows.")
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
        self.advanced = Container(widgets=[
            self.kernel, self.prior, self.flip, self.num_layers, self.dropout, self.batch_norm,
            self.within_row, self.granularity, self.lr, self.weight_decay, self.batch_size,
            self.seed, self.device])
        self._tooltips = {name: getattr(self, name).tooltip or ""
                          for names in ONLY_FOR.values() for name in names}
        self._architecture = arch  # the one whose defaults the form shows

        self.architecture.changed.connect(self._on_architecture)
        self.values.changed.connect(self._on_values)
        self.binarize.changed.connect(self._on_binarize)
        self.mode.changed.connect(self._sync_enabled)
        self.granularity.changed.connect(self._sync_enabled)
        self.num_layers.changed.connect(self._sync_enabled)
        self._sync_enabled()

    def _on_architecture(self, *_) -> None:
        """Show the new architecture's defaults where they differ (hidden size, steps,
        learning rate; the intensity model if it was the old one's)."""
        old, new = self._architecture, self.architecture.value
        self._architecture = new
        for name, value in ARCHITECTURE_DEFAULTS[new].items():
            getattr(self, name).value = value
        if self.values.value == INTENSITIES[old]:
            self.values.value = INTENSITIES[new]
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
            self.values.value = INTENSITIES[self.architecture.value]
        self._sync_enabled()

    def _sync_enabled(self, *_) -> None:
        """Enable only the settings that apply: the other architecture's are greyed out
        (their tooltip says whose they are); say why bidirectional is off."""
        arch = self.architecture.value
        window = self.mode.value == "many-to-one"
        if not window:
            self.bidirectional.value = False
        pixels = self.granularity.value == "pixel"
        if pixels:  # one value per step: nothing to its left within the step
            self.within_row.value = "independent"
        applies = {"context": window, "bidirectional": window, "within_row": not pixels}
        for name, tooltip in self._tooltips.items():
            widget, mine = getattr(self, name), owner(name) == arch
            widget.enabled = mine and applies.get(name, True)
            widget.tooltip = tooltip if mine else (
                f"{ARCH_NAMES[owner(name)]} architecture only. {tooltip}".strip())
        if arch == "dense":
            self.bidirectional.tooltip = (
                "Read each window of previous rows in both directions." if window
                else BIDIRECTIONAL_WHY)
        self.threshold.enabled = self.binarize.value == "fixed"
        self.dropout.enabled = self.num_layers.value > 1 or arch == "row-lstm"
        self.levels.enabled = self.values.value == "levels"
        self.components.enabled = self.values.value == "mixture"

    def train_config(self, keep_rows: int | None, rgb: bool) -> TrainConfig:
        """The training settings; ``keep_rows`` None trains on the whole image. The other
        architecture's settings (greyed out) stay at the core's defaults."""
        arch = self.architecture.value
        shared = [name for name in FORM_FIELDS if owner(name) is None]
        values = {name: getattr(self, name).value for name in (*shared, *ONLY_FOR[arch])}
        values["dropout"] = values["dropout"] if self.dropout.enabled else 0.0
        return TrainConfig(keep_rows=keep_rows, rgb=rgb, threads=GUI_TORCH_THREADS,
                           binarize=self.binarize_setting(), **values)

    def binarize_setting(self) -> bool | float:
        """The Binarize form as TrainConfig.binarize: off, Otsu or a fixed threshold."""
        return {"off": False, "otsu": True}.get(self.binarize.value,
                                                float(self.threshold.value))


# TrainConfig fields the model form fills one to one (binarize from two widgets; the
# cut, the colour axis and the torch threads come from the layer and the widget).
FORM_FIELDS = ("architecture", "steps", "lr", "hidden_size", "num_layers", "dropout",
               "weight_decay", "values", "levels", "components", "seed", "device",
               "batch_size", "cell", "mode", "context", "bidirectional", "batch_norm",
               "within_row", "granularity", "kernel", "prior", "crop", "flip", "validation",
               "patience")
GUI_ONLY = ("threshold",)  # read into binarize


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
        self.mean = CheckBox(label="Mean layer", value=False,
                             tooltip="Add a layer of the posterior mean: the pixel-wise "
                                     "average of the samples (needs 2 or more samples).")
        self.slices = ComboBox(label="Slices", value="all",
                               choices=[("all slices", "all"), ("current slice", "current")])
        super().__init__(widgets=[self.samples, self.draw, self.temperature, self.seed,
                                  self.uncertainty, self.uncertainty_kind, self.mean,
                                  self.slices])
        for widget in (self.samples, self.draw, self.uncertainty):
            widget.changed.connect(self._sync_enabled)
        self._sync_enabled()

    def _sync_enabled(self, *_) -> None:
        """Temperature only matters when values are drawn; uncertainty needs samples."""
        many = self.samples.value > 1
        self.temperature.enabled = self.draw.value or many
        self.uncertainty.enabled = many
        self.uncertainty_kind.enabled = many and self.uncertainty.value
        self.mean.enabled = many

    @property
    def current_slice(self) -> bool:
        """Whether to complete only the slice shown (offered for stacks only)."""
        return self.slices.enabled and self.slices.value == "current"

    def config(self) -> CompletionConfig:
        """The completion settings: ``samples`` > 1 (or Draw values) draws values."""
        count, draw = self.samples.value, bool(self.draw.value)
        draws = draw or count > 1
        many = count > 1
        return CompletionConfig(
            sample=draws, temperature=float(self.temperature.value), seed=self.seed.value,
            samples=count if draws else None,
            uncertainty=self.uncertainty_kind.value if many and self.uncertainty.value
            else None, mean=many and bool(self.mean.value))
