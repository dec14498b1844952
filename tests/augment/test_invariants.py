"""One table-driven suite over every op of companion.augment, plus exact cases and dm-pix checks.

Each row of ``CASES`` names an op at a moderate strength (``apply``) and at zero strength
(``identity``); every invariant runs over every row. Images are small (12x12) and each op is
compiled once per invariant that needs it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion import augment as A

SIZE = 12
BATCH = 4
TOL = 1e-5
RGB_SHAPE = (SIZE, SIZE, 3)
GREY_SHAPE = (SIZE, SIZE, 1)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    apply: Callable  # (key, image) -> image, at a moderate strength
    identity: Callable  # (key, image) -> image, at zero strength
    random: bool = True  # the output depends on the key
    rgb_only: bool = False
    differentiable: bool = True


def det(fn, *args, **kwargs):
    """Wrap a deterministic op as (key, image) -> image."""
    return lambda key, image: fn(image, *args, **kwargs)


def rnd(fn, *args, **kwargs):
    return lambda key, image: fn(key, image, *args, **kwargs)


CASES = [
    Case("flip_left_right", det(A.flip_left_right), det(lambda x: x), random=False),
    Case("flip_up_down", det(A.flip_up_down), det(lambda x: x), random=False),
    Case("random_flip_left_right", rnd(A.random_flip_left_right), rnd(A.random_flip_left_right, p=0.0)),
    Case("random_flip_up_down", rnd(A.random_flip_up_down), rnd(A.random_flip_up_down, p=0.0)),
    Case("rotate", det(A.rotate, 30.0), det(A.rotate, 0.0), random=False),
    Case("random_rotate", rnd(A.random_rotate, max_degrees=30.0), rnd(A.random_rotate, max_degrees=0.0)),
    Case("translate", det(A.translate, 1.5, -2.0), det(A.translate, 0.0, 0.0), random=False),
    Case("random_translate", rnd(A.random_translate, max_dx=3.0), rnd(A.random_translate, max_dx=0.0)),
    Case("shear", det(A.shear, 0.3, 0.1), det(A.shear, 0.0), random=False),
    Case("random_shear", rnd(A.random_shear, max_shear=0.3), rnd(A.random_shear, max_shear=0.0)),
    Case("zoom", det(A.zoom, 1.3), det(A.zoom, 1.0), random=False),
    Case("random_zoom", rnd(A.random_zoom, scale=(0.8, 1.2)), rnd(A.random_zoom, scale=(1.0, 1.0))),
    Case("affine", det(A.affine, degrees=10.0, dx=1.0, scale=1.1, shear_x=0.1), det(A.affine), random=False),
    Case(
        "random_affine",
        rnd(A.random_affine, max_degrees=20.0, max_dx=2.0, scale=(0.9, 1.1), max_shear=0.2),
        rnd(A.random_affine),
    ),
    Case("resized_crop", det(A.resized_crop, 2.0, 1.0, 7.0, 9.0), det(A.resized_crop, 0, 0, SIZE, SIZE), random=False),
    Case(
        "random_resized_crop",
        rnd(A.random_resized_crop, scale=(0.3, 1.0)),
        rnd(A.random_resized_crop, scale=(1.0, 1.0), ratio=(1.0, 1.0)),
    ),
    Case("elastic_deform", rnd(A.elastic_deform, 4.0, 2.0), rnd(A.elastic_deform, 0.0, 2.0)),
    Case(
        "random_elastic_deform",
        rnd(A.random_elastic_deform, max_alpha=4.0, sigma=2.0),
        rnd(A.random_elastic_deform, max_alpha=0.0, sigma=2.0),
    ),
    Case("gaussian_noise", rnd(A.gaussian_noise, 0.1), rnd(A.gaussian_noise, 0.0)),
    Case(
        "random_gaussian_noise",
        rnd(A.random_gaussian_noise, max_sigma=0.2),
        rnd(A.random_gaussian_noise, max_sigma=0.0),
    ),
    Case("salt_and_pepper", rnd(A.salt_and_pepper, 0.2), rnd(A.salt_and_pepper, 0.0)),
    Case(
        "random_salt_and_pepper",
        rnd(A.random_salt_and_pepper, max_amount=0.3),
        rnd(A.random_salt_and_pepper, max_amount=0.0),
    ),
    Case("adjust_brightness", det(A.adjust_brightness, 0.2), det(A.adjust_brightness, 0.0), random=False),
    Case("random_brightness", rnd(A.random_brightness, max_delta=0.3), rnd(A.random_brightness, max_delta=0.0)),
    Case("adjust_contrast", det(A.adjust_contrast, 0.6), det(A.adjust_contrast, 1.0), random=False),
    Case("random_contrast", rnd(A.random_contrast, factors=(0.5, 1.5)), rnd(A.random_contrast, factors=(1.0, 1.0))),
    Case("adjust_gamma", det(A.adjust_gamma, 0.7), det(A.adjust_gamma, 1.0), random=False),
    Case("random_gamma", rnd(A.random_gamma, gammas=(0.5, 2.0)), rnd(A.random_gamma, gammas=(1.0, 1.0))),
    Case(
        "adjust_saturation",
        det(A.adjust_saturation, 0.5),
        det(A.adjust_saturation, 1.0),
        random=False,
        rgb_only=True,
    ),
    Case(
        "random_saturation",
        rnd(A.random_saturation, factors=(0.3, 1.7)),
        rnd(A.random_saturation, factors=(1.0, 1.0)),
        rgb_only=True,
    ),
    Case("adjust_hue", det(A.adjust_hue, 0.2), det(A.adjust_hue, 0.0), random=False, rgb_only=True),
    Case("random_hue", rnd(A.random_hue, max_delta=0.3), rnd(A.random_hue, max_delta=0.0), rgb_only=True),
    Case("gaussian_blur", det(A.gaussian_blur, 1.0), det(A.gaussian_blur, 0.0), random=False),
    Case(
        "random_gaussian_blur",
        rnd(A.random_gaussian_blur, max_sigma=1.5),
        rnd(A.random_gaussian_blur, max_sigma=0.0),
    ),
    Case("sharpen", det(A.sharpen, 1.0), det(A.sharpen, 0.0), random=False),
    Case("random_sharpen", rnd(A.random_sharpen, max_amount=2.0), rnd(A.random_sharpen, max_amount=0.0)),
    Case("erase", det(A.erase, 2, 3, 4, 5), det(A.erase, 2, 3, 0, 0), random=False, differentiable=True),
    Case("cutout", rnd(A.cutout, 5), rnd(A.cutout, 0)),
    Case("random_erasing", rnd(A.random_erasing), rnd(A.random_erasing, scale=(0.0, 0.0))),
    Case(
        "pipeline_one",
        lambda key, image: PIPELINE.apply_one(key, image),
        lambda key, image: PIPELINE_OFF.apply_one(key, image),
    ),
]

_STEPS = [
    A.Step(A.random_flip_left_right),
    A.Step(A.random_translate, p=0.8, max_dx=2.0),
    A.Step(A.random_rotate, p=0.8, max_degrees=20.0),
    A.Step(A.random_brightness, p=0.8, max_delta=0.2),
    A.Step(A.random_contrast, factors=(0.7, 1.3)),
    A.Step(A.cutout, p=0.5, size=4),
]
PIPELINE = A.Pipeline(_STEPS)
PIPELINE_OFF = A.Pipeline([A.Step(s.op, p=0.0, **s.options) for s in _STEPS])

IDS = [c.name for c in CASES]


def shapes(case: Case):
    return [RGB_SHAPE] if case.rgb_only else [RGB_SHAPE, GREY_SHAPE]


def make_image(shape=RGB_SHAPE, seed: int = 1) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), shape, jnp.float32)


@functools.cache
def jitted(name: str):
    return jax.jit(CASES[IDS.index(name)].apply)


@functools.cache
def vmapped(name: str):
    return jax.jit(jax.vmap(CASES[IDS.index(name)].apply))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_dtype_range_and_jit_equals_eager(case: Case, key):
    for shape in shapes(case):
        image = make_image(shape)
        compiled = jitted(case.name)(key, image)
        assert compiled.shape == shape and compiled.dtype == jnp.float32
        assert float(compiled.min()) >= 0.0 and float(compiled.max()) <= 1.0
    # Eager (op-by-op) execution is slow, so it runs once, on the RGB image.
    np.testing.assert_allclose(compiled if shape == RGB_SHAPE else jitted(case.name)(key, make_image()),
                               case.apply(key, make_image()), atol=TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_zero_strength_is_identity(case: Case, key):
    image = make_image(RGB_SHAPE)
    np.testing.assert_allclose(jax.jit(case.identity)(key, image), image, atol=TOL)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_equals_loop(case: Case, key):
    keys = jax.random.split(key, BATCH)
    images = jnp.stack([make_image(RGB_SHAPE, seed) for seed in range(BATCH)])
    batched = vmapped(case.name)(keys, images)
    single = jitted(case.name)
    looped = jnp.stack([single(k, x) for k, x in zip(keys, images, strict=True)])
    np.testing.assert_allclose(batched, looped, atol=TOL)


@pytest.mark.parametrize("case", [c for c in CASES if c.random], ids=[c.name for c in CASES if c.random])
def test_keys_control_randomness_and_samples_differ(case: Case, key):
    image = make_image(RGB_SHAPE)
    fn = jitted(case.name)
    np.testing.assert_array_equal(fn(key, image), fn(key, image))
    # Eight keys: at least two outputs differ, both across calls and across the samples of a batch.
    keys = jax.random.split(jax.random.key(7), 8)
    outputs = vmapped(case.name)(keys, jnp.broadcast_to(image, (8, *image.shape)))
    distinct = {np.asarray(o).tobytes() for o in outputs}
    assert len(distinct) > 1, f"{case.name}: every sample of the batch got the same parameters"


DIFFERENTIABLE = [c for c in CASES if c.differentiable]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=[c.name for c in DIFFERENTIABLE])
def test_gradients_are_finite(case: Case, key):
    # Inputs away from 0 and 1, where clipping and powers are differentiable.
    image = 0.1 + 0.8 * make_image(RGB_SHAPE)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(case.apply(key, x) ** 2)))(image)
    assert grad.shape == image.shape
    assert bool(jnp.all(jnp.isfinite(grad)))


# --- batch-level ops: mixup, cutmix and the Pipeline ---

MIXERS = {"mixup": A.mixup, "cutmix": A.cutmix}
NUM_CLASSES = 3


def _batch():
    images = jnp.stack([make_image(RGB_SHAPE, seed) for seed in range(BATCH)])
    labels = jnp.arange(BATCH, dtype=jnp.int32) % NUM_CLASSES
    return images, labels


@pytest.mark.parametrize("name", sorted(MIXERS))
def test_mixing_invariants(name, key):
    mix = MIXERS[name]
    images, labels = _batch()
    fn = jax.jit(functools.partial(mix, num_classes=NUM_CLASSES))
    # Beta sampling is a while loop, very slow op by op, so only the jitted form runs here.
    out, soft = out_jit, _ = fn(key, images, labels, 1.0)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert soft.shape == (BATCH, NUM_CLASSES)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=TOL)
    again, _ = fn(key, images, labels, 1.0)
    np.testing.assert_array_equal(again, out_jit)
    other, _ = fn(jax.random.key(99), images, labels, 1.0)
    assert not np.array_equal(other, out_jit)
    # Mixing weights differ across the batch.
    assert len({round(float(w), 6) for w in soft.max(axis=1)}) > 1
    same, same_soft = fn(key, images, labels, 0.0)
    np.testing.assert_allclose(same, images, atol=TOL)
    np.testing.assert_allclose(same_soft, jax.nn.one_hot(labels, NUM_CLASSES), atol=TOL)
    grad = jax.jit(jax.grad(lambda x: jnp.sum(fn(key, x, labels, 1.0)[0] ** 2)))(images)
    assert bool(jnp.all(jnp.isfinite(grad)))


def test_pipeline_batch_call(key):
    images, _ = _batch()
    out = PIPELINE(key, images)
    assert out.shape == images.shape and out.dtype == images.dtype
    np.testing.assert_array_equal(out, PIPELINE(key, images))
    one = jax.jit(PIPELINE.apply_one)
    looped = jnp.stack([one(k, x) for k, x in zip(jax.random.split(key, BATCH), images, strict=True)])
    np.testing.assert_allclose(out, looped, atol=TOL)
    np.testing.assert_allclose(PIPELINE_OFF(key, images), images, atol=TOL)


def test_pipeline_fusion_matches_sequential_resampling_in_the_interior(key):
    steps = [A.Step(A.random_rotate, max_degrees=20.0), A.Step(A.random_translate, max_dx=1.0)]
    image = make_image((24, 24, 1))
    # Two bilinear resamplings blur more than one, so compare smooth images loosely.
    smooth = A.gaussian_blur(image, 2.0)
    fused = A.Pipeline(steps).apply_one(key, smooth)
    sequential = A.Pipeline(steps, fuse_geometry=False).apply_one(key, smooth)
    interior = (slice(6, 18), slice(6, 18))
    assert float(jnp.abs(fused - sequential)[interior].max()) < 0.05
