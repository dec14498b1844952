"""RowLSTM: shapes, parameter count, checks, and agreement with a hand-written LSTM loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.rnn import RowLSTM
from companion.train import parameter_count


def test_shapes_and_parameter_count():
    model = RowLSTM(rngs=nnx.Rngs(0), hidden=16)
    assert model(jnp.zeros((3, 28, 28, 1))).shape == (3, 10)
    # 4 gates: input kernel 28 x 16 (no bias), recurrent kernel 16 x 16 with bias; dense 16 x 10 + 10
    assert parameter_count(model) == 4 * (28 * 16 + 16 * 16 + 16) + 16 * 10 + 10


def test_matches_a_python_loop_over_rows(key):
    model = RowLSTM(3, image_size=5, hidden=4, rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (2, 6, 5, 1))
    cell = model.cell
    carry = cell.initialize_carry((2, 5), rngs=nnx.Rngs(0))  # zeros
    for t in range(6):
        carry, _ = cell(carry, x[:, t, :, 0])
    np.testing.assert_allclose(model(x), model.out(carry[1]), rtol=1e-5, atol=1e-6)


def test_bad_shape_is_named():
    with pytest.raises(ValueError, match=r"RowLSTM expects x of shape \(N, H, 28, 1\)"):
        RowLSTM(rngs=nnx.Rngs(0))(jnp.zeros((1, 28, 27, 1)))


def test_trains_and_evaluates_with_companion_train(key):
    import optax

    from companion.train import evaluate, fit

    model = RowLSTM(hidden=8, rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (32, 28, 28, 1))
    y = jnp.zeros(32, jnp.int32)
    fit(model, (x, y), epochs=1, batch_size=16, optimizer=optax.adam(1e-3), key=key, progress=False)
    assert 0.0 <= evaluate(model, (x, y))["accuracy"] <= 1.0
