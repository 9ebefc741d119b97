"""How a model was trained, kept with it: its training settings and where training ended.

Checkpoints save it, and the dock and the command line say it, so that a model file
tells whether it learned from the rows above a cut or from every row, from the
pretrained start, with noise on the rows read, and which step's weights it kept.
"""

from __future__ import annotations

import math
from dataclasses import asdict, fields

from .config import TrainConfig

LEFT_OUT = ("device", "threads")  # where and how fast it ran, not what it learned
# not listed as changes: said in words, or (rgb) what the image's shape already says
STATED = ("architecture", "keep_rows", "seed", "steps", "rgb")
NOT_RECORDED = "How it was trained is not recorded (a file from before training was saved)."


def provenance(config: TrainConfig) -> dict:
    """A new record for a resolved config: its settings (JSON-ready) and the outcome,
    which training fills in as it goes."""
    settings = {k: v for k, v in asdict(config).items() if k not in LEFT_OUT}
    return {"settings": settings, "steps_run": 0, "kept_step": None,
            "validation_bits_per_dim": None}


def finish(record: dict, steps_run: int, kept_step: int | None = None,
           validation_bits: float | None = None) -> None:
    """Where training ended: steps run, and the step whose weights were kept."""
    record["steps_run"] = steps_run
    if kept_step is not None and validation_bits is not None and math.isfinite(validation_bits):
        record["kept_step"], record["validation_bits_per_dim"] = kept_step, validation_bits


def checked(record) -> dict | None:
    """A record read from a file, or None when it is not one (older files, or forged)."""
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
        return None
    return record


def describe_training(record: dict | None) -> str:
    """The record in one sentence ("" for a model with none: older files)."""
    if checked(record) is None:
        return ""
    s = record["settings"]
    keep = s.get("keep_rows")
    rows = ("every row of its images" if keep is None
            else f"the {keep} rows above the cut")
    text = f"Trained on {rows}, seed {s.get('seed')}, {record.get('steps_run')} of " \
           f"{s.get('steps')} steps"
    step, bits = record.get("kept_step"), record.get("validation_bits_per_dim")
    if step is not None and isinstance(bits, (int, float)):
        which = "the pretrained start" if step == 0 else "the best"
        text += f", kept step {step} ({which}: validation {bits:.3f} bits/dim)"
    changed = _changed(s)
    if changed:
        text += "; not the defaults: " + ", ".join(f"{k} {v}" for k, v in changed.items())
    return text + "."


def training_said(model) -> str:
    """How ``model`` was trained, in one sentence, or that its file does not say."""
    return describe_training(model.provenance) or NOT_RECORDED


def _changed(settings: dict) -> dict:
    """The settings that differ from the defaults of their architecture (and start)."""
    try:  # the pretrained start has its own learning rate
        defaults = asdict(TrainConfig(architecture=settings.get("architecture", "row-lstm"),
                                      pretrained=settings.get("pretrained") is True).resolved())
    except Exception:  # noqa: BLE001 (a forged record names no architecture we know)
        return {}
    defaults["pretrained"] = False
    known = {f.name for f in fields(TrainConfig)} - set(LEFT_OUT) - set(STATED)
    return {k: settings[k] for k in sorted(known & set(settings))
            if settings[k] != defaults[k]}
