import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.data import batches, to_float

N, BATCH = 10, 4


@pytest.fixture
def data():
    images = np.arange(N * 2 * 2 * 1, dtype=np.uint8).reshape(N, 2, 2, 1)
    return images, np.arange(N, dtype=np.int32)


def _collect(iterator):
    pairs = list(iterator)
    return [np.asarray(x) for x, _ in pairs], [np.asarray(y) for _, y in pairs]


def test_shapes_dtypes_and_count(key, data):
    iterator = batches(key, *data, BATCH)
    assert len(iterator) == N // BATCH
    xs, ys = _collect(iterator)
    assert [x.shape for x in xs] == [(BATCH, 2, 2, 1)] * 2 and [y.shape for y in ys] == [(BATCH,)] * 2
    assert xs[0].dtype == np.uint8 and ys[0].dtype == np.int32


def test_images_and_labels_stay_paired_and_each_example_appears_once(key, data):
    xs, ys = _collect(batches(key, *data, BATCH, drop_remainder=False))
    labels = np.concatenate(ys)
    assert sorted(labels.tolist()) == list(range(N))
    np.testing.assert_array_equal(np.concatenate(xs), data[0][labels])
    assert [len(y) for y in ys] == [4, 4, 2]


def test_same_key_same_order_and_different_keys_differ(key, data):
    first = np.concatenate(_collect(batches(key, *data, 2))[1])
    again = np.concatenate(_collect(batches(key, *data, 2))[1])
    other = np.concatenate(_collect(batches(jax.random.fold_in(key, 1), *data, 2))[1])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, np.arange(N))


def test_no_shuffle_keeps_order_and_needs_no_key(data):
    _, ys = _collect(batches(None, *data, BATCH, shuffle=False))
    np.testing.assert_array_equal(np.concatenate(ys), np.arange(2 * BATCH))


def test_jax_and_numpy_inputs_agree(key, data):
    from_numpy = _collect(batches(key, *data, BATCH))
    from_jax = _collect(batches(key, jnp.asarray(data[0]), jnp.asarray(data[1]), BATCH))
    for a, b in zip(from_numpy[0] + from_numpy[1], from_jax[0] + from_jax[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_legacy_uint32_keys_are_accepted(data):
    _collect(batches(jax.random.PRNGKey(0), *data, BATCH))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be a positive int; got 0"),
    ({"batch_size": 2.0}, ValueError, "batch_size must be a positive int; got 2.0"),
    ({"batch_size": 11}, ValueError, r"batch_size \(11\) exceeds the 10 examples"),
    ({"key": 0}, TypeError, "key must be a jax.random key"),
    ({"labels": np.zeros(9, np.int32)}, ValueError, r"same N; got images of shape \(10, 2, 2, 1\) and "
                                                    r"labels of shape \(9,\)"),
])
def test_bad_arguments_are_clear_errors(key, data, kwargs, error, message):
    arguments = {"key": key, "images": data[0], "labels": data[1], "batch_size": BATCH} | kwargs
    with pytest.raises(error, match=message):
        batches(arguments.pop("key"), arguments.pop("images"), arguments.pop("labels"), **arguments)


def test_to_float_scales_uint8_to_unit_interval():
    out = to_float(np.array([0, 51, 255], np.uint8))
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(out), [0.0, 0.2, 1.0], rtol=1e-6)


def test_to_float_works_under_jit():
    images = jnp.full((2, 3, 3, 1), 255, jnp.uint8)
    np.testing.assert_array_equal(np.asarray(jax.jit(to_float)(images)), np.ones((2, 3, 3, 1), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint16])
def test_to_float_refuses_other_dtypes(dtype):
    with pytest.raises(TypeError, match=f"images must be uint8 pixels in \\[0, 255\\]; got dtype {np.dtype(dtype)}"):
        to_float(np.zeros(3, dtype))
