"""Checkpoints: weights in safetensors, settings as JSON in its header. Nothing is ever
unpickled, so loading a file from a stranger cannot run code."""

from __future__ import annotations

import json
import os
import struct
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from .data import DataSpec
from .dense.model import GenModel, ModelConfig, neutral_marginal
from .errors import CheckpointError, PixelRNNError
from .provenance import checked
from .row_lstm import RowLSTM, RowLSTMConfig

FORMAT = "napari-pixelrnn"
# 2 added levels, within_row and granularity to the model settings; 3 the architecture
# (older files are dense models) and the mixture's components; 4 the Row LSTM's prior
# (format-3 Row LSTMs centred their values on the value above); 5 the edge prior's colour
# terms (zero in older files: each channel guessed on its own, as they were trained); 6
# the dense family's marginal (continuous and mixture values; older files: neutral); 7 the
# Row LSTM's drift offset (zero in older files: drawn as trained, uncalibrated)
FORMAT_VERSION = 7
ADDED_IN_2 = {"levels": 256, "within_row": "independent", "granularity": "row"}
ADDED_IN_3 = {"components": 5}
ROW_LSTM_ADDED_IN_4 = {"prior": "above"}
EDGE_PRIOR_ADDED_IN_5 = ("edge_prior.colour", "edge_prior.colour_spread")
FAMILIES = {"dense": (GenModel, ModelConfig), "row-lstm": (RowLSTM, RowLSTMConfig)}
MAX_HEADER = 1 << 20  # a real header is a few kB; refuse to parse anything huge


