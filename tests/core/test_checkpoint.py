"""Checkpoints round-trip exactly, and a hostile or broken file never runs code."""

import json
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import CheckpointError, complete, load_model, save_model, train
from napari_pixelrnn.core.checkpoint import FORMAT_VERSION

from .conftest import tiny


@pytest.fixture
def saved(tmp_path, stripes):
    model = train(stripes, keep_rows=32, **tiny(steps=10, binarize=True), architecture="dense")
    return model, save_model(model, tmp_path / "stripes.pixelrnn")


def test_round_trip_gives_identical_completions(saved, stripes):
    model, path = saved
    loaded = load_model(path)
    assert loaded.config == model.config and loaded.data == model.data
    assert not loaded.training
    assert np.array_equal(complete(loaded, stripes, 20), complete(model, stripes, 20))
    assert np.array_equal(complete(loaded, stripes, 20, sample=True, seed=1),
                          complete(model, stripes, 20, sample=True, seed=1))


@pytest.mark.parametrize("settings", [
    {"values": "levels", "levels": 8}, {"binarize": True, "within_row": "autoregressive"},
    {"values": "continuous", "granularity": "pixel"},
], ids=["levels", "left-to-right", "pixel"])
def test_every_model_kind_round_trips(tmp_path, stripes, settings):
    image = stripes[:32, :32]
    model = train(image, **tiny(steps=5, **settings), architecture="dense")
    loaded = load_model(save_model(model, tmp_path / "m.pixelrnn"))
    assert loaded.config == model.config
    a = complete(loaded, image, 20, samples=2, seed=1)
    b = complete(model, image, 20, samples=2, seed=1)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.nats_per_dim, b.nats_per_dim)


def test_a_format_1_checkpoint_still_loads(saved, tmp_path, stripes):
    """Format 1 had no levels, within_row or granularity: they take their defaults."""
    model, path = saved
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    settings = json.loads(header["__metadata__"]["model"])
    for name in ("levels", "within_row", "granularity"):
        del settings[name]
    header["__metadata__"].update(format_version="1", model=json.dumps(settings))
    text = json.dumps(header).encode()
    old = tmp_path / "old.pixelrnn"
    old.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + size:])
    loaded = load_model(old)
    assert loaded.config == model.config
    assert np.array_equal(complete(loaded, stripes, 20), complete(model, stripes, 20))


def test_save_is_atomic_and_leaves_no_temporary_files(saved, tmp_path, monkeypatch):
    model, path = saved
    original = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_model(model, path)
    assert path.read_bytes() == original  # the old checkpoint survives a failed save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stripes.pixelrnn"]


class Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_malicious_pickle_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pixelrnn"
    evil.write_bytes(pickle.dumps(Payload(str(marker))))
    pickle.loads(evil.read_bytes()).close()  # the payload is real: unpickling runs it
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError, match="not a napari-pixelrnn checkpoint"):
        load_model(evil)
    assert not marker.exists()


def test_a_torch_file_carrying_code_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"weights": Payload(str(marker))}, evil)
    assert zipfile.is_zipfile(evil)
    with pytest.raises(CheckpointError, match="not a napari-pixelrnn checkpoint"):
        load_model(evil)
    assert not marker.exists()


def test_random_bytes_and_every_truncation_are_clear_errors(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    broken = tmp_path / "broken.pixelrnn"
    cuts = list(range(200)) + list(range(200, len(data), max(1, len(data) // 300)))
    for cut in cuts:
        broken.write_bytes(data[:cut])
        with pytest.raises(CheckpointError):
            load_model(broken)
    rng = np.random.default_rng(0)
    for length in rng.integers(0, 20_000, 200):  # random bytes, and random bytes after
        for prefix in (b"", data[:8]):             # a plausible header length
            broken.write_bytes(prefix + rng.bytes(int(length)))
            with pytest.raises(CheckpointError):
                load_model(broken)


def _rewrite_metadata(path, change):
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    change(header["__metadata__"])
    new = json.dumps(header).encode()
    new += b" " * (-len(new) % 8)
    path.write_bytes(struct.pack("<Q", len(new)) + new + data[8 + size:])


@pytest.mark.parametrize("change,message", [
    (lambda m: m.update(format_version=str(FORMAT_VERSION + 1)), "newer than this"),
    (lambda m: m.update(format="something-else"), "not a napari-pixelrnn checkpoint"),
    (lambda m: m.update(model=json.dumps({**json.loads(m["model"]), "hidden_size": 10**9})),
     "hidden_size must be"),
    (lambda m: m.update(model=json.dumps({**json.loads(m["model"]), "hidden_size": 32})),
     "weights do not match"),
    (lambda m: m.update(model=json.dumps({**json.loads(m["model"]), "cell": "x"})), "Unknown cell"),
    (lambda m: m.update(model="[1, 2]"), "unreadable ModelConfig"),
    (lambda m: m.update(data=json.dumps({**json.loads(m["data"]), "width": "64"})), "inconsistent"),
    (lambda m: m.update(data=json.dumps({**json.loads(m["data"]), "dtype": "object"})), "inconsistent"),
    (lambda m: m.pop("data"), "unreadable DataSpec"),
])
def test_altered_settings_are_clear_errors(saved, change, message):
    _, path = saved
    _rewrite_metadata(path, change)
    with pytest.raises(CheckpointError, match=message):
        load_model(path)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="Cannot read checkpoint"):
        load_model(tmp_path / "nope.pixelrnn")


def test_a_saved_model_has_the_permissions_of_any_new_file(saved, tmp_path):
    _, path = saved
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


@pytest.mark.parametrize("values", ["continuous", "mixture"])
def test_a_format_5_dense_checkpoint_loads_with_a_marginal_that_adds_nothing(tmp_path, values):
    """Format 5 had no marginal: those models were trained with none, so it loads as the
    one that adds nothing to the network's parameters (location 0 or 0.5, log-scale 0)."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from napari_pixelrnn.core.dense.model import neutral_marginal

    image = (np.add.outer(np.arange(24), np.arange(16)) * 5).astype(np.uint8)
    model = train(image, keep_rows=16, values=values, **tiny(steps=5), architecture="dense")
    path = save_model(model, tmp_path / "old.pixelrnn")
    with safe_open(path, "pt") as file:
        metadata = file.metadata()
    tensors = load_file(path)
    del tensors["marginal"]
    save_file(tensors, path, metadata={**metadata, "format_version": "5"})
    loaded = load_model(path)
    assert torch.equal(loaded.marginal, neutral_marginal(model.config))
    assert loaded.marginal[0, 0].item() == (0.0 if values == "continuous" else 0.5)
    model.marginal.copy_(neutral_marginal(model.config))
    a = complete(model, image, 16, samples=2, seed=1)
    b = complete(loaded, image, 16, samples=2, seed=1)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.nats_per_dim, b.nats_per_dim)
    with torch.no_grad():  # and the neutral marginal is neutral: centring adds zeros
        assert not loaded.value_model.centred_on(*loaded.marginal).any()
