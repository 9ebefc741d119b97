"""What the dock says: the model, the losses, how training ended (plain strings)."""

from __future__ import annotations

from ..core import uniform_warning
from ..core.provenance import training_said
from ..core.row_lstm.calibration import offsets_text
from ..core.row_lstm.draw_check import draw_check_text
from ..core.row_lstm.pretrained import step_name
from .jobs import Completed
from .loss_plot import LOSS_UNITS

SHOWN_SAMPLE_SCORES = 8  # per-sample bits/dim listed in the dock (all are in the metadata)
SAVED = "Model saved to "


def quoted(names: list[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def architecture(model) -> str:
    return getattr(model, "architecture", "dense")


def describe(model) -> str:
    """The model in one sentence: family, size, value model, widths it reads."""
    c, spec = model.config, model.data
    values = {"levels": f"{c.levels} levels",
              "mixture": f"a mixture of {getattr(c, 'components', '?')} logistics"}.get(
        c.values, f"{c.values} values")
    if architecture(model) == "row-lstm":
        notes = "".join(f" {note[0].upper()}{note[1:]}." for note in
                        (offsets_text(model), draw_check_text(model)) if note)
        return (f"Model: Row LSTM, {c.hidden_size} features per pixel x {c.num_layers} "
                f"layer(s), kernel {c.kernel}, {values}, left to right within a row; any "
                f"width (trained on images {spec.width} px wide).{notes}")
    order = {"autoregressive": ", left to right within a row"}.get(c.within_row, "")
    step = ", one pixel per step" if c.granularity == "pixel" else ""
    return (f"Model: dense {c.cell.upper()} {c.hidden_size}x{c.num_layers}, {c.mode}, "
            f"{values}{order}{step}, images {spec.width} px wide.")


def describe_loaded(model, name: str) -> str:
    """A model read from a file: what it is, and how it was trained if the file says."""
    return f"Loaded {name}. {describe(model)} {training_said(model)}"


def describe_completion(result: Completed, train_on: str | None) -> str:
    """Teacher-forced and free-running loss side by side, with their units; then each
    sample's score, most probable first."""
    m = result.scores
    text = (f"Loss on the {m['masked_rows']} masked rows, bits/dim (mean NLL of the true "
            f"values, {m['alphabet']} possible values each): teacher-forced "
            f"{m['teacher_forced_bits_per_dim']:.4f} (true rows above) | free-running "
            f"{m['free_running_bits_per_dim']:.4f} (its own rows above). Over 8-bit "
            f"intensities: {m['teacher_forced_bits_per_dim_256']:.4f} | "
            f"{m['free_running_bits_per_dim_256']:.4f} bits/dim. Completion: PSNR "
            f"{m['free_running_psnr_db']:.2f} dB (MSE {m['free_running_mse']:.4g})")
    if "free_running_pixel_accuracy_pct" in m:
        text += (f", pixel accuracy {m['free_running_pixel_accuracy_pct']:.1f} % against "
                 f"the binarized image; against the original, PSNR "
                 f"{m['free_running_psnr_db_vs_original']:.2f} dB "
                 f"(MSE {m['free_running_mse_vs_original']:.4g})")
    if train_on == "whole image":
        text += ". The model saw these rows in training"
    text += "."
    worse = uniform_warning(m)
    if worse:
        text += f" {worse}"
    if result.ranked is not None:
        bits = [float(b) for b in result.ranked.bits_per_dim]
        shown = ", ".join(f"{b:.4f}" for b in bits[:SHOWN_SAMPLE_SCORES])
        more = f", … ({len(bits)} in all)" if len(bits) > SHOWN_SAMPLE_SCORES else ""
        text += (f"\nSample{'s, most probable first' if len(bits) > 1 else ''}: "
                 f"{shown}{more} bits/dim (NLL of the drawn values under the model).")
    return text


def with_saved(status: str, path) -> str:
    """The status line, ending with where the model was saved (the last save only)."""
    before = status.split(SAVED)[0].rstrip()
    return f"{before} {SAVED}{path}." if before else f"{SAVED}{path}."


def step_text(update, validation: str) -> str:
    return (f"Step {update.step}/{update.steps}: loss {update.loss_bits_per_dim:.4f} "
            f"{LOSS_UNITS}{validation}")


def validation_text(points, best_step: int | None) -> str:
    """The latest validation loss and the step whose weights are kept, if any."""
    steps, losses = points
    if not len(steps):
        return ""
    kept = f"; weights of {step_name(best_step)} kept" if best_step is not None else ""
    return f", validation {losses[-1]:.4f} {LOSS_UNITS} (step {steps[-1]}{kept})"


def training_ended(model, info: dict, points, last, stopped: bool, validation: str) -> str:
    """How a training run ended: stopped, stopped early or finished, and with what."""
    steps, losses = points
    if not len(steps):
        return "Training ended before its first step. " + (
            describe(model) if model is not None else "No model yet.")
    learned = f" Learned from {quoted(info.get('trained_on_layers', []))}."
    if stopped:
        best = info.get("best_step")
        kept = ("the model trained so far is kept" if best is None else
                f"the weights of {step_name(best)}, the best on the validation rows, are kept")
        return (f"Stopped at step {steps[-1]}; {kept} (last loss {losses[-1]:.4f} "
                f"{LOSS_UNITS}{validation}). {describe(model)}{learned}")
    early = last is not None and last.step < last.steps
    what = (f"Stopped early at step {steps[-1]} of {last.steps}: the validation loss "
            "stopped improving" if early else f"Trained {steps[-1]} steps")
    return (f"{what}; last loss {losses[-1]:.4f} {LOSS_UNITS}{validation}. "
            f"{describe(model)}{learned}")


def fit_problem(model, layer) -> str | None:
    """Why ``model`` cannot complete ``layer`` (width, channels), or None. A Row LSTM
    reads rows of any width: only its channels must match."""
    from ..core import geometry

    spec, rgb = model.data, bool(layer.rgb)
    shape = geometry(layer.data, rgb)
    if architecture(model) == "row-lstm":
        if (shape.channels, rgb) == (spec.channels, spec.rgb):
            return None
        return (f"The model was trained on images with {spec.channels} channel(s); layer "
                f"'{layer.name}' has {shape.channels}. Pick a layer with the same channels, "
                "or train a new model on this one.")
    if (shape.width, shape.channels, rgb) == (spec.width, spec.channels, spec.rgb):
        return None
    return (f"The model was trained on images {spec.width} pixels wide with {spec.channels} "
            f"channel(s); layer '{layer.name}' is {shape.width} pixels wide with "
            f"{shape.channels}. Pick a layer of the same width and channels, or train a new "
            "model on this one.")
