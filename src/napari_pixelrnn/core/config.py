"""The settings of a training run and of a completion: declared once, validated once.

The napari widget's forms and the command line's options are built from (and tested
against) these dataclasses, so a new setting is added here and shows up in both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from .dense.model import CELLS, GRANULARITIES, MODES, WITHIN_ROW, ModelConfig
from .errors import PixelRNNError, check_choice
from .row_lstm import PRIORS, RowLSTMConfig
from .row_lstm.pretrained import LR as PRETRAINED_LR
from .row_lstm.pretrained import check_shape
from .uncertainty import KINDS as UNCERTAINTY_KINDS
from .values import VALUE_KINDS

ARCHITECTURES = ("row-lstm", "dense")

# Settings whose default depends on the architecture (None in TrainConfig means these).
ARCHITECTURE_DEFAULTS = {
    # The lab note's model: enough units to memorize a 256-row binary image.
    "dense": {"hidden_size": 256, "steps": 300, "lr": 3e-3},
    # The paper's Row LSTM, sized by measurement on the bundled images (docs/benchmarks.md):
    # per-pixel features, trained on crops until the validation rows stop improving.
    "row-lstm": {"hidden_size": 32, "steps": 800, "lr": 3e-3},
}

# TrainConfig fields that only one architecture has (every other field applies to both).
# Giving one a value other than its default with the other architecture is an error.
ONLY_FOR = {
    "dense": ("cell", "mode", "context", "bidirectional", "batch_norm", "within_row",
              "granularity"),
    "row-lstm": ("kernel", "prior", "pretrained", "crop", "flip", "rotate", "calibrate",
                 "input_noise", "own_rows", "validation", "patience"),
}

# The choices of the settings that have a fixed list (the front ends offer these).
CHOICES = {
    "architecture": ARCHITECTURES,
    "cell": tuple(CELLS),
    "mode": MODES,
    "values": VALUE_KINDS,
    "within_row": WITHIN_ROW,
    "granularity": GRANULARITIES,
    "prior": PRIORS,
}
MAX_SAMPLES = 1000  # completions drawn in one batch at most


def owner(setting: str) -> str | None:
    """The architecture a setting belongs to, or None when both have it."""
    return next((arch for arch, names in ONLY_FOR.items() if setting in names), None)


def resolve_values(values: str | None, binarize: bool | float | None, architecture: str
                   ) -> tuple[str, bool | float]:
    """The value model and the binarization it implies: the one place where "binary
    values" and "binarize the image" (one choice stored in two settings) are reconciled.

    ``values=None`` means binary when binarizing, else the architecture's intensity model;
    binary values without a threshold binarize by Otsu's; intensities refuse a threshold.
    """
    binarizing = binarize is not False and binarize is not None
    if values is None:
        return ("binary" if binarizing else INTENSITIES[architecture]), binarize
    if values == "binary" and not binarizing:
        return values, True  # a Bernoulli model learns binarized images: Otsu's threshold
    if values != "binary" and binarizing:
        raise PixelRNNError(
            f"binarize={binarize!r} makes the image binary, but values={values!r} models "
            "intensities: use values='binary', or binarize=False.")
    return values, binarize


# What each architecture models intensities with when values is not given.
INTENSITIES = {"row-lstm": "mixture", "dense": "continuous"}


@dataclass
class TrainConfig:
    """Everything a training run needs besides the image (the widget and CLI fill it).

    Built, it is validated: a bad setting raises :class:`PixelRNNError` at once, before
    any image is read. :meth:`check` validates the images; :meth:`model_config` gives the
    network's settings.
    """

    keep_rows: int | None = None  # learn from rows 0..keep_rows-1 only; None = all rows
    # "row-lstm": the PixelRNN paper's Row LSTM, one small set of weights shared by every
    # column (completes unseen rows); "dense": the lab note's model, one weight per column
    # (reproduces the rows it was trained on: the reconstruction experiment)
    architecture: str = "row-lstm"
    steps: int | None = None  # optimizer steps; None = the architecture's default
    lr: float | None = None  # Adam learning rate, cosine-decayed to a tenth; None = default
    hidden_size: int | None = None  # dense: RNN units; row-lstm: features per pixel
    num_layers: int = 1  # stacked RNN layers
    cell: str = "lstm"  # dense: "lstm", "gru" or "rnn"; torch's CPU LSTM is 3x faster than GRU
    mode: str = "many-to-many"  # dense: or "many-to-one" (a window of previous rows)
    context: int = 16  # dense, many-to-one: window length in rows
    bidirectional: bool = False  # dense, many-to-one only; see GenModel
    batch_norm: bool = True  # dense: causal batch norm after the encoder
    dropout: float = 0.0  # dense: between stacked RNN layers; row-lstm: on the row state
    binarize: bool | float = False  # True = Otsu threshold, a float = fixed threshold
    # "binary", "continuous", "levels" or "mixture"; None = binary if binarized, else
    # continuous (dense) or mixture (row-lstm)
    values: str | None = None
    levels: int = 256  # values="levels": K intensities in the softmax (2..256)
    components: int = 5  # values="mixture": K discretized logistics per value
    within_row: str = "independent"  # dense: or "autoregressive" (row-lstm always is)
    granularity: str = "row"  # dense: or "pixel", one pixel per step (small grayscale images)
    kernel: int = 5  # row-lstm: input-to-state kernel along the row (odd); 5 drew brick
    # textures with truer row-to-row variation than 3 (docs/benchmarks.md)
    # row-lstm, intensity values: what each value's distribution starts from, "edge" (a
    # lossless codec's guess from the neighbours; see row_lstm/edge_prior.py) or "above"
    prior: str = "edge"
    # row-lstm: start from weights learned on other photographs (shipped; none of them a
    # benchmark image) and fine-tune them on the kept rows at a tenth of the learning rate,
    # keeping them if fine-tuning does not help the validation rows (see
    # row_lstm/pretrained.py); grayscale and RGB images, the default Row LSTM shape
    pretrained: bool = False
    crop: int = 32  # row-lstm: each sequence is a random crop x crop patch of the kept rows
    # row-lstm: also train on mirrored crops, as for most photographs and textures; turn
    # it off for images that are not mirror-symmetric (text, oriented structures)
    flip: bool = True
    # row-lstm: also train on crops turned by 90, 180 and 270 degrees, for textures with
    # no up and no preferred direction (off by default: on the bundled bricks, rows of
    # bricks, it cost 0.08 bits/dim; on camera, astronaut and grass it gained 0.09-0.11)
    rotate: bool = False
    # row-lstm: after training, fit one offset per channel that drawing adds, so that the
    # model's own continuations of its training rows keep their mean intensity (see
    # row_lstm/calibration.py); off by default: it kept the draws of textures level (the
    # bricks' brightened by 15 levels without it) but darkened the camera's
    calibrate: bool = False
    # row-lstm: standard deviation of Gaussian noise added, while training, to the rows
    # each row is predicted from (intensities in [0, 1]; the predicted row stays clean):
    # drawing reads the model's own imperfect rows, and a model that has only read true
    # rows can amplify its errors row after row; 0 = off (it costs bits/dim)
    input_noise: float = 0.0
    # row-lstm: share of the rows read, while training, that are the model's own draws
    # of them (each drawn from the true rows above it: scheduled sampling, in parallel)
    # instead of the true rows: a model that has only read true rows can take its own
    # draws' errors for structure; 0 = off (each step then costs a second forward pass)
    own_rows: float = 0.0
    # row-lstm: share of each image's kept rows (its last ones) held out to validate on,
    # for early stopping and the best weights; 0 = no validation
    validation: float = 0.1
    patience: int = 5  # validations without improvement before training stops early
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    rgb: bool | None = None  # last axis is colour; None = guess like napari
    seed: int = 0  # same seed, same result on the CPU
    device: str = "auto"  # "auto", "cpu", "cuda" or "mps"
    batch_size: int = 16  # slices or crops per step; many-to-one takes 4x as many windows
    threads: int | None = None  # torch CPU threads while training; None = leave torch's setting.
    # Per-row RNN work is small: one thread loses little and leaves a core to the GUI.

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise PixelRNNError(f"Unknown architecture {self.architecture!r}: accepted are "
                                f"{', '.join(ARCHITECTURES)}.")
        defaults = ARCHITECTURE_DEFAULTS[self.architecture]
        if any(getattr(self, name) is None for name in defaults):
            self.resolved()  # validated when built, with the defaults in place
            return
        _check_numbers(self)
        resolve_values(self.values, self.binarize, self.architecture)
        _check_owned_settings(self)
        if self.architecture == "row-lstm":
            _check_row_lstm_settings(self)
        self.model_config(input_size=1, channels=1)  # the network's own checks

    @classmethod
    def from_settings(cls, **settings) -> TrainConfig:
        """A config from keyword settings, refusing unknown names (``train(**settings)``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise PixelRNNError(
                f"Unknown training setting(s) {', '.join(unknown)}; accepted are "
                f"{', '.join(sorted(known))}."
            )
        return cls(**settings)

    def resolved(self) -> TrainConfig:
        """A copy with the architecture's defaults in place of None and the value model
        resolved (:func:`resolve_values`)."""
        defaults = dict(ARCHITECTURE_DEFAULTS[self.architecture])
        if self.pretrained and self.architecture == "row-lstm":
            defaults["lr"] = PRETRAINED_LR
        filled = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        values, binarize = resolve_values(self.values, self.binarize, self.architecture)
        if not filled and (values, binarize) == (self.values, self.binarize):
            return self
        return replace(self, **filled, values=values, binarize=binarize)

    def model_config(self, input_size: int, channels: int) -> ModelConfig | RowLSTMConfig:
        """The network's settings for rows of ``input_size`` values of ``channels``."""
        c = self.resolved()
        if c.architecture == "row-lstm":
            return RowLSTMConfig(
                channels=channels, hidden_size=c.hidden_size, num_layers=c.num_layers,
                kernel=c.kernel, values=c.values, levels=c.levels, components=c.components,
                dropout=c.dropout, prior=c.prior)
        return ModelConfig(
            input_size=1 if c.granularity == "pixel" else input_size,
            hidden_size=c.hidden_size, num_layers=c.num_layers,
            bidirectional=c.bidirectional, cell=c.cell, mode=c.mode, context=c.context,
            batch_norm=c.batch_norm, dropout=c.dropout, values=c.values, levels=c.levels,
            within_row=c.within_row, granularity=c.granularity, components=c.components)

    def altered_rows(self) -> str | None:
        """How training alters the rows it reads, which its training loss is computed on
        (so that loss is not the clean validation's), or None when it reads true rows."""
        return " and ".join(name for name, on in (("own draws", self.own_rows),
                                                  ("noise", self.input_noise)) if on) or None

    def check(self, images) -> tuple[list[np.ndarray], bool]:
        """Validate training images (one array or a list) against these settings: the
        arrays (the kept rows only, not copied) and whether they are colour. The widget
        and CLI call this before training, so bad data is refused before any work."""
        from .dense.training_set import check_images

        return check_images(images, self.resolved())


def _whole(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise PixelRNNError(f"{name} must be a whole number >= {low}, got {value!r}.")


def _check_numbers(config: TrainConfig) -> None:
    if config.threads is not None:
        try:
            _whole("threads", config.threads, 1)
        except PixelRNNError:
            raise PixelRNNError(f"threads must be None or a whole number >= 1, got "
                                f"{config.threads!r}.") from None
    for name in ("steps", "batch_size", "seed"):
        _whole(name, getattr(config, name), 0 if name == "seed" else 1)
    lr = config.lr
    if not isinstance(lr, (int, float)) or not 0 < lr < 10 or math.isnan(lr):
        raise PixelRNNError(f"lr must be a positive learning rate below 10, got {lr!r}.")
    decay = config.weight_decay
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 10:
        raise PixelRNNError(f"weight_decay must be a number from 0 to 10, got {decay!r}.")


def _check_owned_settings(config: TrainConfig) -> None:
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    for architecture, names in ONLY_FOR.items():
        if architecture == config.architecture:
            continue
        changed = [f"{name}={getattr(config, name)!r}" for name in names
                   if getattr(config, name) != defaults[name]]
        if changed:
            raise PixelRNNError(
                f"{', '.join(changed)}: setting(s) of the {architecture} architecture, which "
                f"the {config.architecture} model does not have. Use "
                f"architecture={architecture!r}, or leave them at their defaults.")


def _check_row_lstm_settings(config: TrainConfig) -> None:
    crop, share, patience = config.crop, config.validation, config.patience
    if isinstance(crop, bool) or not isinstance(crop, (int, np.integer)) or not 2 <= crop <= 4096:
        raise PixelRNNError(f"crop must be a whole number of pixels from 2 to 4096, got {crop!r}.")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 0.5:
        raise PixelRNNError(
            f"validation must be a share of the rows from 0 to 0.5, got {share!r}.")
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
        raise PixelRNNError(f"patience must be a whole number >= 0 (0: never stop early), got "
                            f"{patience!r}.")
    noise = config.input_noise
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise PixelRNNError(f"input_noise must be a standard deviation from 0 to 1 (on "
                            f"intensities in [0, 1]; 0 = off), got {noise!r}.")
    own = config.own_rows
    if isinstance(own, bool) or not isinstance(own, (int, float)) or not 0 <= own <= 1:
        raise PixelRNNError(f"own_rows must be a share of the rows read from 0 to 1 (0 = "
                            f"off), got {own!r}.")
    if not isinstance(config.pretrained, bool):
        raise PixelRNNError(f"pretrained must be True or False, got {config.pretrained!r}.")
    if config.pretrained:
        check_shape(config.resolved())


@dataclass(frozen=True)
class CompletionConfig:
    """How to complete an image besides the image and the cut (the widget and CLI fill
    it; :func:`~napari_pixelrnn.core.complete` takes the same names)."""

    # draw values; False = the most probable value (binary, levels) or the median
    # (continuous), so the result is repeatable; None = draw when samples is given
    sample: bool | None = None
    temperature: float = 1.0  # randomness of draws (0 = deterministic)
    seed: int | None = None  # seed of the whole batch of draws; None = random
    samples: int | None = None  # draw this many completions in one batch, each scored
    uncertainty: str | None = None  # also "std" or "entropy" across samples (samples >= 2)
    mean: bool = False  # also the posterior mean of the samples (samples >= 2)

    def __post_init__(self):
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 100:
            raise PixelRNNError(f"temperature must be a number from 0 to 100, got {t!r}.")
        n = self.samples
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              or not 1 <= n <= MAX_SAMPLES):
            raise PixelRNNError(f"samples must be None or a whole number from 1 to "
                                f"{MAX_SAMPLES}, got {n!r}.")
        if self.uncertainty is not None:
            check_choice("uncertainty", self.uncertainty, UNCERTAINTY_KINDS)

    @property
    def draws(self) -> bool:
        """Whether values are drawn (asking for several completions means drawing them)."""
        return self.samples is not None if self.sample is None else bool(self.sample)

    @property
    def many(self) -> bool:
        """Whether there are several completions to compare (uncertainty, mean)."""
        return self.samples is not None and self.samples >= 2

    def sampler_settings(self) -> dict:
        """The keyword arguments of :func:`~napari_pixelrnn.core.complete_rows`."""
        return {"sample": self.draws, "temperature": float(self.temperature),
                "seed": self.seed, "samples": self.samples}
