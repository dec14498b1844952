import jax.numpy as jnp
import numpy as np
import optax
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


def test_weight_decay_pulls_weights_to_zero():
    optimizer, _ = airbench_optimizer(STEPS, batch_size=BATCH)
    params = {"kernel": jnp.ones((2, 2))}
    updates, _ = optimizer.update({"kernel": jnp.zeros((2, 2))}, optimizer.init(params), params)
    assert float(optax.apply_updates(params, updates)["kernel"][0, 0]) < 1.0


@pytest.mark.parametrize(("steps", "batch"), [(0, 256), (100, 0), (1.5, 256), (True, 256)])
def test_rejects_bad_sizes(steps, batch):
    with pytest.raises(ValueError, match="must be an int >= 1"):
        airbench_optimizer(steps, batch_size=batch)
