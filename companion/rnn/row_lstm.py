"""An LSTM that reads an image row by row, as a sequence of ``H`` vectors of ``W * C`` pixels.

The LSTM cell (Hochreiter and Schmidhuber, 1997) updates a cell state :math:`c_t` and an
output :math:`h_t` from the row :math:`x_t`:

.. math::

    i, f, o = \\sigma(W_{i,f,o} x_t + U_{i,f,o} h_{t-1} + b_{i,f,o}), \\quad
    g = \\tanh(W_g x_t + U_g h_{t-1} + b_g),

.. math::

    c_t = f \\odot c_{t-1} + i \\odot g, \\qquad h_t = o \\odot \\tanh(c_t).

After the last row, a dense layer maps :math:`h_H` to the class logits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

DEFAULT_HIDDEN = 128
MNIST_SIDE = 28


class RowLSTM(nnx.Module):
    """Classify ``(N, H, W, C)`` images by running ``nnx.LSTMCell`` over their rows.

    The rows are scanned with ``jax.lax.scan`` from a zero state. (``nnx.RNN`` would do the same
    with ``nnx.scan``, but an NNX transform cannot run inside the plain JAX loops of
    ``companion.train.evaluate``, so the model uses the JAX primitive directly.)

    Args:
        num_classes: number of output logits.
        in_channels: image channels ``C``.
        image_size: ``W``, the width of a row (images are square in the book).
        hidden: size of the LSTM state.
        rngs: random streams for the initialisation.

    Example:
        >>> RowLSTM(rngs=nnx.Rngs(0))(jnp.zeros((2, 28, 28, 1))).shape
        (2, 10)
    """

    def __init__(
        self, num_classes: int = 10, *, in_channels: int = 1, image_size: int = MNIST_SIDE,
        hidden: int = DEFAULT_HIDDEN, rngs: nnx.Rngs,
    ) -> None:
        self.num_classes, self.in_channels, self.image_size = num_classes, in_channels, image_size
        self.row_features = image_size * in_channels
        self.hidden = hidden
        self.cell = nnx.LSTMCell(self.row_features, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Map images ``(N, H, W, C)`` (float32 in [0, 1]) to logits ``(N, num_classes)``."""
        if x.ndim != 4 or x.shape[2] * x.shape[3] != self.row_features:
            raise ValueError(
                f"RowLSTM expects x of shape (N, H, {self.image_size}, {self.in_channels}); got shape {tuple(x.shape)}"
            )
        rows = jnp.swapaxes(x.reshape(x.shape[0], x.shape[1], self.row_features), 0, 1)  # (H, N, W * C)
        zeros = jnp.zeros((x.shape[0], self.hidden), jnp.float32)

        def step(carry, row):
            carry, _ = self.cell(carry, row)
            return carry, None

        (_, last), _ = jax.lax.scan(step, (zeros, zeros), rows)
        return self.out(last)
