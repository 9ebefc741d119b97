"""The widget's settings forms (magicgui) and how they read into the core's configs.

The forms are read on the GUI thread into a :class:`~napari_pixelrnn.core.TrainConfig` or
a :class:`~napari_pixelrnn.core.CompletionConfig`; workers only ever see those. Every
form field is named after the config field it fills (a test checks the two match, and
that every choice offered is one of the core's).
"""

from __future__ import annotations

from magicgui.widgets import CheckBox, ComboBox, Container, FloatSpinBox, SpinBox

from ..core import CompletionConfig, TrainConfig, owner
from ..core.config import ARCHITECTURE_DEFAULTS, INTENSITIES, ONLY_FOR, PRETRAINED_LR
from ..core.descriptions import COMPLETION_DESCRIPTIONS, DESCRIPTIONS
from ..core.device import available_devices
from .jobs import GUI_TORCH_THREADS

# One source of truth for the defaults, the core's config: the form first shows those of
# the default architecture (hidden size, steps, learning rate, intensity model).
DEFAULTS = TrainConfig().resolved()
ARCH_NAMES = {"row-lstm": "Row LSTM", "dense": "dense"}
BIDIRECTIONAL_WHY = (
    "Only with mode many-to-one. In many-to-many mode the backward direction would read "
    "the rows below each position, so the model would see the row it has to predict."
)
MAX_SEED = 2**31 - 1


def tooltip(name: str, descriptions: dict = DESCRIPTIONS) -> str:
    """The core's description of setting ``name`` (a training one unless ``descriptions``
    says otherwise), as a sentence."""
    text = descriptions[name]
    return f"{text[:1].upper()}{text[1:]}."


def _completion_tooltip(name: str) -> str:
    return tooltip(name, COMPLETION_DESCRIPTIONS)


def _field(kind, name: str, label: str, **options):
    """A ``kind`` widget for TrainConfig field ``name``: it shows the core's default and
    its description."""
    return kind(label=label, value=getattr(DEFAULTS, name), tooltip=tooltip(name), **options)


