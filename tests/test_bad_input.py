"""Bad input, one table for every surface: the core, the command line and the dock widget.

Each case runs through every surface it applies to. A bad case must give a clear message
(core: a PixelRNNError; CLI: exit status 2 and one line on stderr, no traceback; widget:
one error notification) or be impossible to pick in the widget at all. A case with no
message must work: training and completing give the input's shape and dtype. Whatever
happens, the input (array, file or layer) is byte-for-byte unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import tifffile
from napari.components import ViewerModel

from napari_pixelrnn._napari.widget import PixelRNNWidget
from napari_pixelrnn.core import PixelRNNError, complete, save_model, train

from .gui.conftest import complete as complete_in_widget
from .gui.conftest import (
    notes,  # noqa: F401 (a fixture)
    tiny,
    wait_idle,
)
from .gui.conftest import train as train_in_widget

ALL = ("core", "cli", "widget")
TINY = {"steps": 2, "hidden_size": 4, "seed": 0}
TINY_CLI = ("--steps", "2", "--hidden-size", "4", "--seed", "0")
DENSE = {"architecture": "dense"}  # cases about the lab note's model
DENSE_CLI = ("--architecture", "dense")

# What the widget does with a bad case, when it is not an error notification:
NOT_OFFERED = "not offered"  # the layer never appears in the layer picker
NAPARI_REFUSES = "napari refuses"  # napari cannot make an image layer of it
SLIDER_REFUSES = "slider refuses"  # the cut slider does not take the value
FORM_REFUSES = "form refuses"  # the settings form does not offer the value


def ramp(height: int = 8, width: int = 6, dtype="uint8") -> np.ndarray:
    """A small image whose rows differ; values 0..108 fit every dtype."""
    return (np.arange(height * width).reshape(height, width) % 7 * 18).astype(dtype)


def colour(channels: int) -> np.ndarray:
    """33 x 31 x channels: both sides above 30, so napari and the core call it colour."""
    rows, cols, chans = np.mgrid[:33, :31, :channels]
    return ((rows * 7 + cols * 3 + chans * 50) % 256).astype(np.uint8)


def with_value(value: float) -> np.ndarray:
    image = ramp(dtype="float32")
    image[5, 2] = value
    return image


@dataclass(frozen=True)
class Case:
    name: str
    data: Callable[[], object]  # makes a fresh input: an image, or a napari layer's data
    error: str | None  # part of the message; None: the case must work
    surfaces: tuple[str, ...] = ALL
    keep: object = 4  # rows to keep (the widget's cut slider)
    settings: dict = field(default_factory=dict)  # core: more train() settings
    cli: tuple[str, ...] = ()  # CLI: more options
    model_on: Callable[[], np.ndarray] | None = None  # train the model on this image instead
    layer: str = "image"  # widget: the kind of napari layer the data goes in
    gui: str | None = None  # widget: how it stops a bad case, if not with a notification


CASES = [
    # napari layers that are not images
    Case("labels layer", lambda: ramp(dtype="int32") % 3, None, ("widget",),
         layer="labels", gui=NOT_OFFERED),
    Case("points layer", lambda: np.array([[1.0, 2.0], [3.0, 4.0]]), None, ("widget",),
         layer="points", gui=NOT_OFFERED),
    Case("shapes layer", lambda: [np.array([[0.0, 0.0], [0.0, 5.0], [4.0, 5.0], [4.0, 0.0]])],
         None, ("widget",), layer="shapes", gui=NOT_OFFERED),
    # shapes
    Case("1 row", lambda: ramp(1), "The image has 1 row(s); at least 2 rows are needed"),
    Case("1 column", lambda: ramp(8, 1), None),
    Case("0 rows", lambda: ramp(0), "The image is empty (shape (0, 6))", gui=NAPARI_REFUSES),
    Case("0 columns", lambda: ramp(8, 0), "The image is empty (shape (8, 0))",
         gui=NAPARI_REFUSES),
    Case("5-D stack", lambda: np.stack([ramp(), ramp()[::-1]]).reshape(1, 2, 1, 8, 6), None),
    Case("6-D", lambda: ramp().reshape(1, 1, 1, 1, 8, 6),
         "Unsupported image shape (1, 1, 1, 1, 8, 6)"),
    Case("RGBA", lambda: colour(4), None),
    Case("rgb=True, 2-D image", ramp, "rgb=True needs a last axis of 3 or 4",
         ("core", "cli"), settings={"rgb": True}, cli=("--rgb",)),
    # values
    Case("NaN", lambda: with_value(np.nan), "contains NaN or infinite values"),
    Case("Inf", lambda: with_value(-np.inf), "contains NaN or infinite values"),
    Case("NaN, clean model", lambda: with_value(np.nan), "contains NaN or infinite values",
         model_on=partial(ramp, dtype="float32")),
    # dtypes: every real one works
    *[Case(dtype, partial(ramp, dtype=dtype), None)
      for dtype in ("bool", "int8", "int16", "int32", "uint16", "float16", "float64")],
    Case("complex", partial(ramp, dtype="complex64"), "Unsupported image dtype complex64",
         gui=NAPARI_REFUSES),
    Case("object", partial(ramp, dtype=object), "Unsupported image dtype object",
         ("core", "widget"), gui=NAPARI_REFUSES),  # no TIFF holds objects
    # keep_rows (the image has 8 rows)
    Case("keep_rows 0", ramp, "keep_rows=0 is out of range", keep=0, gui=SLIDER_REFUSES),
    Case("keep_rows -1", ramp, "keep_rows=-1 is out of range", keep=-1, gui=SLIDER_REFUSES),
    Case("keep_rows H", ramp, "keep_rows=8 is out of range", keep=8, gui=SLIDER_REFUSES),
    Case("keep_rows > H", ramp, "keep_rows=9 is out of range", keep=9, gui=SLIDER_REFUSES),
    Case("keep_rows 2.5", ramp, "keep_rows must be a whole number of rows, got 2.5",
         ("core", "widget"), keep=2.5, gui=SLIDER_REFUSES),
    Case("--keep-rows 2.5", ramp, "argument --keep-rows: invalid int value: '2.5'",
         ("cli",), keep=2.5),
    Case("training on 1 kept row", ramp, "Training needs at least 2 rows to keep", keep=1,
         settings={"keep_rows": 1}, gui=SLIDER_REFUSES),  # to train, the slider starts at 2
    # models that do not fit the image: a dense model is bound to its width and channels,
    Case("model of another width", lambda: ramp(8, 5), "trained on images 6 pixels wide",
         model_on=ramp, settings=DENSE),
    Case("RGB model, RGBA image", lambda: colour(4),
         "trained on images 31 pixels wide with 3 channel(s)", model_on=lambda: colour(3),
         settings=DENSE),
    Case("RGB model, gray image", lambda: ramp(33, 31),
         "trained on images 31 pixels wide with 3 channel(s)", model_on=lambda: colour(3),
         settings=DENSE),
    Case("gray model, RGB image", lambda: colour(3),
         "trained on images 31 pixels wide with 1 channel(s)", model_on=lambda: ramp(33, 31),
         settings=DENSE),
    # a Row LSTM to its channels only
    Case("Row LSTM of another width", lambda: ramp(8, 5), None, model_on=ramp),
    Case("Row LSTM, RGB model, RGBA image", lambda: colour(4)[:, :20],
         "trained on images with 3 channel(s)", model_on=lambda: colour(3)),
    # settings
    Case("unknown keyword", ramp, "Unknown training setting(s) colour", ("core",),
         settings={"colour": True}),
    Case("unknown option", ramp, "unrecognized arguments: --colour", ("cli",),
         cli=("--colour",)),
    Case("cell 'cnn'", ramp, "Unknown cell 'cnn'", settings={**DENSE, "cell": "cnn"},
         cli=("--cell", "cnn", *DENSE_CLI), gui=FORM_REFUSES),
    Case("mode 'one-to-one'", ramp, "Unknown mode 'one-to-one'",
         settings={**DENSE, "mode": "one-to-one"}, cli=("--mode", "one-to-one", *DENSE_CLI),
         gui=FORM_REFUSES),
    Case("dense setting, Row LSTM", ramp, "setting(s) of the dense architecture",
         ("core",), settings={"cell": "gru"}),
    Case("--cell, Row LSTM", ramp, "--cell is a dense option", ("cli",), cli=("--cell", "gru")),
    Case("even kernel", ramp, "kernel must be odd", ("core", "cli"), settings={"kernel": 4},
         cli=("--kernel", "4")),
    Case("architecture 'conv'", ramp, "architecture", ("core", "cli"),
         settings={"architecture": "conv"}, cli=("--architecture", "conv")),
]


def on(surface: str):
    """The cases for one surface, for parametrize, with their names as test ids."""
    return pytest.mark.parametrize(
        "case", [c for c in CASES if surface in c.surfaces], ids=lambda c: c.name)


def snapshot(data) -> list:
    """What "unchanged" compares: dtype, shape and bytes of an array or list of arrays."""
    arrays = data if isinstance(data, list) else [data]
    return [(a.dtype, a.shape, a.tobytes()) for a in map(np.asarray, arrays)]


def test_the_table_covers_each_surface():
    counts = {s: sum(s in c.surfaces for c in CASES) for s in ALL}
    assert len({c.name for c in CASES}) == len(CASES) >= 30
    assert min(counts.values()) >= 30, counts


# -- core ------------------------------------------------------------------------------


@on("core")
def test_core(case):
    image = case.data()
    before = snapshot(image)

    def train_and_complete():
        source = case.model_on() if case.model_on else image
        return complete(train(source, **TINY, **case.settings), image, case.keep)

    if case.error is None:
        out = train_and_complete()
        assert (out.shape, out.dtype) == (image.shape, image.dtype)
    else:
        with pytest.raises(PixelRNNError) as raised:
            train_and_complete()
        assert case.error in str(raised.value)
    assert snapshot(image) == before


# -- dock widget -----------------------------------------------------------------------


@pytest.fixture
def widget(qtbot):
    """The dock widget on napari's viewer model. A Qt viewer would add ~3 s a case (its
    canvas); tests/gui run the widget in real viewers, opened through the manifest."""
    widget = PixelRNNWidget(ViewerModel())
    qtbot.addWidget(widget)
    tiny(widget, steps=2, architecture="row-lstm")  # the default, as in the core and CLI
    widget.settings.hidden_size.value = 4
    yield widget
    wait_idle(qtbot, widget)


@on("widget")
def test_widget(case, widget, qtbot, notes):  # noqa: F811 (notes is a fixture)
    data = case.data()
    before = snapshot(data)
    if case.gui == NAPARI_REFUSES:
        with pytest.raises((ValueError, NotImplementedError)), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # napari's divide-by-zero on the way to failing
            widget.viewer.add_image(data)
        assert not widget.layer_combo.choices  # nothing to pick
    else:
        layer = getattr(widget.viewer, f"add_{case.layer}")(data, name="input")
        shown = snapshot(layer.data)
        check_widget(case, widget, layer, qtbot, notes)
        assert snapshot(layer.data) == shown
    assert snapshot(data) == before


def check_widget(case, widget, layer, qtbot, notes):  # noqa: F811 (the fixture, passed on)
    if "architecture" in case.settings:  # the widget is dense unless a case says
        tiny(widget, steps=2, architecture=case.settings["architecture"])
        widget.settings.hidden_size.value = 4
    if case.gui == NOT_OFFERED:
        assert not widget.layer_combo.choices
        widget.train_button.native.click()
        assert len(notes.errors) == 1 and "No image layer" in notes.errors[0]
    elif case.gui == SLIDER_REFUSES:  # the image has 8 rows: the slider spans 2..7
        try:
            widget.keep_rows.value = case.keep
        except ValueError:
            pass
        value = widget.keep_rows.value  # unchanged, or made a whole number in range
        assert value != case.keep and isinstance(value, int) and 1 <= value <= 7
    elif case.gui == FORM_REFUSES:
        for name, value in case.settings.items():
            if name == "architecture":
                continue
            with pytest.raises(ValueError, match="not a valid choice"):
                getattr(widget.settings, name).value = value
    elif case.error is None:
        widget.keep_rows.value = case.keep
        train_in_widget(qtbot, widget)
        out = complete_in_widget(qtbot, widget).data
        assert (out.shape, out.dtype) == (layer.data.shape, layer.data.dtype)
        assert not notes.errors
    else:
        if case.model_on is not None:
            widget.layer_combo.value = widget.viewer.add_image(case.model_on(), name="source")
            train_in_widget(qtbot, widget)
            widget.layer_combo.value = layer
        if widget.keep_rows.enabled:
            widget.keep_rows.value = case.keep
        button = widget.complete_button if case.model_on else widget.train_button
        button.native.click()
        wait_idle(qtbot, widget)
        assert len(notes.errors) == 1 and case.error in notes.errors[0], notes.errors
        assert not [x for x in widget.viewer.layers if x.name.endswith("completed")]


# -- command line ----------------------------------------------------------------------


@dataclass
class CliRun:
    folder: Path
    image: np.ndarray
    file: bytes  # the input file as written
    result: Future  # of subprocess.CompletedProcess


def start_cli(case: Case, folder: Path, pool: ThreadPoolExecutor) -> CliRun:
    """Write the case's image (and model) into ``folder``; run ``complete`` on them."""
    image = case.data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tifffile warns that 0-size TIFFs are nonconformant
        tifffile.imwrite(folder / "in.tif", image)
    args = ["complete", "in.tif", "-o", "out.tif", f"--keep-rows={case.keep}", *TINY_CLI,
            *case.cli]
    if case.model_on is not None:
        save_model(train(case.model_on(), **TINY, **case.settings), folder / "model.pixelrnn")
        args += ["--model", "model.pixelrnn"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/conftest.py
    result = pool.submit(subprocess.run, [sys.executable, "-m", "napari_pixelrnn", *args],
                         cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    return CliRun(folder, image, (folder / "in.tif").read_bytes(), result)


@pytest.fixture(scope="module", autouse=True)
def cli_runs(request, tmp_path_factory):
    """The CLI cases this session runs, started with the module's first test and run two
    processes at a time, behind the core and widget tests: each process spends ~3 s
    importing torch, so one after another they would take ~90 s."""
    cases = [item.callspec.params["case"] for item in request.session.items
             if getattr(item, "function", None) is test_cli]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {case.name: start_cli(case, tmp_path_factory.mktemp("cli"), pool)
                for case in cases}
        yield runs
        for run in runs.values():
            run.result.cancel()  # those not started yet, when a test was interrupted


@on("cli")
def test_cli(case, cli_runs):
    run = cli_runs[case.name]
    result = run.result.result()
    if case.error is None:
        assert result.returncode == 0, result.stderr
        out = tifffile.imread(run.folder / "out.tif")
        assert (out.shape, out.dtype) == (run.image.shape, run.image.dtype)
    else:
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert case.error in result.stderr
        assert not (run.folder / "out.tif").exists()
    assert (run.folder / "in.tif").read_bytes() == run.file
