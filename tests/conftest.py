"""Shared fixtures: an explicit PRNG key and strict dtype promotion for every test."""

import jax
import pytest


@pytest.fixture(autouse=True)
def _strict_dtype_promotion():
    """Fail on implicit dtype promotion (e.g. float32 + float64 silently widening)."""
    with jax.numpy_dtype_promotion("strict"):
        yield


@pytest.fixture
def key() -> jax.Array:
    """A fixed PRNG key; tests derive more with ``jax.random.split``."""
    return jax.random.key(0)
