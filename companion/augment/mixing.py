"""Label-aware mixing of two images: mixup (Zhang et al., 2018) and CutMix (Yun et al., 2019).

Both pair every image ``i`` of a batch with a partner ``j = pi(i)`` from a random permutation and
draw a weight ``lambda ~ Beta(alpha, alpha)`` per sample. Mixup blends pixels and labels:

.. math::

    \\tilde x = \\lambda x_i + (1 - \\lambda) x_j, \\qquad \\tilde y = \\lambda y_i + (1 - \\lambda) y_j .

CutMix pastes a box of area fraction about ``1 - lambda`` from ``x_j`` into ``x_i``, and weights the
labels by the area actually pasted (after clipping the box at the border). Labels come back as soft
labels (probability vectors). ``alpha = 0`` turns both off.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from companion.augment.checks import as_param, check_batch, check_image, check_non_negative
from companion.augment.occlusion import box_mask

HALF = 0.5


def blend(image_a: jax.Array, image_b: jax.Array, weight) -> jax.Array:
    """Mix two images: ``weight * a + (1 - weight) * b`` (the deterministic form of mixup).

    Args:
        image_a: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        image_b: same shape and dtype as ``image_a``.
        weight: the weight of ``image_a``, in ``[0, 1]``.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> blend(jnp.ones((2, 2, 1)), jnp.zeros((2, 2, 1)), 0.25).max()
        Array(0.25, dtype=float32)
    """
    image_a = check_image(image_a, name="image_a")
    image_b = check_image(image_b, name="image_b")
    if image_a.shape != image_b.shape:
        raise ValueError(f"image_b must have the shape of image_a {image_a.shape}; got {image_b.shape}")
    weight = as_param(weight, image_a.dtype)
    return weight * image_a + (1 - weight) * image_b


def paste(image_a: jax.Array, image_b: jax.Array, top, left, height, width) -> jax.Array:
    """Copy the box ``[top, top + height) x [left, left + width)`` of ``image_b`` into ``image_a``.

    This is the deterministic form of CutMix.

    Args:
        image_a: shape ``(H, W, C)``, floating point in ``[0, 1]``.
        image_b: same shape and dtype as ``image_a``.
        top: first row of the box.
        left: first column of the box.
        height: box height in pixels.
        width: box width in pixels.

    Returns:
        Shape ``(H, W, C)``.

    Example:
        >>> paste(jnp.zeros((4, 4, 1)), jnp.ones((4, 4, 1)), 0, 0, 2, 2).sum()
        Array(4., dtype=float32)
    """
    image_a = check_image(image_a, name="image_a")
    image_b = check_image(image_b, name="image_b")
    if image_a.shape != image_b.shape:
        raise ValueError(f"image_b must have the shape of image_a {image_a.shape}; got {image_b.shape}")
    mask = box_mask(image_a.shape[0], image_a.shape[1], top, left, height, width, image_a.dtype)
    return jnp.where(mask, image_b, image_a)


def soft_labels(labels, *, num_classes: int | None, count: int, dtype=jnp.float32) -> jax.Array:
    """Turn integer class ids ``(N,)`` into one-hot rows, or check soft labels ``(N, K)``.

    Args:
        labels: integer ids, shape ``(N,)``, or probability rows, shape ``(N, K)``.
        num_classes: ``K``; required for integer ids.
        count: the batch size ``N``.
        dtype: dtype of the result.

    Returns:
        Shape ``(N, K)``.

    Raises:
        ValueError: wrong shape, or integer ids without ``num_classes``.
        TypeError: labels are neither integer nor floating point.

    Example:
        >>> soft_labels(jnp.array([0, 2]), num_classes=3, count=2).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    labels = jnp.asarray(labels)
    if labels.shape[:1] != (count,) or labels.ndim not in (1, 2):
        raise ValueError(f"labels must have shape ({count},) or ({count}, K); got shape {tuple(labels.shape)}")
    if labels.ndim == 1:
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels of shape ({count},) must be integer class ids; got dtype {labels.dtype}")
        if num_classes is None:
            raise ValueError("integer labels need num_classes=<number of classes> to build soft labels")
        return jax.nn.one_hot(labels, num_classes, dtype=dtype)
    if not np.issubdtype(labels.dtype, np.floating):
        raise TypeError(f"labels of shape ({count}, K) must be floating point; got dtype {labels.dtype}")
    return labels.astype(dtype)


