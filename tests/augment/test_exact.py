"""Exact small-array cases, input errors, and agreement with dm-pix (a test-only dependency)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion import augment as A

pix = pytest.importorskip("dm_pix", reason="dm-pix is the reference for the comparisons")

TOL = 1e-5


def test_flips_of_a_2x3_image():
    image = jnp.arange(6.0).reshape(2, 3, 1) / 5
    np.testing.assert_array_equal(A.flip_left_right(image)[..., 0], jnp.array([[2, 1, 0], [5, 4, 3]]) / 5)
    np.testing.assert_array_equal(A.flip_up_down(image)[..., 0], jnp.array([[3, 4, 5], [0, 1, 2]]) / 5)


def test_translate_and_rotate_by_whole_pixels_and_quarter_turns():
    image = jnp.arange(9.0).reshape(3, 3, 1) / 8
    shifted = A.translate(image, 1.0, 0.0)[..., 0]
    np.testing.assert_allclose(shifted, jnp.array([[0, 0, 1], [0, 3, 4], [0, 6, 7]]) / 8, atol=TOL)
    turned = A.rotate(image, 90.0)[..., 0]  # counter-clockwise: the right column becomes the top row
    np.testing.assert_allclose(turned, jnp.rot90(image[..., 0]), atol=TOL)


def test_lighting_formulas():
    image = jnp.array([[[0.0], [0.5], [1.0]]])
    np.testing.assert_allclose(A.adjust_brightness(image, 0.25)[0, :, 0], [0.25, 0.75, 1.0])
    np.testing.assert_allclose(A.adjust_contrast(image, 0.5)[0, :, 0], [0.25, 0.5, 0.75])
    np.testing.assert_allclose(A.adjust_gamma(image, 2.0)[0, :, 0], [0.0, 0.25, 1.0])


def test_hsv_round_trip_and_primary_hues():
    primaries = jnp.eye(3)
    np.testing.assert_allclose(A.rgb_to_hsv(primaries)[:, 0], [0.0, 1 / 3, 2 / 3], atol=TOL)
    colours = jax.random.uniform(jax.random.key(0), (50, 3))
    np.testing.assert_allclose(A.hsv_to_rgb(A.rgb_to_hsv(colours)), colours, atol=TOL)


def test_occlusion_and_mixing_boxes():
    ones = jnp.ones((4, 4, 1))
    erased = A.erase(ones, 1, 1, 2, 2)[..., 0]
    np.testing.assert_array_equal(erased, jnp.array([[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]]))
    np.testing.assert_array_equal(A.paste(jnp.zeros((4, 4, 1)), ones, 1, 1, 2, 2), 1 - erased[..., None])
    np.testing.assert_allclose(A.blend(ones, jnp.zeros((4, 4, 1)), 0.3), 0.3 * ones)


def test_cutmix_label_weight_is_the_pasted_area(key):
    images = jnp.stack([jnp.zeros((8, 8, 1)), jnp.ones((8, 8, 1))])
    mixed, soft = A.cutmix(key, images, jnp.array([0, 1]), 1.0, num_classes=2)
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=TOL)
    # Pixels equal to one came from the all-ones image: their fraction is the weight of label 1.
    np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)), soft[:, 1], atol=TOL)


def test_salt_and_pepper_only_writes_black_and_white(key):
    image = jnp.full((16, 16, 3), 0.5)
    out = A.salt_and_pepper(key, image, 1.0)
    assert set(np.unique(np.asarray(out)).tolist()) <= {0.0, 1.0}


def test_blur_keeps_a_constant_image_and_resized_crop_keeps_the_full_box():
    flat = jnp.full((8, 8, 3), 0.3)
    np.testing.assert_allclose(A.gaussian_blur(flat, 1.5), flat, atol=TOL)
    image = jax.random.uniform(jax.random.key(0), (8, 6, 1))
    np.testing.assert_allclose(A.resized_crop(image, 0, 0, 8, 6), image, atol=TOL)


def test_input_errors_name_the_argument_and_the_fix():
    with pytest.raises(TypeError, match=r"image must be floating point.*uint8.*to_float"):
        A.rotate(np.zeros((8, 8, 1), np.uint8), 10.0)
    with pytest.raises(ValueError, match=r"image must be one image of shape \(H, W, C\); got shape \(2, 8, 8, 1\)"):
        A.flip_left_right(jnp.zeros((2, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"3 channels.*got shape \(8, 8, 1\)"):
        A.adjust_hue(jnp.zeros((8, 8, 1)), 0.1)
    with pytest.raises(ValueError, match="num_classes"):
        A.mixup(jax.random.key(0), jnp.zeros((2, 4, 4, 1)), jnp.array([0, 1]), 0.2)
    converted = A.to_float32(np.full((2, 2, 1), 255, np.uint8))
    assert converted.dtype == jnp.float32 and float(converted.max()) == 1.0


# --- dm-pix agreement (dm-pix does not clip, so it is clipped here; rotation is compared where
#     dm-pix's hard cut at the border and our smooth fill agree: away from the corners) ---

IMAGE = jax.random.uniform(jax.random.key(3), (16, 16, 3))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (A.flip_left_right, pix.flip_left_right),
        (A.flip_up_down, pix.flip_up_down),
        (lambda x: A.adjust_brightness(x, 0.1), lambda x: pix.adjust_brightness(x, 0.1)),
        (lambda x: A.adjust_contrast(x, 0.6), lambda x: pix.adjust_contrast(x, 0.6)),
        (lambda x: A.adjust_gamma(x, 0.7), lambda x: pix.adjust_gamma(x, 0.7)),
        (lambda x: A.adjust_hue(x, 0.2), lambda x: pix.adjust_hue(x, 0.2)),
        (lambda x: A.adjust_saturation(x, 0.5), lambda x: pix.adjust_saturation(x, 0.5)),
        (lambda x: A.gaussian_blur(x, 1.0, mode="constant"), lambda x: pix.gaussian_blur(x, 1.0, kernel_size=7)),
        (
            lambda x: A.elastic_deform(jax.random.key(5), x, 8.0, 4.0, mode="nearest"),
            lambda x: pix.elastic_deformation(jax.random.key(5), x, 8.0, 4.0),
        ),
    ],
    ids=["flip_lr", "flip_ud", "brightness", "contrast", "gamma", "hue", "saturation", "blur", "elastic"],
)
def test_matches_dm_pix(ours, theirs):
    with jax.numpy_dtype_promotion("standard"):  # dm-pix mixes dtypes internally
        reference = jnp.clip(theirs(IMAGE), 0, 1)
    np.testing.assert_allclose(ours(IMAGE), reference, atol=1e-4)


def test_rotation_matches_dm_pix_inside_the_disc():
    ours = A.rotate(IMAGE, 30.0)
    with jax.numpy_dtype_promotion("standard"):
        theirs = pix.rotate(IMAGE, np.deg2rad(30.0), mode="constant")
    rows, cols = np.mgrid[:16, :16]
    disc = (rows - 7.5) ** 2 + (cols - 7.5) ** 2 < 6.5**2
    np.testing.assert_allclose(np.asarray(ours)[disc], np.asarray(theirs)[disc], atol=1e-4)
