import jax.numpy as jnp
import numpy as np
import pytest

from companion.train import airbench_optimizer

STEPS, BATCH = 100, 256


def test_schedule_warms_up_then_decays_linearly():
    _, schedule = airbench_optimizer(STEPS, batch_size=BATCH)
    peak = 11.5 / (1024 * (1 + 1 / 0.15)) * BATCH
    np.testing.assert_allclose(float(schedule(0)), 0.2 * peak, rtol=1e-5)
    np.testing.assert_allclose(float(schedule(23)), peak, rtol=1e-5)
    np.testing.assert_allclose(float(schedule(STEPS)), 0.07 * peak, rtol=1e-5)
    rates = np.array([float(schedule(s)) for s in range(STEPS + 1)])
    assert np.all(np.diff(rates[:24]) > 0) and np.all(np.diff(rates[23:]) < 0)


def test_one_axis_parameters_step_64_times_further():
    optimizer, schedule = airbench_optimizer(STEPS, batch_size=BATCH)
    params = {"kernel": jnp.zeros((3, 4)), "shift": jnp.zeros(4)}
    grads = {"kernel": jnp.ones((3, 4)), "shift": jnp.ones(4)}
    updates, _ = optimizer.update(grads, optimizer.init(params), params)
    # Nesterov's first step is rate * (1 + momentum) * g; weight decay of zero weights adds nothing
    expected = -float(schedule(0)) * 1.85
    np.testing.assert_allclose(updates["kernel"], expected, rtol=1e-5)
    np.testing.assert_allclose(updates["shift"], 64 * expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["kernel", "shift"])
def test_weight_decay_per_step_matches_airbench(name):
    # airbench gives PyTorch's SGD weight_decay = wd / lr with wd = 0.0153 * batch / kilostep, so
    # with zero gradients each step shrinks every weight by (1 + momentum) * schedule * wd
    # (Nesterov's first step), whatever the learning rate of the weight's group.
    optimizer, _ = airbench_optimizer(STEPS, batch_size=BATCH)
    shape = (2, 2) if name == "kernel" else (2,)
    params = {name: jnp.ones(shape)}
    updates, _ = optimizer.update({name: jnp.zeros(shape)}, optimizer.init(params), params)
    wd = 0.0153 * BATCH / (1024 * (1 + 1 / 0.15))
    np.testing.assert_allclose(updates[name], -1.85 * 0.2 * wd * np.ones(shape), rtol=1e-5)


@pytest.mark.parametrize(("steps", "batch"), [(0, 256), (100, 0), (1.5, 256), (True, 256)])
def test_rejects_bad_sizes(steps, batch):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        airbench_optimizer(steps, batch_size=batch)
