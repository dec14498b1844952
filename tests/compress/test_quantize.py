"""int8 per-channel quantisation: exact cases, the error bound, storage size and a model round trip."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion import compress
from companion.nn import SeedCNN


def test_hand_computed_values_and_scales():
    q = compress.quantize_per_channel(jnp.array([[0.5, 4.0], [-1.0, 2.0]]))
    np.testing.assert_allclose(q.scale, [1.0 / 127, 4.0 / 127], rtol=1e-6)
    assert q.values.dtype == jnp.int8
    assert q.values.tolist() == [[64, 127], [-127, 64]]  # 0.5 * 127 = 63.5 rounds to even 64; 2 * 127 / 4 = 63.5


def test_error_is_at_most_half_a_step_per_channel(key):
    weights = jax.random.normal(key, (3, 3, 8, 16)) * jnp.linspace(0.01, 2.0, 16)
    q = compress.quantize_per_channel(weights)
    error = jnp.abs(q.dequantize() - weights)
    assert bool(jnp.all(error <= q.scale / 2 + 1e-7))
    assert int(jnp.abs(q.values.astype(jnp.int32)).max()) == 127
    # each channel's largest weight is represented exactly
    np.testing.assert_allclose(jnp.abs(q.dequantize()).max(axis=(0, 1, 2)), jnp.abs(weights).max(axis=(0, 1, 2)),
                               rtol=1e-6)


def test_values_on_the_grid_survive_unchanged_and_zero_channels_are_safe():
    grid = jnp.array([[-127.0, 3.0, 0.0], [127.0, -5.0, 0.0]]) * jnp.array([0.25, 1.0, 1.0])
    q = compress.quantize_per_channel(grid.at[:, 1].set(grid[:, 1] * 127 / 5))
    back = q.dequantize()
    assert bool(jnp.all(jnp.isfinite(back)))
    np.testing.assert_allclose(back[:, 0], grid[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(back[:, 2], [0.0, 0.0])


def test_model_storage_shrinks_about_four_times_and_outputs_stay_close(key):
    model = SeedCNN(rngs=nnx.Rngs(0))
    quantized_model, stored = compress.quantize_model(model)
    original = compress.stored_bytes(nnx.state(model, nnx.Param))
    kernels = sum(int(w.size) for w in jax.tree.leaves(nnx.state(model, nnx.Param)) if w.ndim >= 2)
    assert original == 4 * sum(int(w.size) for w in jax.tree.leaves(nnx.state(model, nnx.Param)))
    assert compress.stored_bytes(stored) == original - 3 * kernels + 4 * (32 + 64 + 64 + 10)
    x = jax.random.uniform(key, (4, 28, 28, 1))
    np.testing.assert_allclose(quantized_model(x), model(x), atol=0.05)
    assert bool(jnp.all(model.conv1.kernel[...] == nnx.state(model, nnx.Param)["conv1"]["kernel"][...]))


def test_dequantize_state_inverts_quantize_state_up_to_rounding():
    _, params, _ = nnx.split(SeedCNN(rngs=nnx.Rngs(1)), nnx.Param, ...)
    back = compress.dequantize_state(compress.quantize_state(params))
    for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(back), strict=True):
        assert a.shape == b.shape and b.dtype == jnp.float32
        assert float(jnp.abs(a - b).max()) <= float(jnp.abs(a).max()) / 127 / 2 + 1e-7


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="floating-point"):
        compress.quantize_per_channel(jnp.zeros((2, 2), jnp.int32))
