"""Recurrent networks on images: an LSTM that reads an image row by row.

Example:
    >>> import jax.numpy as jnp
    >>> from flax import nnx
    >>> from companion.rnn import RowLSTM
    >>> RowLSTM(rngs=nnx.Rngs(0))(jnp.zeros((1, 28, 28, 1))).shape
    (1, 10)
"""

from companion.rnn.row_lstm import RowLSTM

__all__ = ["RowLSTM"]
