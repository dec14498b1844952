"""IoU: hand-computed cases, a pixel-counting reference, and input checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.detect import box_area, box_iou, pairwise_iou


def raster_iou(a, b, size=16):
    """IoU by painting integer boxes on a pixel grid and counting pixels."""
    grid = np.zeros((2, size, size), bool)
    for layer, (y0, x0, y1, x1) in enumerate((a, b)):
        grid[layer, int(y0):int(y1), int(x0):int(x1)] = True
    union = (grid[0] | grid[1]).sum()
    return (grid[0] & grid[1]).sum() / union if union else 0.0


@pytest.mark.parametrize(("a", "b", "expected"), [
    ([0, 0, 2, 2], [0, 0, 2, 2], 1.0),           # identical
    ([0, 0, 2, 2], [1, 0, 3, 2], 2 / 6),         # half overlap: 2 / (4 + 4 - 2)
    ([0, 0, 2, 2], [2, 2, 4, 4], 0.0),           # touching corners
    ([0, 0, 4, 4], [1, 1, 3, 3], 4 / 16),        # nested
    ([0, 0, 1, 1], [5, 5, 6, 6], 0.0),           # disjoint
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),           # two empty boxes
])
def test_iou_hand_computed(a, b, expected):
    value = box_iou(jnp.array(a, jnp.float32), jnp.array(b, jnp.float32))
    assert float(value) == pytest.approx(expected, abs=1e-6)


def random_integer_boxes(rng, count, size=16):
    corners = rng.integers(0, size, size=(count, 2, 2))
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1)


def test_iou_matches_pixel_counting_and_is_symmetric():
    rng = np.random.default_rng(0)
    a, b = random_integer_boxes(rng, 200), random_integer_boxes(rng, 200)
    got = np.asarray(box_iou(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)))
    expected = np.array([raster_iou(x, y) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(box_iou(jnp.asarray(b, jnp.float32), jnp.asarray(a, jnp.float32))))


def test_pairwise_iou_is_the_broadcast_of_box_iou_and_jits():
    a = jnp.array([[0, 0, 2, 2], [1, 1, 4, 4]], jnp.float32)
    b = jnp.array([[0, 0, 2, 2], [0, 0, 4, 4], [3, 3, 5, 5]], jnp.float32)
    matrix = jax.jit(pairwise_iou)(a, b)
    assert matrix.shape == (2, 3)
    for i in range(2):
        for j in range(3):
            assert float(matrix[i, j]) == pytest.approx(float(box_iou(a[i], b[j])), abs=1e-6)


def test_area_clamps_inverted_boxes():
    np.testing.assert_array_equal(box_area(jnp.array([[0, 0, 2, 3], [2, 2, 1, 5]], jnp.float32)), [6.0, 0.0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"boxes_a must have shape \(\.\.\., 4\)"):
        box_iou(jnp.zeros((3, 5)), jnp.zeros((3, 4)))
    with pytest.raises(TypeError, match="floating-point"):
        box_iou(jnp.zeros((3, 4), jnp.int32), jnp.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        pairwise_iou(jnp.zeros((2, 3, 4)), jnp.zeros((3, 4)))
