"""BatchNormCNN: configurable stages, derived sizes, parameter counts, modes and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion.nn import BatchNormCNN, ConvBN
from companion.train import parameter_count

NUM_CLASSES = 10


def conv_bn_params(c_in: int, c_out: int) -> int:
    """3x3 kernel without bias, plus BatchNorm's scale and shift (running stats are not params)."""
    return 3 * 3 * c_in * c_out + 2 * c_out


def dense_params(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


@pytest.mark.parametrize(
    ("stages", "side", "final_side"),
    [(((4, 4), (8, 8)), 28, 7), (((4,), (8,), (16,)), 28, 3), (((4,), (8, 8)), 16, 4)],
)
def test_stages_set_shapes_and_parameter_counts(stages, side, final_side):
    model = BatchNormCNN(NUM_CLASSES, stages=stages, image_size=side, hidden=16, rngs=nnx.Rngs(0))
    widths = [w for stage in stages for w in stage]
    expected = sum(conv_bn_params(a, b) for a, b in zip([1, *widths[:-1]], widths, strict=True))
    flat = final_side * final_side * widths[-1]
    expected += dense_params(flat, 16) + dense_params(16, NUM_CLASSES)
    assert model.final_side == final_side and model.flat_features == flat
    assert parameter_count(model) == expected
    x = jnp.zeros((2, side, side, 1))
    features, logits = nnx.jit(lambda m, x: (m.features(x), m(x)))(model, x)  # one compilation
    assert features.shape == (2, final_side, final_side, widths[-1])
    assert logits.shape == (2, NUM_CLASSES)


def test_default_layout_is_unchanged():
    model = BatchNormCNN(rngs=nnx.Rngs(0))
    assert model.stages == ((32, 32), (64, 64))
    assert len(model.blocks) == 4 and all(isinstance(b, ConvBN) for b in model.blocks)
    assert model.flat_features == 7 * 7 * 64
    assert model.dense1.in_features == 7 * 7 * 64 and model.dense1.out_features == 128


def test_evaluation_mode_is_deterministic_and_batch_independent(key):
    model = BatchNormCNN(stages=((4,), (8,)), hidden=8, rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (4, 28, 28, 1))
    evaluation = nnx.view(model, deterministic=True, use_running_average=True)
    forward = nnx.jit(lambda m, x: m(x))
    full = forward(evaluation, x)
    np.testing.assert_allclose(forward(evaluation, x[:1]), full[:1], atol=1e-5)
    assert not np.array_equal(forward(model, x), forward(model, x))  # dropout in training mode


def test_gradients_are_finite(key):
    model = BatchNormCNN(stages=((4,), (8,)), hidden=8, rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (4, 28, 28, 1))

    def loss(m):
        return jnp.mean(m(x) ** 2)

    grads = nnx.jit(nnx.grad(loss))(model)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stages": ()}, "stages"),
        ({"stages": ((32,), ())}, "stages"),
        ({"stages": ((32, 0),)}, "stages"),
        ({"stages": 32}, "stages"),
        ({"hidden": 0}, "hidden"),
        ({"dropout": 0.5}, "dropout"),
        ({"stages": ((4,),) * 5, "image_size": 28}, "image_size .* does not fit"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchNormCNN(rngs=nnx.Rngs(0), **kwargs)
