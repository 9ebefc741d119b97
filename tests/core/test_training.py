"""Training is seeded, reports progress, and can stop between steps with a usable model."""

import numpy as np
import pytest
import torch

from napari_pixelrnn.core import TrainConfig, complete, train, train_steps

from .conftest import tiny


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_seed_same_model_other_seed_other_model(stripes):
    a, b = train(stripes, **tiny(steps=5), architecture="dense"), train(stripes, **tiny(steps=5), architecture="dense")
    c = train(stripes, **tiny(steps=5, seed=1), architecture="dense")
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_progress_reports_every_step_and_the_loss_falls(stripes):
    seen = []
    model = train(stripes, binarize=True, **tiny(steps=40, hidden_size=32, lr=1e-2),
                  progress=seen.append, architecture="dense")
    assert [p.step for p in seen] == list(range(1, 41)) and all(p.steps == 40 for p in seen)
    assert all(p.model is model for p in seen)
    assert np.mean([p.loss for p in seen[-5:]]) < 0.5 * seen[0].loss


def test_stop_between_steps_returns_the_model_trained_so_far(stripes):
    seen = []
    model = train(stripes, binarize=True, **tiny(steps=50), progress=seen.append,
                  should_stop=lambda: len(seen) >= 7, architecture="dense")
    assert len(seen) == 7 and not model.training  # stopped after step 7, ready to generate
    out = complete(model, stripes, 32)
    assert out.shape == stripes.shape and np.array_equal(out[:32], stripes[:32])


def test_closing_the_generator_leaves_a_usable_model(stripes):
    steps = train_steps(stripes, TrainConfig(**tiny(steps=50), architecture="dense"))
    first = next(steps)
    before = weights(first.model)
    steps.close()  # what napari's worker.quit() does at the next yield
    assert not first.model.training
    after = weights(first.model)
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert complete(first.model, stripes, 40).shape == stripes.shape


def test_the_generator_returns_the_model(stripes):
    steps = train_steps(stripes, TrainConfig(**tiny(steps=2), architecture="dense"))
    updates = []
    with pytest.raises(StopIteration) as done:
        while True:
            updates.append(next(steps))
    assert done.value.value is updates[-1].model


@pytest.mark.parametrize("mode", ["many-to-many", "many-to-one"])
def test_training_on_a_stack_uses_every_slice(stripes, mode):
    stack = np.stack([stripes, 255 - stripes])
    model = train(stack, mode=mode, binarize=True, **tiny(steps=2, context=4), architecture="dense")
    assert model.config.input_size == 64
    assert complete(model, stack, 30).shape == stack.shape


def test_threads_apply_during_training_and_are_restored(stripes):
    before = torch.get_num_threads()
    seen = []
    train(stripes, **tiny(threads=before + 1), progress=lambda p: seen.append(torch.get_num_threads()), architecture="dense")
    assert seen == [before + 1] * 3 and torch.get_num_threads() == before


def test_out_of_memory_on_a_gpu_falls_back_to_the_cpu(stripes, monkeypatch):
    """No GPU here: pretend the rows live on one and that its first step runs out of
    memory; training must warn, move on to the CPU and finish every step."""
    from napari_pixelrnn.core import training

    calls = []
    real_step = training._step

    def flaky_step(*args):
        calls.append(1)
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real_step(*args)

    monkeypatch.setattr(training, "_step", flaky_step)
    monkeypatch.setattr(training, "_on_accelerator", lambda rows: True)
    seen = []
    with pytest.warns(ResourceWarning, match="ran out of memory at training step 1; training continues on the CPU"):
        model = train(stripes, **tiny(steps=3), progress=seen.append, architecture="dense")
    assert [p.step for p in seen] == [1, 2, 3] and len(calls) == 4  # step 1 retried once
    assert next(model.parameters()).device.type == "cpu"


def test_out_of_memory_on_the_cpu_is_a_clear_error(stripes, monkeypatch):
    from napari_pixelrnn.core import PixelRNNError, training

    def oom(*args):
        raise torch.OutOfMemoryError("simulated")

    monkeypatch.setattr(training, "_step", oom)
    with pytest.raises(PixelRNNError, match="Out of memory at training step 1"):
        train(stripes, **tiny(), architecture="dense")
