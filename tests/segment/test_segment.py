"""U-Net shapes, segmentation metrics against hand counts, and a short learning check."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from companion import detect, segment


def test_unet_shapes_and_checks():
    model = segment.UNet(5, features=(4, 8), rngs=nnx.Rngs(0))
    assert nnx.jit(lambda m, x: m(x))(model, jnp.zeros((2, 8, 8, 1))).shape == (2, 8, 8, 5)
    with pytest.raises(ValueError, match="divisible by 2"):
        model(jnp.zeros((1, 15, 16, 1)))


def test_metrics_hand_computed():
    target = jnp.array([[0, 0, 1], [1, 2, 2]])
    predicted = jnp.array([[0, 1, 1], [1, 2, 0]])
    assert float(segment.pixel_accuracy(predicted, target)) == pytest.approx(4 / 6)
    # class 0: P={00,12} T={00,01} -> 1/3; class 1: P={01,02,10} T={02,10} -> 2/3; class 2: P={11} T={11,12} -> 1/2
    np.testing.assert_allclose(segment.class_iou(predicted, target, num_classes=4)[:3], [1 / 3, 2 / 3, 1 / 2],
                               rtol=1e-6)
    assert np.isnan(float(segment.class_iou(predicted, target, num_classes=4)[3]))
    assert float(segment.mean_iou(predicted, target, num_classes=4)) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        segment.pixel_accuracy(jnp.zeros((2, 2), jnp.int32), jnp.zeros((2, 3), jnp.int32))
    with pytest.raises(TypeError, match="integer class ids"):
        segment.pixel_accuracy(jnp.zeros((2, 2)), jnp.zeros((2, 2), jnp.int32))


def test_unet_learns_a_mask(key):
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(16, 8, 8, 1)) > 0.7).astype(np.float32)
    masks = (images[..., 0] > 0.5).astype(np.int32)
    model = segment.UNet(2, features=(4, 8), rngs=nnx.Rngs(0))
    losses = detect.fit_with_loss(
        model, (images, masks), loss_fn=lambda m, b: segment.pixel_cross_entropy(m(b[0]), b[1]),
        epochs=30, batch_size=16, optimizer=optax.adam(1e-2), key=key)
    assert losses[-1] < 0.5 * losses[0]
    predicted = jnp.argmax(nnx.jit(lambda m, x: m(x))(model, jnp.asarray(images)), axis=-1)
    assert float(segment.pixel_accuracy(predicted, jnp.asarray(masks))) > 0.9
