"""Export to StableHLO bytes and reload: same outputs, any batch size, evaluation mode."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from companion import compress
from companion.nn import BatchNormCNN, SeedCNN
from companion.train.model_state import split_model


def test_round_trip_matches_the_model_for_several_batch_sizes(key):
    model = SeedCNN(rngs=nnx.Rngs(0))
    blob = compress.export_model(model, input_shape=(28, 28, 1))
    assert isinstance(blob, bytes) and len(blob) > 0
    run = compress.load_exported(blob)
    for batch in (1, 5):
        x = jax.random.uniform(jax.random.fold_in(key, batch), (batch, 28, 28, 1))
        np.testing.assert_allclose(run(x), model(x), rtol=1e-5, atol=1e-5)


def test_batchnorm_model_is_exported_in_evaluation_mode(key):
    model = BatchNormCNN(rngs=nnx.Rngs(0))
    x = jax.random.uniform(key, (3, 28, 28, 1))
    graphdef, params, rest = split_model(model, training=False)
    expected = nnx.merge(graphdef, params, rest)(x)
    run = compress.load_exported(compress.export_model(model, input_shape=(28, 28, 1)))
    np.testing.assert_allclose(run(x), expected, rtol=1e-5, atol=1e-5)


def test_stablehlo_text_and_bad_input():
    model = SeedCNN(rngs=nnx.Rngs(0))
    assert "stablehlo" in compress.stablehlo_text(model, input_shape=(28, 28, 1))
    with pytest.raises(ValueError, match="input_shape"):
        compress.export_model(model, input_shape=(28, -1))
    with pytest.raises(TypeError, match="bytes"):
        compress.load_exported("not bytes")
    with pytest.raises(ValueError):  # the exported shape is enforced
        compress.load_exported(compress.export_model(model, input_shape=(28, 28, 1)))(jnp.zeros((1, 27, 28, 1)))
