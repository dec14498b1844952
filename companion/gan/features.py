"""Features for "FID with a LeNet-style network": a ``companion.nn.LeNet5`` trained on the data.

:func:`train_feature_classifier` trains the classifier with ``companion.train.fit``;
:func:`extract_features` returns its penultimate activations (84 per image), the features that
:func:`companion.gan.fid` compares. These distances compare models on one data set; they are not
comparable with FID computed with Inception-v3 features.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from companion.nn import LeNet5, max_pool
from companion.train import History, batch_to_float, fit
from companion.train.model_state import split_model

DEFAULT_LEARNING_RATE = 1e-3
DEFAULT_BATCH_SIZE = 128
EXTRACT_BATCH_SIZE = 500
POOL = 2


def train_feature_classifier(
    key: jax.Array, data, *, epochs: int, batch_size: int = DEFAULT_BATCH_SIZE,
    learning_rate: float = DEFAULT_LEARNING_RATE, eval=None, progress: bool = False,
) -> tuple[LeNet5, History]:
    """Train a LeNet-5 on ``data`` with ``companion.train.fit``.

    Args:
        key: a ``jax.random.key``; initialisation and shuffling derive from it.
        data: a ``companion.data.Dataset`` (28 x 28 images) or an ``(images, labels)`` pair.
        epochs: training epochs.
        batch_size: examples per step.
        learning_rate: Adam's learning rate.
        eval: optional held-out data, evaluated after every epoch.
        progress: show fit's progress bar.

    Returns:
        ``(model, history)``: the trained :class:`companion.nn.LeNet5` and fit's History.

    Example:
        >>> x, y = np.zeros((64, 28, 28, 1), np.float32), np.zeros(64, np.int32)
        >>> model, history = train_feature_classifier(jax.random.key(0), (x, y), epochs=1)
    """
    init_key, fit_key = jax.random.split(key)
    images = data.images if hasattr(data, "images") else data[0]
    labels = data.labels if hasattr(data, "labels") else data[1]
    num_classes = int(np.max(np.asarray(labels))) + 1
    if hasattr(data, "classes"):
        num_classes = len(data.classes)
    seed = int(jax.random.randint(init_key, (), 0, np.iinfo(np.int32).max))
    model = LeNet5(num_classes, in_channels=int(np.shape(images)[-1]), image_size=int(np.shape(images)[1]),
                   rngs=nnx.Rngs(seed))
    history = fit(model, data, epochs=epochs, batch_size=batch_size, optimizer=optax.adam(learning_rate),
                  key=fit_key, eval=eval, progress=progress)
    return model, history


def lenet_features(model: LeNet5, x: jax.Array) -> jax.Array:
    """Penultimate activations of a LeNet-5 (after the second dense layer and its ReLU).

    Args:
        model: a :class:`companion.nn.LeNet5`.
        x: images ``(N, H, W, C)``, float32 in [0, 1].

    Returns:
        Features of shape ``(N, 84)``.

    Example:
        >>> lenet_features(LeNet5(rngs=nnx.Rngs(0)), jnp.zeros((2, 28, 28, 1))).shape
        (2, 84)
    """
    h = max_pool(jax.nn.relu(model.conv1(x)), POOL)
    h = max_pool(jax.nn.relu(model.conv2(h)), POOL)
    h = jax.nn.relu(model.dense1(h.reshape(h.shape[0], -1)))
    return jax.nn.relu(model.dense2(h))


def extract_features(model: LeNet5, images, *, batch_size: int = EXTRACT_BATCH_SIZE) -> np.ndarray:
    """Features of ``images`` for FID, computed batch by batch with one compiled function.

    Args:
        model: a trained :class:`companion.nn.LeNet5`.
        images: ``(N, H, W, C)``: ``uint8`` pixels, or float32 in [0, 1].
        batch_size: images per batch.

    Returns:
        float32 NumPy array of shape ``(N, 84)``.

    Example:
        >>> extract_features(LeNet5(rngs=nnx.Rngs(0)), np.zeros((3, 28, 28, 1), np.uint8)).shape
        (3, 84)
    """
    images = jnp.asarray(images)
    if images.ndim != 4 or images.shape[-1] != model.in_channels:
        raise ValueError(
            f"images must have shape (N, H, W, {model.in_channels}); got shape {tuple(images.shape)}"
        )
    graphdef, params, rest = split_model(model, training=False)

    @jax.jit
    def run(params, rest, batch):
        return lenet_features(nnx.merge(graphdef, params, rest), batch_to_float(batch))

    count = images.shape[0]
    batch_size = min(batch_size, count)
    out = []
    for start in range(0, count, batch_size):
        batch = images[start : start + batch_size]
        pad = batch_size - batch.shape[0]
        if pad:  # one compiled shape
            batch = jnp.concatenate([batch, jnp.repeat(batch[-1:], pad, axis=0)])
        out.append(np.asarray(run(params, rest, batch))[: batch_size - pad])
    return np.concatenate(out)