def save_model(model: GenModel | RowLSTM, path) -> Path:
    """Write ``model`` (weights, architecture and data settings) to ``path`` atomically."""
    if not isinstance(model, (GenModel, RowLSTM)) or model.data is None:
        raise PixelRNNError("Only a trained model (from train or load_model) can be saved.")
    path = Path(path)
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "architecture": model.architecture,
        "model": json.dumps(asdict(model.config)),
        "data": json.dumps(model.data.to_dict()),
    }
    if model.provenance is not None:  # optional: older readers ignore it, no new format
        metadata["training"] = json.dumps(model.provenance)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    payload = save_tensors(tensors, metadata=metadata)
    # Write beside the target, then rename: a crash never leaves a half-written checkpoint.
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, _new_file_mode())  # mkstemp makes it private (0600); a file is not
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def _new_file_mode() -> int:
    """The mode open() would give a new file: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _read_metadata(data: bytes, name: str) -> dict:
    not_ours = f"{name} is not a napari-pixelrnn checkpoint"
    if len(data) < 8:
        raise CheckpointError(f"{not_ours} (too short: {len(data)} bytes).")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > MAX_HEADER or header_size > len(data) - 8:
        raise CheckpointError(f"{not_ours} (no valid header; truncated or another format).")
    try:
        header = json.loads(data[8:8 + header_size])
        metadata = header["__metadata__"]
        if metadata.get("format") != FORMAT:
            raise KeyError("format")
        version = int(metadata["format_version"])
    except Exception:  # noqa: BLE001 (any parse failure means: not one of ours)
        raise CheckpointError(f"{not_ours} (header missing or unreadable).") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{name} has checkpoint format {version}, newer than this napari-pixelrnn "
            f"understands ({FORMAT_VERSION}); upgrade napari-pixelrnn to load it."
        )
    return metadata


def _settings(text: str, cls, name: str, defaults: dict | None = None):
    try:
        values = json.loads(text)
        if isinstance(values, dict) and defaults:
            values = {**defaults, **values}  # settings an older format did not have
        known = {f.name for f in fields(cls)}
        if not isinstance(values, dict) or set(values) != known:
            raise ValueError(f"expected the fields {sorted(known)}")
        return cls(**values)
    except PixelRNNError as exc:
        raise CheckpointError(f"{name} has invalid model settings: {exc}") from None
    except Exception as exc:  # noqa: BLE001 (a forged header can fail anywhere: one line)
        raise CheckpointError(f"{name} has unreadable {cls.__name__} settings ({exc}).") from None


def _check_data(spec: DataSpec, config: ModelConfig | RowLSTMConfig, name: str) -> None:
    if isinstance(config, RowLSTMConfig):
        shape_ok = spec.channels == config.channels
    elif config.granularity == "pixel":
        shape_ok = config.input_size == 1 and spec.channels == 1
    else:
        shape_ok = spec.width * spec.channels == config.input_size
    ok = (isinstance(spec.width, int) and isinstance(spec.channels, int)
          and spec.channels in (1, 3, 4) and shape_ok
          and spec.dtype in {"bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
                             "int32", "int64", "float16", "float32", "float64"}
          and all(isinstance(v, (int, float)) for v in (spec.low, spec.high))
          and spec.high > spec.low
          and (spec.threshold is None or isinstance(spec.threshold, (int, float)))
          and spec.binary == (config.values == "binary"))
    if not ok:
        raise CheckpointError(f"{name} has inconsistent data settings: {spec}.")


def load_model(path) -> GenModel | RowLSTM:
    """Load a checkpoint written by :func:`save_model`; the model is ready to complete.
    Files written before the Row LSTM existed (format 1 and 2) hold dense models."""
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"Cannot read checkpoint {path}: {exc.strerror or exc}.") from None
    metadata = _read_metadata(data, name)
    version = int(metadata["format_version"])
    architecture = metadata.get("architecture", "dense") if version >= 3 else "dense"
    if architecture not in FAMILIES:
        raise CheckpointError(f"{name} holds an unknown architecture {architecture!r}; "
                              f"known are {', '.join(FAMILIES)}.")
    family, config_type = FAMILIES[architecture]
    older = None
    if family is GenModel and version < 3:
        older = {**(ADDED_IN_2 if version < 2 else {}), **ADDED_IN_3}
    if family is RowLSTM and version < 4:
        older = ROW_LSTM_ADDED_IN_4
    config = _settings(metadata.get("model", ""), config_type, name, older)
    spec = _settings(metadata.get("data", ""), DataSpec, name)
    _check_data(spec, config, name)
    try:
        tensors = load_tensors(data)
    except Exception as exc:  # noqa: BLE001 (damaged bytes can fail anywhere: one line)
        raise CheckpointError(f"{name} has damaged weights ({exc}).") from None
    if family is RowLSTM and version < 5 and config.prior == "edge":
        tensors.update({k: torch.zeros(()) for k in EDGE_PRIOR_ADDED_IN_5 if k not in tensors})
    if family is GenModel and version < 6 and (neutral := neutral_marginal(config)) is not None:
        tensors.setdefault("marginal", neutral)  # trained without it: one that adds nothing
    if family is RowLSTM and version < 7:
        tensors.setdefault("drift", torch.zeros(config.channels))
    # Check shapes before building the model, so a forged header cannot make us
    # allocate a huge network.
    model = family.from_config(config) if _shapes_match(family, config, tensors) else None
    if model is None:
        raise CheckpointError(f"{name}: the weights do not match the model settings.")
    model.load_state_dict(tensors)
    model.data = spec
    model.provenance = _provenance(metadata.get("training"))
    return model.eval()


def _provenance(text) -> dict | None:
    """How the model was trained, if the file says (files before it: None)."""
    try:
        return checked(json.loads(text))
    except (TypeError, ValueError):
        return None


def _shapes_match(family, config, tensors: dict[str, torch.Tensor]) -> bool:
    with torch.device("meta"):  # builds the network without allocating memory
        expected = family.from_config(config).state_dict()
    return set(expected) == set(tensors) and all(
        expected[k].shape == tensors[k].shape and expected[k].dtype == tensors[k].dtype
        for k in expected
    )
