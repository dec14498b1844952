"""Gradient saliency maps (Simonyan et al., 2014): how much each pixel moves a class score."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from companion.interpret._checks import check_images, check_labels

Model = Callable[[jax.Array], jax.Array]


def saliency_map(model: Model, images: jax.Array, labels: jax.Array) -> jax.Array:
    """The absolute gradient of each image's class logit with respect to its pixels.

    .. math::

        M_{ij} = \\max_c \\left| \\frac{\\partial z_y}{\\partial x_{ijc}} \\right|

    where :math:`z_y` is the logit of the class ``y`` of the image.

    Args:
        model: any function (an NNX model, for instance) from ``(N, H, W, C)`` float32 images
            to logits ``(N, K)``.
        images: ``(N, H, W, C)`` float32 in [0, 1].
        labels: ``(N,)`` integer classes whose logits are explained.

    Returns:
        ``(N, H, W)`` float32, non-negative.

    Example:
        >>> model = lambda x: x.reshape(x.shape[0], -1)[:, :3]
        >>> saliency_map(model, jnp.ones((2, 4, 4, 1)), jnp.array([0, 2])).shape
        (2, 4, 4)
    """
    images = check_images(images)
    labels = check_labels(labels, images.shape[0])

    def chosen_logits(x):
        logits = model(x)
        return jnp.take_along_axis(logits, labels[:, None], axis=1).sum()

    gradient = jax.grad(chosen_logits)(images)
    return jnp.abs(gradient).max(axis=-1)
