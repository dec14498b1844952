"""Grad-CAM (Selvaraju et al., 2017): class activation maps from the gradients at a conv layer."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from companion.interpret._checks import check_images, check_labels, normalise
from companion.nn import max_pool

Stage = Callable[[jax.Array], jax.Array]
SEED_POOL = 2


def grad_cam(features_fn: Stage, head_fn: Stage, images: jax.Array, labels: jax.Array) -> jax.Array:
    """Grad-CAM heat maps, upsampled to the image size and scaled to [0, 1] per image.

    With feature maps :math:`A^k` of the chosen layer and the class logit :math:`z_y`,

    .. math::

        \\alpha_k = \\frac{1}{hw} \\sum_{i,j} \\frac{\\partial z_y}{\\partial A^k_{ij}}, \\qquad
        L = \\operatorname{ReLU}\\Big(\\sum_k \\alpha_k A^k\\Big).

    Args:
        features_fn: images ``(N, H, W, C)`` to feature maps ``(N, h, w, K)`` (the layer explained).
        head_fn: feature maps to logits ``(N, classes)``.
        images: ``(N, H, W, C)`` float32 in [0, 1].
        labels: ``(N,)`` integer classes to explain.

    Returns:
        ``(N, H, W)`` float32 maps in [0, 1].

    Example:
        >>> features = lambda x: jnp.concatenate([x, 1 - x], axis=-1)
        >>> head = lambda a: a.mean(axis=(1, 2))
        >>> grad_cam(features, head, jnp.ones((1, 4, 4, 1)) * 0.5, jnp.array([0])).shape
        (1, 4, 4)
    """
    images = check_images(images)
    labels = check_labels(labels, images.shape[0])
    activations = features_fn(images)
    if activations.ndim != images.ndim:
        raise ValueError(f"features_fn must return (N, h, w, K) maps; got shape {tuple(activations.shape)}")

    def chosen_logits(a):
        return jnp.take_along_axis(head_fn(a), labels[:, None], axis=1).sum()

    gradient = jax.grad(chosen_logits)(activations)
    weights = gradient.mean(axis=(1, 2), keepdims=True)
    cam = jax.nn.relu((weights * activations).sum(axis=-1))
    n, height, width = images.shape[:3]
    cam = jax.image.resize(cam, (n, height, width), method="bilinear")
    return normalise(cam)


def seed_cnn_stages(model: nnx.Module) -> tuple[Stage, Stage]:
    """Split a ``companion.nn.SeedCNN`` at its last convolution (after the ReLU) for Grad-CAM.

    Args:
        model: a ``SeedCNN`` (or any model with ``conv1``, ``conv2``, ``dense1``, ``dense2``
            wired the same way).

    Returns:
        ``(features_fn, head_fn)``: images to the ``(N, 11, 11, 64)`` maps of the second
        convolution (for 28 x 28 inputs), and those maps to logits.

    Example:
        >>> from companion.nn import SeedCNN
        >>> features, head = seed_cnn_stages(SeedCNN(rngs=nnx.Rngs(0)))
        >>> head(features(jnp.zeros((1, 28, 28, 1)))).shape
        (1, 10)
    """
    for name in ("conv1", "conv2", "dense1", "dense2"):
        if not hasattr(model, name):
            raise TypeError(f"model must be a SeedCNN-like model with a {name!r} layer; got {type(model).__name__}")

    def features_fn(x):
        x = max_pool(jax.nn.relu(model.conv1(x)), SEED_POOL)
        return jax.nn.relu(model.conv2(x))

    def head_fn(a):
        x = max_pool(a, SEED_POOL)
        x = x.reshape(x.shape[0], -1)
        return model.dense2(jax.nn.relu(model.dense1(x)))

    return features_fn, head_fn
