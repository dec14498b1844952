"""Mini-batches for training: one shuffle per epoch on the device, then slices.

:func:`batches` moves the arrays to the default device once, draws one permutation from the
explicit ``key``, gathers the whole epoch in that order in one compiled call, and then only
slices: per batch, the work is one compiled ``dynamic_slice`` of the images and labels (a
compiled call costs about a quarter of two eager ``x[a:b]`` slices). The benchmark
``benchmarks/batching.py`` measures this against a training step.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["batches", "to_float"]

_UINT8_MAX = 255.0


@functools.partial(jax.jit, static_argnames="size")
def _slice(images: jax.Array, labels: jax.Array, start, *, size: int) -> tuple[jax.Array, jax.Array]:
    """One batch as a single compiled call (an eager ``x[a:b]`` costs several times more)."""
    return (jax.lax.dynamic_slice_in_dim(images, start, size),
            jax.lax.dynamic_slice_in_dim(labels, start, size))


@jax.jit
def _shuffle(key: jax.Array, images: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Permute the whole epoch in one compiled gather."""
    order = jax.random.permutation(key, images.shape[0])
    return jnp.take(images, order, axis=0), jnp.take(labels, order, axis=0)


class _Batches:
    """An iterator of ``(images, labels)`` slices that also knows its length."""

    def __init__(self, images: jax.Array, labels: jax.Array, batch_size: int, count: int) -> None:
        self._images, self._labels = images, labels
        self._batch_size, self._count, self._next = batch_size, count, 0

    def __len__(self) -> int:
        return self._count - self._next

    def __iter__(self) -> Iterator[tuple[jax.Array, jax.Array]]:
        return self

    def __next__(self) -> tuple[jax.Array, jax.Array]:
        if self._next >= self._count:
            raise StopIteration
        start = self._next * self._batch_size
        size = min(self._batch_size, self._images.shape[0] - start)
        self._next += 1
        return _slice(self._images, self._labels, start, size=size)


def _is_key(key) -> bool:
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key.shape == ()
    array = np.asarray(key) if isinstance(key, (np.ndarray, jax.Array)) else None
    return array is not None and array.dtype == np.uint32 and array.shape == (2,)


def batches(
    key: jax.Array | None,
    images,
    labels,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_remainder: bool = True,
) -> Iterator[tuple[jax.Array, jax.Array]]:
    """Split a dataset into mini-batches, shuffled with an explicit key.

    The arrays go to the default device once; with ``shuffle`` the epoch is permuted there in
    one compiled gather, and each batch is then one compiled slice, so no Python work is done
    per batch beyond slicing. Call it once per epoch with a fresh key (``jax.random.fold_in(key, epoch)``).

    Args:
        key: a ``jax.random`` key; it decides the order. May be ``None`` when ``shuffle=False``.
        images: NumPy or JAX array of shape ``(N, ...)``, e.g. ``uint8`` ``(N, H, W, C)``.
        labels: NumPy or JAX array of shape ``(N,)`` (or ``(N, ...)``, e.g. one-hot).
        batch_size: examples per batch, a positive int.
        shuffle: permute the examples with ``key``; otherwise keep their order.
        drop_remainder: drop the last batch when it would be smaller than ``batch_size``, so
            every batch has the same shape and a jitted step compiles once.

    Returns:
        An iterator (with ``len``) of ``(images, labels)`` JAX arrays of shapes
        ``(batch_size, ...)`` and ``(batch_size, ...)``, in the input dtypes.

    Raises:
        ValueError: shapes disagree, ``batch_size`` is not positive, or it exceeds ``N`` while
            ``drop_remainder`` is set (there would be no batch at all).
        TypeError: ``key`` is not a PRNG key while ``shuffle`` is set.

    Example:
        >>> x, y = np.zeros((10, 2, 2, 1), np.uint8), np.arange(10, dtype=np.int32)
        >>> [b[1].shape for b in batches(jax.random.key(0), x, y, 4)]
        [(4,), (4,)]
    """
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}")
    batch_size = int(batch_size)
    image_shape, label_shape = np.shape(images), np.shape(labels)
    if len(image_shape) < 1 or len(label_shape) < 1 or image_shape[0] != label_shape[0]:
        raise ValueError(
            f"images (N, ...) and labels (N, ...) must have the same N; got images of shape "
            f"{image_shape} and labels of shape {label_shape}"
        )
    n = image_shape[0]
    if drop_remainder and batch_size > n:
        raise ValueError(
            f"batch_size ({batch_size}) exceeds the {n} examples, so drop_remainder=True would "
            "yield no batch; use a smaller batch_size or drop_remainder=False"
        )
    if shuffle and not _is_key(key):
        raise TypeError(
            "key must be a jax.random key (jax.random.key(seed)) when shuffle=True; got "
            f"{type(key).__name__} {getattr(key, 'dtype', '')}{list(np.shape(key))}"
        )
    images, labels = jnp.asarray(images), jnp.asarray(labels)
    if shuffle:
        images, labels = _shuffle(key, images, labels)
    count = n // batch_size if drop_remainder else -(-n // batch_size)
    return _Batches(images, labels, batch_size, count)


def to_float(images) -> jax.Array:
    """Convert ``uint8`` pixels in ``[0, 255]`` to ``float32`` in ``[0, 1]``.

    Works on NumPy and JAX arrays and inside ``jax.jit``.

    Args:
        images: ``uint8`` array of any shape, e.g. ``(N, H, W, C)``.

    Returns:
        ``float32`` array of the same shape, ``images / 255``.

    Raises:
        TypeError: ``images`` is not ``uint8`` (a float input was probably converted already).

    Example:
        >>> to_float(np.array([0, 51, 255], np.uint8))
        Array([0. , 0.2, 1. ], dtype=float32)
    """
    dtype = getattr(images, "dtype", None)
    if dtype != np.uint8:
        raise TypeError(
            f"images must be uint8 pixels in [0, 255]; got dtype {dtype} "
            "(already converted? to_float expects the loaders' uint8 output)"
        )
    return jnp.asarray(images).astype(jnp.float32) / jnp.float32(_UINT8_MAX)
