"""Every TrainConfig and CompletionConfig field is reachable from the widget (or listed
as set from elsewhere), found by introspection; the forms offer only the core's choices."""

from dataclasses import asdict, fields

from magicgui.widgets import ComboBox

from napari_pixelrnn._napari.settings import (
    FORM_FIELDS,
    GUI_ONLY,
    CompletionSettings,
    ModelSettings,
    tooltip,
)
from napari_pixelrnn.core import CompletionConfig, TrainConfig, owner
from napari_pixelrnn.core.config import CHOICES, ONLY_FOR

# TrainConfig fields the widget fills from something else than a form field of that name
GUI_ELSEWHERE = {"keep_rows": "the cut slider and 'Train on'", "rgb": "the layer",
                 "threads": "always 1 in napari", "binarize": "Binarize and Threshold"}


def test_every_training_setting_is_in_the_form(qtbot):
    form = ModelSettings()
    names = {f.name for f in fields(TrainConfig)}
    assert set(FORM_FIELDS) | set(GUI_ELSEWHERE) == names
    for name in (*FORM_FIELDS, *GUI_ONLY):
        assert hasattr(form, name), name
    for name, choices in CHOICES.items():
        widget = getattr(form, name)
        assert isinstance(widget, ComboBox)
        assert set(widget.choices) <= set(choices), name


def test_the_form_round_trips_to_a_config(qtbot):
    form = ModelSettings()
    for arch in ONLY_FOR:
        form.architecture.value = arch
        config = form.train_config(keep_rows=8, rgb=False)
        for name in FORM_FIELDS:
            if name in ONLY_FOR[arch] or all(name not in own for own in ONLY_FOR.values()):
                expected = getattr(form, name).value
                if name == "dropout" and not form.dropout.enabled:
                    expected = 0.0
                assert getattr(config, name) == expected, (arch, name)


def test_the_pretrained_start_brings_its_own_learning_rate(qtbot):
    form = ModelSettings()
    form.pretrained.value = True
    config = form.train_config(keep_rows=8, rgb=False)
    assert config.pretrained and config.lr == TrainConfig(pretrained=True).resolved().lr
    assert config.lr < TrainConfig().resolved().lr
    form.architecture.value = "dense"  # greyed out there: not passed on
    config = form.train_config(keep_rows=8, rgb=False)
    assert not config.pretrained and config.lr == TrainConfig(architecture="dense").resolved().lr
    form.architecture.value = "row-lstm"
    assert form.lr.value == TrainConfig(pretrained=True).resolved().lr
    form.pretrained.value = False
    assert form.train_config(keep_rows=8, rgb=False).lr == TrainConfig().resolved().lr


def test_the_forms_tooltips_are_the_cores_descriptions(qtbot):
    form = ModelSettings()
    for arch in ONLY_FOR:
        form.architecture.value = arch
        for name in FORM_FIELDS:
            if owner(name) in (None, arch) and name != "bidirectional":  # that one says why
                assert getattr(form, name).tooltip == tooltip(name), (arch, name)
    assert form.binarize.tooltip == tooltip("binarize")
    assert tooltip("kernel") == "Input-to-state kernel along the row (odd)."  # a sentence


def test_the_completion_forms_tooltips_are_the_cores_descriptions(qtbot):
    from napari_pixelrnn.core.descriptions import COMPLETION_DESCRIPTIONS

    form = CompletionSettings()
    shown_as = {"sample": form.draw, "temperature": form.temperature, "seed": form.seed,
                "samples": form.samples, "uncertainty": form.uncertainty, "mean": form.mean}
    assert set(shown_as) == set(COMPLETION_DESCRIPTIONS)
    for name, widget in shown_as.items():
        assert widget.tooltip.startswith(tooltip(name, COMPLETION_DESCRIPTIONS)[:-1]), name


def test_every_completion_setting_is_in_the_form(qtbot):
    form = CompletionSettings()
    form.samples.value, form.uncertainty.value, form.mean.value = 3, True, True
    config = form.config()
    assert isinstance(config, CompletionConfig)
    assert asdict(config) == {"sample": True, "temperature": 1.0, "seed": 0, "samples": 3,
                              "uncertainty": "std", "mean": True}
