"""formulas.losses against optax and jax.grad."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from companion.formulas import losses as L


@pytest.fixture
def batch(key):
    k1, k2, k3 = jax.random.split(key, 3)
    logits = 3 * jax.random.normal(k1, (16, 5))
    labels = jax.random.randint(k2, (16,), 0, 5)
    probs = jax.random.uniform(k3, (16, 5), minval=0.01, maxval=0.99)
    return logits, labels, probs


def test_mse_and_half_mse_match_optax(batch):
    logits, _, probs = batch
    np.testing.assert_allclose(L.mse(logits, probs), jnp.mean((logits - probs) ** 2), rtol=1e-6)
    np.testing.assert_allclose(L.half_mse(logits, probs), jnp.mean(optax.l2_loss(logits, probs)), rtol=1e-6)
    np.testing.assert_allclose(L.mse(logits, probs), jnp.mean(optax.squared_error(logits, probs)), rtol=1e-6)


def test_binary_cross_entropy_matches_optax(batch):
    logits, _, targets = batch
    expected = jnp.mean(optax.sigmoid_binary_cross_entropy(logits, targets))
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits(logits, targets), expected, rtol=1e-5)
    np.testing.assert_allclose(L.binary_cross_entropy(jax.nn.sigmoid(logits), targets), expected, rtol=1e-4)


def test_binary_cross_entropy_with_logits_is_stable():
    z = jnp.array([-1000.0, 1000.0])
    value = L.binary_cross_entropy_with_logits(z, jnp.array([1.0, 0.0]))
    np.testing.assert_allclose(value, 1000.0)
    assert np.isfinite(L.binary_cross_entropy(jnp.array([0.0, 1.0]), jnp.array([1.0, 0.0])))


def test_softmax_cross_entropy_matches_optax(batch):
    logits, labels, _ = batch
    per_example = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    np.testing.assert_allclose(L.softmax_cross_entropy_per_example(logits, labels), per_example, rtol=1e-5)
    np.testing.assert_allclose(L.softmax_cross_entropy(logits, labels), per_example.mean(), rtol=1e-5)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = jnp.array([[1000.0, -1000.0, 0.0], [0.0, 5000.0, 0.0]])
    value = L.softmax_cross_entropy(logits, jnp.array([0, 0]))
    np.testing.assert_allclose(value, 2500.0)


def test_softmax_cross_entropy_grad_matches_jax_grad(batch):
    logits, labels, _ = batch
    auto = jax.grad(L.softmax_cross_entropy)(logits, labels)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(logits, labels), auto, rtol=1e-5, atol=1e-7)
    optax_grad = jax.grad(lambda z: optax.softmax_cross_entropy_with_integer_labels(z, labels).mean())(logits)
    np.testing.assert_allclose(auto, optax_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.3])
def test_label_smoothing_matches_optax(batch, alpha):
    logits, labels, _ = batch
    targets = L.one_hot(labels, 5)
    np.testing.assert_allclose(L.smooth_labels(targets, alpha), optax.smooth_labels(targets, alpha), rtol=1e-6)
    smoothed = L.smooth_labels(targets, alpha)
    expected = optax.softmax_cross_entropy(logits, smoothed).mean()
    np.testing.assert_allclose(L.soft_cross_entropy(logits, smoothed), expected, rtol=1e-5)


def test_one_hot_matches_jax(batch):
    _, labels, _ = batch
    np.testing.assert_array_equal(L.one_hot(labels, 5), jax.nn.one_hot(labels, 5))


def test_weighted_cross_entropy(batch):
    logits, labels, _ = batch
    weights = jnp.array([1.0, 2.0, 0.5, 3.0, 1.0])
    per_example = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    expected = jnp.sum(weights[labels] * per_example) / jnp.sum(weights[labels])
    np.testing.assert_allclose(L.weighted_softmax_cross_entropy(logits, labels, weights), expected, rtol=1e-5)
    uniform = L.weighted_softmax_cross_entropy(logits, labels, jnp.full(5, 7.0))
    np.testing.assert_allclose(uniform, L.softmax_cross_entropy(logits, labels), rtol=1e-5)


def test_weighted_cross_entropy_matches_torch(batch):
    torch = pytest.importorskip("torch", reason="PyTorch is optional; install it to compare with CrossEntropyLoss")
    logits, labels, _ = batch
    weights = np.array([1.0, 2.0, 0.5, 3.0, 1.0], np.float32)
    loss = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights))
    expected = loss(torch.tensor(np.asarray(logits)), torch.tensor(np.asarray(labels), dtype=torch.long)).item()
    np.testing.assert_allclose(L.weighted_softmax_cross_entropy(logits, labels, weights), expected, rtol=1e-5)


@pytest.mark.parametrize(("alpha", "gamma"), [(None, 0.0), (None, 2.0), (0.25, 2.0), (0.75, 1.0)])
def test_sigmoid_focal_loss_matches_optax(batch, alpha, gamma):
    logits, _, targets = batch
    binary = jnp.round(targets)
    expected = jnp.mean(optax.sigmoid_focal_loss(logits, binary, alpha=alpha, gamma=gamma))
    np.testing.assert_allclose(L.sigmoid_focal_loss(logits, binary, alpha=alpha, gamma=gamma), expected, rtol=1e-5)


def test_softmax_focal_loss(batch):
    logits, labels, _ = batch
    np.testing.assert_allclose(
        L.softmax_focal_loss(logits, labels, gamma=0.0), L.softmax_cross_entropy(logits, labels), rtol=1e-6
    )
    p = jax.nn.softmax(logits)[jnp.arange(16), labels]
    expected = jnp.mean(-((1 - p) ** 2) * jnp.log(p))
    np.testing.assert_allclose(L.softmax_focal_loss(logits, labels, gamma=2.0), expected, rtol=1e-5)


def test_logsumexp_matches_jax(batch):
    logits, _, _ = batch
    np.testing.assert_allclose(L.logsumexp(1000 * logits), jax.nn.logsumexp(1000 * logits, axis=-1), rtol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        L.mse(jnp.zeros(3), jnp.zeros(4))
    with pytest.raises(TypeError, match="integer class ids"):
        L.softmax_cross_entropy(jnp.zeros((2, 3)), jnp.zeros(2))
    with pytest.raises(ValueError, match="labels must have shape"):
        L.softmax_cross_entropy(jnp.zeros((2, 3)), jnp.zeros(3, jnp.int32))
    with pytest.raises(ValueError, match="class_weights"):
        L.weighted_softmax_cross_entropy(jnp.zeros((2, 3)), jnp.zeros(2, jnp.int32), jnp.ones(2))
