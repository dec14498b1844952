"""The optimizer checkers pass the references, explain stubs and diagnose classic mistakes."""

import jax.numpy as jnp
import pytest

from companion import check
from companion.check import optim
from companion.formulas import optimizers


def stub(*args, **kwargs):
    raise NotImplementedError


def sgd_ascent(params, grad, *, learning_rate):
    return params + learning_rate * grad


def sgd_no_rate(params, grad, *, learning_rate):
    return params - grad


def momentum_ema(params, grad, velocity, *, learning_rate, momentum):
    velocity = momentum * velocity + (1 - momentum) * grad
    return params - learning_rate * velocity, velocity


def momentum_stale(params, grad, velocity, *, learning_rate, momentum):
    new_velocity = grad + momentum * velocity
    return params - learning_rate * new_velocity, velocity


def adam_reader(*, bias_correction=True, eps_inside=False, count_from_zero=False):
    """An Adam written the way a reader would, with one mistake switched on."""

    def adam(params, grad, mu, nu, step, *, learning_rate, b1, b2, eps, weight_decay=0.0,
             l2=False, unscaled=False):
        if l2:
            grad = grad + weight_decay * params
        mu = b1 * mu + (1 - b1) * grad
        nu = b2 * nu + (1 - b2) * grad * grad
        t = step - 1 if count_from_zero else step
        mu_hat, nu_hat = (mu / (1 - b1**t), nu / (1 - b2**t)) if bias_correction else (mu, nu)
        root = jnp.sqrt(nu_hat + eps) if eps_inside else jnp.sqrt(nu_hat) + eps
        update = learning_rate * mu_hat / root
        if not l2:
            update = update + (1 if unscaled else learning_rate) * weight_decay * params
        return params - update, mu, nu

    return adam


def adamw_reader(*, bias_correction=True, **mistake):
    def adamw(params, grad, mu, nu, step, *, learning_rate, b1, b2, eps, weight_decay):
        adam = adam_reader(bias_correction=bias_correction)
        return adam(params, grad, mu, nu, step, learning_rate=learning_rate, b1=b1,
                             b2=b2, eps=eps, weight_decay=weight_decay, **mistake)

    return adamw


CHECKERS = {
    "sgd_step": (check.sgd_step, optimizers.sgd_step),
    "momentum_step": (check.momentum_step, optimizers.momentum_step),
    "adam_step": (check.adam_step, optimizers.adam_step),
    "adamw_step": (check.adamw_step, optimizers.adamw_step),
}

WRONG = [
    ("sgd_step", sgd_ascent, "moved along the gradient"),
    ("sgd_step", sgd_no_rate, "learning rate is missing"),
    ("momentum_step", momentum_ema, "moving-average form"),
    ("momentum_step", momentum_stale, "velocity you return is the old one"),
    ("momentum_step", lambda p, g, v, **h: optimizers.nesterov_step(p, g, v, **h), "Nesterov"),
    ("adam_step", adam_reader(bias_correction=False), "no bias correction"),
    ("adam_step", adam_reader(eps_inside=True), "eps is inside the square root"),
    ("adam_step", adam_reader(count_from_zero=True), "step counts from 1"),
    ("adamw_step", adamw_reader(l2=True), "weight decay added to the gradient"),
    ("adamw_step", adamw_reader(unscaled=True), "not multiplied by the learning rate"),
    ("adamw_step", adamw_reader(bias_correction=False), "no bias correction"),
]


@pytest.mark.parametrize("name", CHECKERS)
def test_reference_passes(name, capsys):
    checker, reference = CHECKERS[name]
    result = checker(reference)
    assert result.passed, result.message
    assert capsys.readouterr().out.startswith(f"PASS: {name}")


@pytest.mark.parametrize("name", CHECKERS)
def test_stub_fails_with_a_friendly_message(name):
    result = CHECKERS[name][0](stub)
    assert not result.passed
    assert "not implemented yet" in result.message
    assert "Traceback" not in result.message


@pytest.mark.parametrize(("name", "wrong", "cause"), WRONG, ids=[f"{w[0]}-{w[2]}" for w in WRONG])
def test_wrong_implementations_are_diagnosed(name, wrong, cause):
    result = CHECKERS[name][0](wrong)
    assert not result.passed
    assert cause in result.message.split("likely cause:")[-1], result.message


def test_reader_written_adam_without_mistakes_passes():
    assert check.adam_step(adam_reader()).passed
    assert check.adamw_step(adamw_reader()).passed


@pytest.mark.parametrize(
    ("checker", "bad", "words"),
    [
        (check.momentum_step, lambda p, g, v, **h: p - 0.1 * g, "must return a tuple"),
        (check.adam_step, lambda p, g, m, v, t, **h: (p, m), "of length 2"),
        (check.adam_step, lambda p, g, m, v, t, **h: (p[:1], m, v), "returned params of shape"),
        (check.sgd_step, lambda p, g, **h: None, "None"),
        (check.sgd_step, lambda p, g, **h: p * jnp.nan, "NaN"),
        (check.sgd_step, lambda p, g: p, "signature"),
        (check.sgd_step, 3, "expected a function"),
    ],
)
def test_reader_errors_are_reported_not_raised(checker, bad, words):
    result = checker(bad)
    assert not result.passed
    assert words in result.message


def test_state_checkers_are_exported():
    assert set(optim.__all__) <= set(check.__all__)
