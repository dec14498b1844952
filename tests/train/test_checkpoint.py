"""Checkpoints round-trip arrays and typed PRNG keys exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from companion.train import checkpoint_exists, restore_checkpoint, save_checkpoint


def test_checkpoint_round_trip(tmp_path, key):
    tree = {"w": jax.random.normal(key, (3, 2)), "step": jnp.int32(7), "rng": jax.random.key(3)}
    save_checkpoint(tmp_path / "last", tree, metadata={"epoch": 2})
    assert checkpoint_exists(tmp_path / "last")
    like = {"w": jnp.zeros((3, 2)), "step": jnp.int32(0), "rng": jax.random.key(0)}
    restored, meta = restore_checkpoint(tmp_path / "last", like)
    assert meta == {"epoch": 2}
    np.testing.assert_array_equal(restored["w"], tree["w"])
    assert int(restored["step"]) == 7
    np.testing.assert_array_equal(jax.random.key_data(restored["rng"]), jax.random.key_data(tree["rng"]))
    save_checkpoint(tmp_path / "last", {**tree, "step": jnp.int32(8)})  # overwrite in place
    assert int(restore_checkpoint(tmp_path / "last", like)[0]["step"]) == 8


def test_missing_checkpoint_is_reported(tmp_path):
    assert not checkpoint_exists(tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="no complete checkpoint"):
        restore_checkpoint(tmp_path / "none", {"w": jnp.zeros(1)})
