"""Run fit on one device and sharded over all devices; print the results as one JSON line.

Started by test_sharding.py in a subprocess whose XLA_FLAGS simulate 8 CPU devices (the device
count is fixed when JAX starts, so it cannot change inside the test process).
"""

import json
import sys

import jax
import numpy as np
import optax
from conftest import TinyNet, tiny_data
from flax import nnx

from companion.train import data_mesh, evaluate, fit

BATCH = 32


def run(mesh, *, eval_data, train, augment=None):
    model = TinyNet(rngs=nnx.Rngs(0))
    # SGD, not Adam: the conv bias before BatchNorm has a gradient that is zero up to rounding,
    # and Adam would scale that rounding noise up to full-size steps that differ between layouts.
    history = fit(model, train, epochs=3, batch_size=BATCH, optimizer=optax.sgd(0.1, momentum=0.9),
                  key=jax.random.key(7), eval=eval_data, progress=False, mesh=mesh, augment=augment,
                  eval_batch_size=20)
    weights = [np.asarray(x).tolist() for x in jax.tree.leaves(nnx.state(model, nnx.Param))]
    return {"train_loss": history.train_loss, "eval_loss": history.eval_loss,
            "eval_accuracy": history.eval_accuracy, "weights": weights,
            "after_fit_accuracy": evaluate(model, eval_data)["accuracy"]}


def flip(key, batch):
    return jax.numpy.where(jax.random.bernoulli(key, 0.5, (batch.shape[0], 1, 1, 1)), batch[:, :, ::-1], batch)


def main() -> None:
    train, eval_data = tiny_data(160), tiny_data(50, seed=1)  # 50: no multiple of 8
    one_device = data_mesh(jax.devices()[:1])
    results = {
        "devices": jax.device_count(),
        "single": run(one_device, eval_data=eval_data, train=train, augment=flip),
        "sharded_auto": run(None, eval_data=eval_data, train=train, augment=flip),
        "sharded_mesh": run(data_mesh(), eval_data=eval_data, train=train, augment=flip),
    }
    try:
        fit(TinyNet(rngs=nnx.Rngs(0)), train, epochs=1, batch_size=12, optimizer=optax.sgd(0.1),
            key=jax.random.key(0), progress=False)
        results["indivisible_error"] = None
    except ValueError as error:
        results["indivisible_error"] = str(error)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