class ModelSettings:
    """Network and training settings: a ``basic`` form and a foldable ``advanced`` one."""

    def __init__(self):
        self.architecture = _field(ComboBox, "architecture", "Architecture", choices=[
            ("Row LSTM (the paper)", "row-lstm"), ("dense (the lab note)", "dense")])
        self.pretrained = _field(CheckBox, "pretrained", "Pretrained start")
        self.hidden_size = _field(SpinBox, "hidden_size", "Hidden size", min=1, max=8192)
        self.cell = _field(ComboBox, "cell", "Cell",
                           choices=[("LSTM", "lstm"), ("GRU", "gru"), ("RNN", "rnn")])
        self.mode = _field(ComboBox, "mode", "Mode", choices=["many-to-many", "many-to-one"])
        self.context = _field(SpinBox, "context", "Context rows", min=1, max=4096)
        self.bidirectional = _field(CheckBox, "bidirectional", "Bidirectional")
        self.values = _field(ComboBox, "values", "Values", choices=[
            ("binary (0/1)", "binary"), ("continuous intensities", "continuous"),
            ("K levels", "levels"), ("mixture of logistics", "mixture")])
        self.levels = _field(SpinBox, "levels", "Levels (K)", min=2, max=256)
        self.components = _field(SpinBox, "components", "Components", min=1, max=32)
        self.kernel = _field(SpinBox, "kernel", "Kernel", min=1, max=31, step=2)
        self.prior = _field(ComboBox, "prior", "Prior", choices=[
            ("edge guess (codec)", "edge"), ("value above", "above")])
        self.crop = _field(SpinBox, "crop", "Crop", min=2, max=4096)
        self.flip = _field(CheckBox, "flip", "Mirrored crops")
        self.rotate = _field(CheckBox, "rotate", "Turned crops")
        self.calibrate = _field(CheckBox, "calibrate", "Level calibration")
        self.input_noise = _field(FloatSpinBox, "input_noise", "Noise on rows read", min=0.0,
                                  max=1.0, step=0.01)
        self.own_rows = _field(FloatSpinBox, "own_rows", "Own draws read", min=0.0, max=1.0,
                               step=0.1)
        self.validation = _field(FloatSpinBox, "validation", "Validation share", min=0.0,
                                 max=0.5, step=0.05)
        self.patience = _field(SpinBox, "patience", "Patience", min=0, max=100_000)
        self.binarize = ComboBox(  # with the threshold: TrainConfig.binarize
            label="Binarize", value="off", tooltip=tooltip("binarize"),
            choices=[("no (intensities)", "off"), ("Otsu threshold", "otsu"),
                     ("fixed threshold", "fixed")])
        self.threshold = FloatSpinBox(label="Threshold", min=0.01, max=0.99, step=0.01,
                                      value=0.5, tooltip="On intensities scaled to [0, 1].")
        self.steps = _field(SpinBox, "steps", "Steps", min=1, max=1_000_000)
        self.basic = Container(widgets=[
            self.architecture, self.pretrained, self.hidden_size, self.cell, self.mode,
            self.context, self.bidirectional, self.crop, self.validation, self.patience,
            self.values, self.levels, self.components, self.binarize, self.threshold,
            self.steps])

        self.num_layers = _field(SpinBox, "num_layers", "Layers", min=1, max=16)
        self.dropout = _field(FloatSpinBox, "dropout", "Dropout", min=0.0, max=0.95, step=0.05)
        self.batch_norm = _field(CheckBox, "batch_norm", "Batch norm")
        self.lr = _field(FloatSpinBox, "lr", "Learning rate", min=0.0001, max=1.0,
                         step=0.0005)
        self.weight_decay = _field(FloatSpinBox, "weight_decay", "Weight decay", min=0.0,
                                   max=9.99, step=0.001)
        self.batch_size = _field(SpinBox, "batch_size", "Batch size", min=1, max=4096)
        self.seed = _field(SpinBox, "seed", "Seed", min=0, max=MAX_SEED)
        self.device = _field(ComboBox, "device", "Device", choices=available_devices())
        self.within_row = _field(ComboBox, "within_row", "Within a row", choices=[
            ("all values at once", "independent"),
            ("left to right (R, G, B)", "autoregressive")])
        self.granularity = _field(ComboBox, "granularity", "Step",
                                  choices=[("one row", "row"), ("one pixel", "pixel")])
        self.advanced = Container(widgets=[
            self.kernel, self.prior, self.flip, self.rotate, self.calibrate,
            self.input_noise, self.own_rows, self.num_layers,
            self.dropout, self.batch_norm, self.within_row, self.granularity, self.lr,
            self.weight_decay, self.batch_size, self.seed, self.device])
        self._architecture = DEFAULTS.architecture  # the one whose defaults the form shows

        self.architecture.changed.connect(self._on_architecture)
        self.pretrained.changed.connect(self._on_pretrained)
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
        self._on_pretrained()

    def _on_pretrained(self, *_) -> None:
        """Fine-tuning pretrained weights has its own default learning rate."""
        arch = self.architecture.value
        self.lr.value = (PRETRAINED_LR if arch == "row-lstm" and self.pretrained.value
                         else ARCHITECTURE_DEFAULTS[arch]["lr"])
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
        for name in (name for names in ONLY_FOR.values() for name in names):
            widget, mine = getattr(self, name), owner(name) == arch
            widget.enabled = mine and applies.get(name, True)
            widget.tooltip = tooltip(name) if mine else (
                f"{ARCH_NAMES[owner(name)]} architecture only. {tooltip(name)}")
        if arch == "dense" and not window:
            self.bidirectional.tooltip = BIDIRECTIONAL_WHY
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
               "within_row", "granularity", "kernel", "prior", "pretrained", "crop", "flip",
               "rotate", "calibrate", "input_noise", "own_rows", "validation", "patience")
GUI_ONLY = ("threshold",)  # read into binarize


class CompletionSettings(Container):
    """How to complete: samples, temperature, seed, uncertainty, which slices of a stack."""

    def __init__(self):
        self.samples = SpinBox(label="Samples", min=1, max=64, value=1,
                               tooltip=_completion_tooltip("samples")[:-1] + ", stacked "
                                       "along a new first axis.")
        self.draw = CheckBox(label="Draw values", value=False,
                             tooltip=_completion_tooltip("sample"))
        self.temperature = FloatSpinBox(label="Temperature", min=0.0, max=100.0, step=0.1,
                                        value=1.0, tooltip=_completion_tooltip("temperature"))
        self.seed = SpinBox(label="Sampling seed", min=0, max=MAX_SEED, value=0,
                            tooltip=_completion_tooltip("seed"))
        self.uncertainty = CheckBox(label="Uncertainty layer", value=False,
                                    tooltip=_completion_tooltip("uncertainty"))
        self.uncertainty_kind = ComboBox(
            label="Uncertainty", value="std",
            choices=[("standard deviation", "std"), ("entropy (bits)", "entropy")])
        self.mean = CheckBox(label="Mean layer", value=False,
                             tooltip=_completion_tooltip("mean"))
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
