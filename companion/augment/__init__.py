"""Jittable, vmappable image augmentations with per-sample randomness.

Every op works on one image ``(H, W, C)``, floating point in ``[0, 1]``, with ``C`` = 1 or 3 (hue
and saturation need RGB). Deterministic ops take the strength as an argument
(``rotate(image, degrees)``); random ops take a PRNG ``key`` first, draw their parameters, then call
the deterministic op (``random_rotate(key, image, max_degrees=15.0)``). Batch with ``jax.vmap``
over ``jax.random.split(key, n)``, or with :class:`Pipeline`, which also fuses consecutive
geometric steps into one resampling. ``mixup`` and ``cutmix`` work on whole labelled batches.
``uint8`` pixels are refused; convert them with :func:`to_float32`.

Example:
    >>> import jax
    >>> from companion import augment
    >>> images = jax.numpy.zeros((8, 28, 28, 1))
    >>> pipe = augment.Pipeline([augment.Step(augment.random_rotate, p=0.5, max_degrees=15.0)])
    >>> pipe(jax.random.key(0), images).shape
    (8, 28, 28, 1)
"""

from companion.augment.checks import check_batch, check_image, to_float32
from companion.augment.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_gamma,
    adjust_hue,
    adjust_saturation,
    hsv_to_rgb,
    random_brightness,
    random_contrast,
    random_gamma,
    random_hue,
    random_saturation,
    rgb_to_hsv,
)
from companion.augment.crop import random_resized_crop, resized_crop
from companion.augment.elastic import elastic_deform, random_elastic_deform, warp
from companion.augment.filters import gaussian_blur, random_gaussian_blur, random_sharpen, sharpen
from companion.augment.geometry import (
    affine,
    affine_matrix,
    flip_left_right,
    flip_up_down,
    random_affine,
    random_flip_left_right,
    random_flip_up_down,
    random_rotate,
    random_shear,
    random_translate,
    random_zoom,
    rotate,
    shear,
    translate,
    zoom,
)
from companion.augment.mixing import blend, cutmix, mixup, paste
from companion.augment.noise import (
    gaussian_noise,
    random_gaussian_noise,
    random_salt_and_pepper,
    salt_and_pepper,
)
from companion.augment.occlusion import cutout, erase, random_erasing
from companion.augment.pipeline import Pipeline, Step
from companion.augment.sampling import map_coordinates, warp_affine

__all__ = [
    "Pipeline",
    "Step",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_gamma",
    "adjust_hue",
    "adjust_saturation",
    "affine",
    "affine_matrix",
    "blend",
    "check_batch",
    "check_image",
    "cutmix",
    "cutout",
    "elastic_deform",
    "erase",
    "flip_left_right",
    "flip_up_down",
    "gaussian_blur",
    "gaussian_noise",
    "hsv_to_rgb",
    "map_coordinates",
    "mixup",
    "paste",
    "random_affine",
    "random_brightness",
    "random_contrast",
    "random_elastic_deform",
    "random_erasing",
    "random_flip_left_right",
    "random_flip_up_down",
    "random_gamma",
    "random_gaussian_blur",
    "random_gaussian_noise",
    "random_hue",
    "random_resized_crop",
    "random_rotate",
    "random_salt_and_pepper",
    "random_saturation",
    "random_sharpen",
    "random_shear",
    "random_translate",
    "random_zoom",
    "resized_crop",
    "rgb_to_hsv",
    "rotate",
    "salt_and_pepper",
    "sharpen",
    "shear",
    "to_float32",
    "translate",
    "warp",
    "warp_affine",
    "zoom",
]
