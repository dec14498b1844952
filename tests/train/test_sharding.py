"""Data parallelism: a sharded fit on 8 simulated CPU devices matches one device; clear errors."""

import json
import os
import pathlib
import subprocess
import sys

import jax
import numpy as np
import optax
import pytest
from conftest import TinyNet, tiny_data
from flax import nnx
from jax.sharding import Mesh

from companion.train import data_mesh, fit
from companion.train.sharding import batch_sharding, check_divisible, resolve_mesh

HERE = pathlib.Path(__file__).parent
SIMULATED_DEVICES = 8


@pytest.fixture(scope="module")
def multidevice():
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} "
                        f"--xla_force_host_platform_device_count={SIMULATED_DEVICES}"}
    done = subprocess.run([sys.executable, str(HERE / "multidevice_run.py")], cwd=HERE, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_subprocess_sees_eight_devices(multidevice):
    assert multidevice["devices"] == SIMULATED_DEVICES


@pytest.mark.parametrize("run", ["sharded_auto", "sharded_mesh"])
def test_sharded_fit_matches_one_device(multidevice, run):
    single, sharded = multidevice["single"], multidevice[run]
    for name in ("train_loss", "eval_loss", "eval_accuracy"):
        np.testing.assert_allclose(sharded[name], single[name], rtol=1e-4, atol=1e-5, err_msg=name)
    for ours, reference in zip(sharded["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-3, atol=1e-4)
    assert sharded["after_fit_accuracy"] == pytest.approx(single["after_fit_accuracy"])
    assert single["train_loss"][-1] < single["train_loss"][0]  # it trained, so equality means something


def test_indivisible_global_batch_is_a_clear_error(multidevice):
    message = multidevice["indivisible_error"]
    assert message is not None and "batch_size must be a multiple of the 8 devices" in message
    assert "got 12" in message and "8 or 16" in message


def test_one_device_mesh_equals_no_mesh():
    train = tiny_data(64)
    runs = []
    for mesh in (None, data_mesh(jax.devices()[:1])):
        model = TinyNet(rngs=nnx.Rngs(0))
        history = fit(model, train, epochs=2, batch_size=16, optimizer=optax.adam(1e-2),
                      key=jax.random.key(0), progress=False, mesh=mesh)
        runs.append(history.train_loss)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-6)


def test_bad_meshes_are_clear_errors():
    with pytest.raises(TypeError, match=r"mesh must be a jax\.sharding\.Mesh"):
        resolve_mesh("data")
    two_axes = Mesh(np.asarray(jax.devices()[:1]).reshape(1, 1), ("rows", "cols"))
    with pytest.raises(ValueError, match="axis named 'data'"):
        batch_sharding(two_axes)
    check_divisible(5, data_mesh(jax.devices()[:1]))  # one device divides everything
    with pytest.raises(ValueError, match="devices must hold at least one device"):
        data_mesh([])