def _mixing_weights(key: jax.Array, alpha, count: int, dtype) -> jax.Array:
    check_non_negative(alpha, name="alpha")
    alpha = jnp.asarray(alpha, dtype)
    safe_alpha = jnp.where(alpha > 0, alpha, 1)
    lam = jax.random.beta(key, safe_alpha, safe_alpha, (count,), dtype)
    return jnp.where(alpha > 0, lam, 1)


def mixup(
    key: jax.Array, images: jax.Array, labels, alpha, *, num_classes: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """Blend every image and its label with a random partner from the batch (mixup).

    Args:
        key: a PRNG key.
        images: shape ``(N, H, W, C)``, floating point in ``[0, 1]``.
        labels: integer ids ``(N,)`` (then give ``num_classes``) or soft labels ``(N, K)``.
        alpha: Beta distribution parameter, ``>= 0`` (``0`` is the identity; ``0.2`` to ``1``
            is usual).
        num_classes: ``K``, for integer labels.

    Returns:
        ``(mixed_images, mixed_labels)`` of shapes ``(N, H, W, C)`` and ``(N, K)``.

    Example:
        >>> x, y = mixup(jax.random.key(0), jnp.ones((4, 8, 8, 1)), jnp.arange(4), 0.4, num_classes=4)
        >>> y.shape
        (4, 4)
    """
    images = check_batch(images)
    count = images.shape[0]
    targets = soft_labels(labels, num_classes=num_classes, count=count, dtype=images.dtype)
    key_perm, key_lam = jax.random.split(key)
    partner = jax.random.permutation(key_perm, count)
    lam = _mixing_weights(key_lam, alpha, count, images.dtype)
    mixed = jax.vmap(blend)(images, images[partner], lam)
    mixed_labels = lam[:, None] * targets + (1 - lam[:, None]) * targets[partner]
    return mixed, mixed_labels


def cutmix(
    key: jax.Array, images: jax.Array, labels, alpha, *, num_classes: int | None = None
) -> tuple[jax.Array, jax.Array]:
    """Paste a random box from a partner image into every image; weight labels by area (CutMix).

    The box has sides ``H sqrt(1 - lambda)`` and ``W sqrt(1 - lambda)``, a uniformly drawn centre,
    and is clipped at the borders; the label weight of the partner is the pasted area fraction.

    Args:
        key: a PRNG key.
        images: shape ``(N, H, W, C)``, floating point in ``[0, 1]``.
        labels: integer ids ``(N,)`` (then give ``num_classes``) or soft labels ``(N, K)``.
        alpha: Beta distribution parameter, ``>= 0`` (``0`` is the identity; ``1`` is usual).
        num_classes: ``K``, for integer labels.

    Returns:
        ``(mixed_images, mixed_labels)`` of shapes ``(N, H, W, C)`` and ``(N, K)``.

    Example:
        >>> x, y = cutmix(jax.random.key(0), jnp.ones((4, 8, 8, 1)), jnp.arange(4), 1.0, num_classes=4)
        >>> x.shape
        (4, 8, 8, 1)
    """
    images = check_batch(images)
    count, height, width = images.shape[:3]
    dtype = images.dtype
    targets = soft_labels(labels, num_classes=num_classes, count=count, dtype=dtype)
    key_perm, key_lam, key_y, key_x = jax.random.split(key, 4)
    partner = jax.random.permutation(key_perm, count)
    lam = _mixing_weights(key_lam, alpha, count, dtype)
    side = jnp.sqrt(1 - lam)
    box_h, box_w = jnp.round(side * height), jnp.round(side * width)
    centre_y = jax.random.uniform(key_y, (count,), dtype) * height
    centre_x = jax.random.uniform(key_x, (count,), dtype) * width
    top = jnp.clip(jnp.round(centre_y - box_h * HALF), 0, height)
    bottom = jnp.clip(jnp.round(centre_y + box_h * HALF), 0, height)
    left = jnp.clip(jnp.round(centre_x - box_w * HALF), 0, width)
    right = jnp.clip(jnp.round(centre_x + box_w * HALF), 0, width)
    mixed = jax.vmap(paste)(images, images[partner], top, left, bottom - top, right - left)
    pasted = (bottom - top) * (right - left) / (height * width)
    kept = (1 - pasted)[:, None]
    return mixed, kept * targets + (1 - kept) * targets[partner]
