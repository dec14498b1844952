"""Occlusion sensitivity (Zeiler and Fergus, 2014): how much hiding a patch lowers the class score."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from companion.interpret._checks import check_images, check_labels

Model = Callable[[jax.Array], jax.Array]


def occlusion_sensitivity(
    model: Model, images: jax.Array, labels: jax.Array, *, patch: int, stride: int, fill: float = 0.0,
) -> jax.Array:
    """Slide a ``patch x patch`` square of value ``fill`` over each image and record the drop
    in the probability of its class; each pixel gets the mean drop of the patches covering it.

    Args:
        model: images ``(B, H, W, C)`` float32 to logits ``(B, K)``.
        images: ``(N, H, W, C)`` float32 in [0, 1].
        labels: ``(N,)`` integer classes.
        patch: side of the occluding square.
        stride: step between patch positions.
        fill: the value painted into the square (0 is the background of MNIST).

    Returns:
        ``(N, H, W)`` float32: the probability drop (positive where hiding the pixel hurts).
        Pixels no patch covers get 0.

    Example:
        >>> model = lambda x: jnp.stack([x.sum(axis=(1, 2, 3)), -x.sum(axis=(1, 2, 3))], axis=-1)
        >>> occlusion_sensitivity(model, jnp.ones((1, 6, 6, 1)), jnp.array([0]), patch=2, stride=2).shape
        (1, 6, 6)
    """
    images = check_images(images)
    labels = check_labels(labels, images.shape[0])
    n, height, width, channels = images.shape
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise ValueError(f"patch must lie in [1, {min(height, width)}] and stride be >= 1; got {patch} and {stride}")
    tops = jnp.arange(0, height - patch + 1, stride)
    lefts = jnp.arange(0, width - patch + 1, stride)
    corners = jnp.stack(jnp.meshgrid(tops, lefts, indexing="ij"), axis=-1).reshape(-1, 2)
    square = jnp.full((patch, patch, channels), fill, jnp.float32)
    stamp = jnp.ones((patch, patch), jnp.float32)

    def explain(image, label):
        base = jax.nn.softmax(model(image[None]), axis=-1)[0, label]

        def occlude(corner):
            return jax.lax.dynamic_update_slice(image, square, (corner[0], corner[1], 0))

        def footprint(corner):
            return jax.lax.dynamic_update_slice(jnp.zeros((height, width), jnp.float32), stamp, (corner[0], corner[1]))

        occluded = jax.lax.map(occlude, corners)
        probabilities = jax.nn.softmax(model(occluded), axis=-1)[:, label]
        covers = jax.vmap(footprint)(corners)
        drops = (base - probabilities)[:, None, None]
        count = covers.sum(axis=0)
        return jnp.where(count > 0, (drops * covers).sum(axis=0) / jnp.maximum(count, 1), 0)

    return jnp.stack([explain(images[i], labels[i]) for i in range(n)])
