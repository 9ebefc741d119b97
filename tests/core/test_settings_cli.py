"""Every TrainConfig field is reachable from the command line (or listed as not), and
the CLI offers exactly the core's choices."""

from dataclasses import fields

from napari_pixelrnn.cli import build_parser
from napari_pixelrnn.core import CompletionConfig, TrainConfig
from napari_pixelrnn.core.config import CHOICES

# fields the CLI sets from something else than an option named after them
CLI_ELSEWHERE = {"keep_rows": "--keep-rows (train, complete) or the demo's cut"}


def _options(command: str) -> dict:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {action.dest: action for action in sub.choices[command]._actions}


def test_every_training_setting_is_an_option():
    for command in ("train", "complete"):
        options = _options(command)
        missing = [f.name for f in fields(TrainConfig)
                   if f.name not in options and f.name not in CLI_ELSEWHERE]
        assert not missing, (command, missing)
    demo = _options("demo")
    assert "architecture" not in demo  # the demo trains both architectures


def test_the_cli_offers_the_cores_choices():
    options = _options("train")
    for name, choices in CHOICES.items():
        offered = options[name].choices
        if offered is not None:  # --cell and --mode are checked by the core itself
            assert tuple(offered) == tuple(choices), name


def test_every_completion_setting_is_an_option():
    options = _options("complete")
    named = {"sample": "sample", "temperature": "temperature", "seed": "sample_seed",
             "samples": "samples", "uncertainty": "uncertainty", "mean": "mean"}
    assert set(named) == {f.name for f in fields(CompletionConfig)}
    assert all(dest in options for dest in named.values())


def test_every_completion_setting_is_described_once_and_the_help_says_it():
    from napari_pixelrnn.core import CompletionConfig
    from napari_pixelrnn.core.descriptions import COMPLETION_DESCRIPTIONS as TEXT

    assert set(TEXT) == {f.name for f in fields(CompletionConfig)}
    options = _options("complete")
    flags = {"sample": "sample", "temperature": "temperature", "seed": "sample_seed",
             "samples": "samples", "uncertainty": "uncertainty", "mean": "mean"}
    for name, dest in flags.items():
        assert options[dest].help.startswith(TEXT[name]), name


def test_every_training_setting_is_described_once_and_the_help_says_it():
    """One description per TrainConfig field, in the core; the CLI's help is built from
    it, tagged with the architecture that has the setting."""
    from napari_pixelrnn.core import owner
    from napari_pixelrnn.core.descriptions import DESCRIPTIONS

    assert set(DESCRIPTIONS) == {f.name for f in fields(TrainConfig)}
    options = _options("train")
    for name, text in DESCRIPTIONS.items():
        help_text = options[name].help
        tag = f"[{owner(name)}] " if owner(name) else ""
        assert help_text.startswith(tag + text + " ("), name
