"""Input checks shared by the formula modules: clear errors before JAX traces anything."""

from __future__ import annotations

import operator

import jax
import jax.numpy as jnp
import numpy as np


def as_float_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None) -> jax.Array:
    """Return ``value`` as a floating JAX array; integers and booleans become ``float32``.

    Raises ``TypeError`` for non-numeric input and ``ValueError`` for a wrong number of axes,
    naming the argument, what was expected and what was given.
    """
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        try:
            value = np.asarray(value)
        except Exception as error:  # e.g. ragged lists
            kind = type(value).__name__
            raise TypeError(f"{name} must be an array of numbers; got {kind}") from error
        dtype = value.dtype
        if np.issubdtype(dtype, np.floating):
            value = value.astype(np.float32)  # Python floats: float32, the book's working dtype
            dtype = value.dtype
    if not (np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_)) or np.issubdtype(
        dtype, np.complexfloating
    ):
        raise TypeError(f"{name} must hold real numbers; got dtype {dtype}")
    array = jnp.asarray(value)
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.float32)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {wanted} axes; got shape {tuple(array.shape)}")
    return array


def as_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python ``int`` (not a float or bool), at least ``minimum``."""
    if isinstance(value, bool) or not (
        isinstance(value, (int, np.integer)) or getattr(value, "shape", None) == ()
    ):
        raise TypeError(f"{name} must be an integer; got {value!r} of type {type(value).__name__}")
    try:
        result = operator.index(value)
    except TypeError as error:
        raise TypeError(f"{name} must be an integer; got {value!r}") from error
    if minimum is not None and result < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {result}")
    return result


def as_pair(name: str, value, *, minimum: int) -> tuple[int, int]:
    """Return an int or a pair of ints as ``(vertical, horizontal)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints; got {value!r}")
        return as_int(f"{name}[0]", value[0], minimum=minimum), as_int(
            f"{name}[1]", value[1], minimum=minimum
        )
    single = as_int(name, value, minimum=minimum)
    return single, single
