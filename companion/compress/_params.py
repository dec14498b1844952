"""Walking a model's parameters by name; shared by quantisation and pruning."""

from __future__ import annotations

import jax

MATRIX_RANK = 2  # kernels of dense and conv layers have at least two axes; biases have one


def path_name(path) -> str:
    parts = []
    for entry in path:
        name = getattr(entry, "key", getattr(entry, "name", getattr(entry, "idx", None)))
        if name != "value":
            parts.append(str(name))
    return ".".join(parts)


def is_kernel(value: jax.Array) -> bool:
    return value.ndim >= MATRIX_RANK
