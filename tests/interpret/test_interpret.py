"""Attribution maps on models whose answers are known in closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion import interpret
from companion.nn import SeedCNN


def linear_model(weights):
    """logits = <x, w_k> for class k; the saliency of class k is |w_k|."""
    return lambda x: jnp.einsum("nhwc,hwck->nk", x, weights)


def test_saliency_of_a_linear_model_is_its_weights(key):
    weights = jax.random.normal(key, (6, 6, 2, 3))
    images = jax.random.uniform(key, (2, 6, 6, 2))
    maps = interpret.saliency_map(linear_model(weights), images, jnp.array([0, 2]))
    np.testing.assert_allclose(maps[0], jnp.abs(weights[..., 0]).max(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(maps[1], jnp.abs(weights[..., 2]).max(axis=-1), rtol=1e-6)


def test_grad_cam_highlights_the_channel_the_class_reads():
    # Feature map: channel 0 is the image, channel 1 its flipped copy; class 1 reads channel 1 only.
    features = lambda x: jnp.concatenate([x, x[:, :, ::-1]], axis=-1)
    head = lambda a: a.mean(axis=(1, 2))
    image = jnp.zeros((1, 8, 8, 1)).at[0, 2, 1, 0].set(1.0)
    cam = interpret.grad_cam(features, head, image, jnp.array([1]))
    assert cam.shape == (1, 8, 8) and float(cam.max()) == 1.0
    peak = np.unravel_index(int(jnp.argmax(cam[0])), (8, 8))
    assert peak == (2, 6)  # the mirrored position


def test_seed_cnn_stages_reproduce_the_model(key):
    model = SeedCNN(rngs=nnx.Rngs(0))
    features, head = interpret.seed_cnn_stages(model)
    x = jax.random.uniform(key, (2, 28, 28, 1))
    np.testing.assert_allclose(head(features(x)), model(x), rtol=1e-5, atol=1e-5)
    assert interpret.grad_cam(features, head, x, jnp.array([1, 2])).shape == (2, 28, 28)


def test_occlusion_finds_the_only_pixel_that_matters():
    # The class-0 logit is 10 * x[3, 4]; hiding that pixel is the only thing that hurts.
    model = lambda x: jnp.stack([10.0 * x[:, 3, 4, 0], jnp.zeros(x.shape[0])], axis=-1)
    image = jnp.ones((1, 8, 8, 1))
    drop = interpret.occlusion_sensitivity(model, image, jnp.array([0]), patch=2, stride=1)
    assert drop.shape == (1, 8, 8)
    # softmax(10, 0) -> about 1; occluded: softmax(0, 0) -> 1/2; four patches cover each pixel
    assert float(drop[0, 3, 4]) == pytest.approx(0.5, abs=1e-3)
    assert float(drop[0, 0, 0]) == 0.0 and float(drop[0, 7, 7]) == 0.0


def test_randomize_parameters_and_rank_correlation(key):
    model = SeedCNN(rngs=nnx.Rngs(0))
    randomized = interpret.randomize_parameters(key, model)
    assert not bool(jnp.allclose(randomized.conv1.kernel[...], model.conv1.kernel[...]))
    spread = float(jnp.std(model.conv2.kernel[...]))
    assert float(jnp.std(randomized.conv2.kernel[...])) == pytest.approx(spread, rel=0.1)
    top_only = interpret.randomize_parameters(key, model, layers=("dense2",))
    assert bool(jnp.all(top_only.dense1.kernel[...] == model.dense1.kernel[...]))
    assert not bool(jnp.all(top_only.dense2.kernel[...] == model.dense2.kernel[...]))
    with pytest.raises(ValueError, match="match no parameter"):
        interpret.randomize_parameters(key, model, layers=("nope",))
    maps = jax.random.uniform(key, (3, 5, 5))
    np.testing.assert_allclose(interpret.rank_correlation(maps, maps * 3 + 1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(interpret.rank_correlation(maps, -maps), -1.0, rtol=1e-6)
    tied = jnp.array([[[0.0, 0.0], [1.0, 2.0]]])  # tied values share their average rank
    np.testing.assert_allclose(interpret.rank_correlation(tied, tied * 5), 1.0, rtol=1e-6)
    np.testing.assert_allclose(interpret.rank_correlation(tied, jnp.array([[[0.0, 1.0], [2.0, 3.0]]])),
                               np.corrcoef([0.5, 0.5, 2, 3], [0, 1, 2, 3])[0, 1], rtol=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"images must have shape \(N, H, W, C\)"):
        interpret.saliency_map(lambda x: x, jnp.zeros((28, 28, 1)), jnp.array([0]))
    with pytest.raises(TypeError, match="float32"):
        interpret.saliency_map(lambda x: x, jnp.zeros((1, 28, 28, 1), jnp.uint8), jnp.array([0]))
    with pytest.raises(ValueError, match=r"labels must be integer class ids of shape \(1,\)"):
        interpret.saliency_map(lambda x: x, jnp.zeros((1, 28, 28, 1)), jnp.array([0, 1]))
