"""Compose random augmentations: :class:`Step` (an op, its probability, its options) and :class:`Pipeline`.

A pipeline maps a batch ``(N, H, W, C)`` to a batch of the same shape in one jitted call. The key
is split into one key per sample and the per-image chain is ``vmap``-ed, so every sample draws its
own parameters and its own coin flips. Consecutive geometric steps (flips, rotation, translation,
shear, zoom, affine) are fused: their forward matrices are multiplied and the image is resampled
once, which is faster and blurs less than resampling after every step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from companion.augment import geometry
from companion.augment.checks import check_batch, check_image, check_probability
from companion.augment.sampling import invert_affine, warp_affine

#: Random geometric ops and the functions that draw their forward matrices.
GEOMETRIC_SAMPLERS: dict[Callable, Callable] = {
    geometry.random_flip_left_right: geometry.sample_flip_left_right,
    geometry.random_flip_up_down: geometry.sample_flip_up_down,
    geometry.random_rotate: geometry.sample_rotate,
    geometry.random_translate: geometry.sample_translate,
    geometry.random_shear: geometry.sample_shear,
    geometry.random_zoom: geometry.sample_zoom,
    geometry.random_affine: geometry.sample_affine,
}
_FLIPS = (geometry.random_flip_left_right, geometry.random_flip_up_down)
DEFAULT_FILL = 0.0


class Step:
    """One random op of a :class:`Pipeline`, applied with probability ``p``.

    Args:
        op: a random augmentation ``op(key, image, **options) -> image``, e.g.
            :func:`companion.augment.random_rotate`.
        p: probability of applying it to a given sample.
        **options: keyword options passed to ``op``, e.g. ``max_degrees=15.0``.

    Example:
        >>> from companion.augment import random_rotate
        >>> Step(random_rotate, p=0.5, max_degrees=15.0)
        Step(random_rotate, p=0.5, max_degrees=15.0)
    """

    def __init__(self, op: Callable, *, p: float = 1.0, **options: Any) -> None:
        if not callable(op):
            raise TypeError(f"op must be a random augmentation function; got {type(op).__name__}")
        self.op = op
        self.p = check_probability(p)
        self.options = dict(options)

    @property
    def geometric(self) -> bool:
        """Whether the op is one of the fusable geometric ops."""
        return self.op in GEOMETRIC_SAMPLERS

    @property
    def fill(self) -> float:
        """The fill value of a geometric op (0 unless given)."""
        return float(self.options.get("fill", DEFAULT_FILL))

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"Step({getattr(self.op, '__name__', repr(self.op))}, p={self.p}{options})"


def _apply_step(step: Step, key: jax.Array, image: jax.Array) -> jax.Array:
    key_coin, key_op = jax.random.split(key)
    out = step.op(key_op, image, **step.options)
    if step.p >= 1.0:
        return out
    return jnp.where(jax.random.bernoulli(key_coin, step.p), out, image)


def _forward_of(step: Step, key: jax.Array, height: int, width: int, dtype) -> jax.Array:
    key_coin, key_op = jax.random.split(key)
    options = {k: v for k, v in step.options.items() if k != "fill"}
    forward = GEOMETRIC_SAMPLERS[step.op](key_op, height, width, **options).astype(dtype)
    if step.p >= 1.0:
        return forward
    return jnp.where(jax.random.bernoulli(key_coin, step.p), forward, jnp.eye(3, dtype=dtype))


def _groups(steps: Sequence[Step], fuse: bool) -> list[list[int]]:
    """Split step indices into runs; a run of several geometric steps with one fill is fused."""
    groups: list[list[int]] = []
    for index, step in enumerate(steps):
        previous = steps[groups[-1][-1]] if groups else None
        if (
            fuse and previous is not None and step.geometric and previous.geometric
            and step.fill == previous.fill
        ):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


class Pipeline:
    """Apply a list of random steps, each with its own probability, to every sample of a batch.

    Args:
        steps: the :class:`Step` objects, applied in order.
        fuse_geometry: resample once for each run of consecutive geometric steps.

    Example:
        >>> from companion.augment import random_flip_left_right, random_brightness, random_rotate
        >>> pipe = Pipeline([
        ...     Step(random_flip_left_right),
        ...     Step(random_rotate, p=0.5, max_degrees=15.0),
        ...     Step(random_brightness, max_delta=0.2),
        ... ])
        >>> pipe(jax.random.key(0), jnp.ones((4, 8, 8, 1))).shape
        (4, 8, 8, 1)
    """

    def __init__(self, steps: Sequence[Step], *, fuse_geometry: bool = True) -> None:
        steps = list(steps)
        for index, step in enumerate(steps):
            if not isinstance(step, Step):
                raise TypeError(f"steps[{index}] must be a Step(op, p=..., **options); got {step!r}")
        self.steps = tuple(steps)
        self.fuse_geometry = fuse_geometry
        self._groups = _groups(self.steps, fuse_geometry)
        self._batched = jax.jit(jax.vmap(self.apply_one))

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(s) for s in self.steps)
        return f"Pipeline([\n    {inner},\n], fuse_geometry={self.fuse_geometry})"

    def apply_one(self, key: jax.Array, image: jax.Array) -> jax.Array:
        """Augment one image (not jitted; use inside your own ``jit``/``vmap``).

        Args:
            key: a PRNG key.
            image: shape ``(H, W, C)``, floating point in ``[0, 1]``.

        Returns:
            Shape ``(H, W, C)``.

        Example:
            >>> Pipeline([]).apply_one(jax.random.key(0), jnp.ones((8, 8, 1))).shape
            (8, 8, 1)
        """
        image = check_image(image)
        if not self.steps:
            return image
        keys = jax.random.split(key, len(self.steps))
        height, width = image.shape[0], image.shape[1]
        for group in self._groups:
            first = self.steps[group[0]]
            if len(group) == 1 and (not first.geometric or first.op in _FLIPS):
                image = _apply_step(first, keys[group[0]], image)
                continue
            if not first.geometric:
                raise AssertionError("only geometric steps are grouped")
            forward = jnp.eye(3, dtype=image.dtype)
            for index in group:
                forward = _forward_of(self.steps[index], keys[index], height, width, image.dtype) @ forward
            image = warp_affine(image, invert_affine(forward), fill=first.fill)
        return image

    def __call__(self, key: jax.Array, images: jax.Array) -> jax.Array:
        """Augment a batch in one jitted call, with independent parameters per sample.

        Args:
            key: a PRNG key.
            images: shape ``(N, H, W, C)``, floating point in ``[0, 1]``.

        Returns:
            Shape ``(N, H, W, C)``.

        Example:
            >>> Pipeline([]).__call__(jax.random.key(0), jnp.ones((2, 8, 8, 1))).shape
            (2, 8, 8, 1)
        """
        images = check_batch(images)
        return self._batched(jax.random.split(key, images.shape[0]), images)
