"""The hand-written update rules and schedules agree with optax, step for step."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.formulas import optimizers as opt

STEPS = 20
DIM = 5
RTOL = 1e-5
ATOL = 1e-6


def random_quadratic(key):
    """f(theta) = 1/2 theta^T A theta - b^T theta with a random symmetric positive definite A."""
    k_a, k_b, k_x = jax.random.split(key, 3)
    m = jax.random.normal(k_a, (DIM, DIM))
    a = m @ m.T / DIM + 0.1 * jnp.eye(DIM)
    b = jax.random.normal(k_b, (DIM,))

    def loss(theta):
        return 0.5 * theta @ a @ theta - b @ theta

    return loss, jax.random.normal(k_x, (DIM,))


def run_optax(tx, loss, theta):
    # optax raises its step count (int32) to a float power, which strict promotion refuses.
    with jax.numpy_dtype_promotion("standard"):
        state = tx.init(theta)
        path = []
        for _ in range(STEPS):
            updates, state = tx.update(jax.grad(loss)(theta), state, theta)
            theta = optax.apply_updates(theta, updates)
            path.append(theta)
    return jnp.stack(path)


def run_ours(step_fn, n_state, loss, theta, *, counted=False, **hyper):
    state = [jnp.zeros_like(theta) for _ in range(n_state)]
    path = []
    for t in range(1, STEPS + 1):
        grad = jax.grad(loss)(theta)
        args = (theta, grad, *state, t) if counted else (theta, grad, *state)
        out = step_fn(*args, **hyper)
        theta, state = (out, []) if n_state == 0 else (out[0], list(out[1:]))
        path.append(theta)
    return jnp.stack(path)


CASES = [
    ("sgd", opt.sgd_step, 0, False, dict(learning_rate=0.1), lambda h: optax.sgd(**h)),
    (
        "momentum",
        opt.momentum_step,
        1,
        False,
        dict(learning_rate=0.05, momentum=0.9),
        lambda h: optax.sgd(h["learning_rate"], momentum=h["momentum"]),
    ),
    (
        "nesterov",
        opt.nesterov_step,
        1,
        False,
        dict(learning_rate=0.05, momentum=0.8),
        lambda h: optax.sgd(h["learning_rate"], momentum=h["momentum"], nesterov=True),
    ),
    (
        "rmsprop",
        opt.rmsprop_step,
        1,
        False,
        dict(learning_rate=0.01, decay=0.9, eps=1e-3),
        lambda h: optax.rmsprop(**h),
    ),
    (
        "adam",
        opt.adam_step,
        2,
        True,
        dict(learning_rate=0.05, b1=0.8, b2=0.99, eps=1e-3),
        lambda h: optax.adam(**h),
    ),
    (
        "adamw",
        opt.adamw_step,
        2,
        True,
        dict(learning_rate=0.05, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.3),
        lambda h: optax.adamw(**h),
    ),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("name", "step_fn", "n_state", "counted", "hyper", "make_tx"), CASES, ids=[c[0] for c in CASES]
)
def test_matches_optax_step_for_step(seed, name, step_fn, n_state, counted, hyper, make_tx):
    loss, theta = random_quadratic(jax.random.key(seed))
    ours = run_ours(step_fn, n_state, loss, theta, counted=counted, **hyper)
    theirs = run_optax(make_tx(hyper), loss, theta)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=name)


def test_default_hyperparameters_match_optax(key):
    loss, theta = random_quadratic(key)
    pairs = [
        (opt.momentum_step, 1, False, optax.sgd(0.01, momentum=0.9)),
        (opt.rmsprop_step, 1, False, optax.rmsprop(0.01)),
        (opt.adam_step, 2, True, optax.adam(0.01)),
        (opt.adamw_step, 2, True, optax.adamw(0.01)),
    ]
    for step_fn, n_state, counted, tx in pairs:
        ours = run_ours(step_fn, n_state, loss, theta, counted=counted, learning_rate=0.01)
        np.testing.assert_allclose(ours, run_optax(tx, loss, theta), rtol=RTOL, atol=ATOL)


def test_adamw_with_zero_decay_is_adam(key):
    loss, theta = random_quadratic(key)
    adam = run_ours(opt.adam_step, 2, loss, theta, counted=True, learning_rate=0.1)
    adamw = run_ours(
        opt.adamw_step, 2, loss, theta, counted=True, learning_rate=0.1, weight_decay=0.0
    )
    np.testing.assert_allclose(adam, adamw, rtol=0, atol=0)


def test_steps_work_under_jit_and_on_matrices(key):
    params = jax.random.normal(key, (3, 4))
    grad = jnp.ones((3, 4))
    zeros = jnp.zeros((3, 4))
    jitted = jax.jit(opt.adam_step, static_argnames=("learning_rate",))
    eager = opt.adam_step(params, grad, zeros, zeros, 1, learning_rate=0.1)
    compiled = jitted(params, grad, zeros, zeros, jnp.int32(1), learning_rate=0.1)
    for a, b in zip(eager, compiled, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        assert a.shape == (3, 4) and a.dtype == jnp.float32


SCHEDULE_STEPS = jnp.arange(0, 130)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            lambda t: opt.constant_schedule(t, learning_rate=0.3),
            optax.constant_schedule(0.3),
        ),
        (
            lambda t: opt.step_schedule(t, learning_rate=0.5, boundaries=(30, 80), factor=0.2),
            optax.piecewise_constant_schedule(0.5, {30: 0.2, 80: 0.2}),
        ),
        (
            lambda t: opt.cosine_schedule(t, learning_rate=0.4, decay_steps=100, end_value=0.04),
            optax.cosine_decay_schedule(0.4, 100, alpha=0.1),
        ),
        (
            lambda t: opt.warmup_cosine_schedule(
                t, init_value=0.01, peak_value=0.5, warmup_steps=15, decay_steps=110,
                end_value=0.02,
            ),
            optax.warmup_cosine_decay_schedule(0.01, 0.5, 15, 110, end_value=0.02),
        ),
    ],
    ids=["constant", "step", "cosine", "warmup_cosine"],
)
def test_schedules_match_optax(ours, theirs):
    expected = jnp.stack([jnp.asarray(theirs(int(t)), jnp.float32) for t in SCHEDULE_STEPS])
    np.testing.assert_allclose(ours(SCHEDULE_STEPS), expected, rtol=1e-5, atol=1e-7)
    assert jnp.asarray(ours(3)).shape == ()


def test_schedule_drives_sgd_like_optax(key):
    loss, theta = random_quadratic(key)
    schedule = optax.warmup_cosine_decay_schedule(0.0, 0.2, 5, STEPS)
    theirs = run_optax(optax.sgd(schedule), loss, theta)
    path = []
    for count in range(STEPS):  # optax counts the updates already made: 0 for the first
        rate = opt.warmup_cosine_schedule(count, peak_value=0.2, warmup_steps=5, decay_steps=STEPS)
        theta = opt.sgd_step(theta, jax.grad(loss)(theta), learning_rate=rate)
        path.append(theta)
    np.testing.assert_allclose(jnp.stack(path), theirs, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: opt.sgd_step(jnp.ones(3), jnp.ones(4), learning_rate=0.1), ValueError,
         ["grad", "(3,)", "(4,)"]),
        (lambda: opt.sgd_step(jnp.ones(3), jnp.ones(3, jnp.int32), learning_rate=0.1), TypeError,
         ["grad", "int32"]),
        (lambda: opt.momentum_step(jnp.ones(3), jnp.ones(3), jnp.zeros(2), learning_rate=0.1),
         ValueError, ["velocity", "(2,)"]),
        (lambda: opt.momentum_step(jnp.ones(3), jnp.ones(3), jnp.zeros(3), learning_rate=0.1,
                                   momentum=1.5), ValueError, ["momentum", "1.5"]),
        (lambda: opt.adam_step(jnp.ones(3), jnp.ones(3), jnp.zeros(3), jnp.zeros(3), 0,
                               learning_rate=0.1), ValueError, ["step", "1"]),
        (lambda: opt.adam_step(jnp.ones(3), jnp.ones(3), jnp.zeros(3), jnp.zeros(3), 1.0,
                               learning_rate=0.1), TypeError, ["step"]),
        (lambda: opt.sgd_step(jnp.ones(3), jnp.ones(3), learning_rate="fast"), TypeError,
         ["learning_rate", "str"]),
        (lambda: opt.cosine_schedule(3, learning_rate=0.1, decay_steps=0), ValueError,
         ["decay_steps"]),
        (lambda: opt.warmup_cosine_schedule(3, peak_value=0.1, warmup_steps=10, decay_steps=5),
         ValueError, ["decay_steps", "warmup_steps"]),
        (lambda: opt.constant_schedule(1.5, learning_rate=0.1), TypeError, ["step", "float"]),
    ],
)
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    learning_rate=st.floats(1e-3, 0.3),
    b1=st.floats(0.0, 0.95),
    b2=st.floats(0.5, 0.999),
    eps=st.sampled_from([1e-8, 1e-4, 1e-2]),
    weight_decay=st.floats(0.0, 1.0),
)
def test_adam_family_matches_optax_for_random_hyperparameters(
    seed, learning_rate, b1, b2, eps, weight_decay
):
    loss, theta = random_quadratic(jax.random.key(seed))
    adam = dict(learning_rate=learning_rate, b1=b1, b2=b2, eps=eps)
    pairs = [
        (opt.adam_step, adam, optax.adam(**adam)),
        (opt.adamw_step, {**adam, "weight_decay": weight_decay},
         optax.adamw(**adam, weight_decay=weight_decay)),
        (opt.rmsprop_step, dict(learning_rate=learning_rate, decay=b2, eps=eps),
         optax.rmsprop(learning_rate, decay=b2, eps=eps)),
        (opt.nesterov_step, dict(learning_rate=learning_rate, momentum=b1),
         optax.sgd(learning_rate, momentum=b1, nesterov=True)),
    ]
    for step_fn, hyper, tx in pairs:
        n_state, counted = (2, True) if step_fn in (opt.adam_step, opt.adamw_step) else (1, False)
        ours = run_ours(step_fn, n_state, loss, theta, counted=counted, **hyper)
        np.testing.assert_allclose(ours, run_optax(tx, loss, theta), rtol=1e-4, atol=1e-5)
