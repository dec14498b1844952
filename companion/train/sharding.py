"""Data parallelism for ``fit``: a 1-D device mesh, batches split across it, parameters replicated.

JAX does the distributed work: the compiled training loop sees replicated parameters and a batch
constrained to ``NamedSharding(mesh, P("data"))``, and XLA's SPMD partitioner splits the forward
and backward passes by rows and inserts the all-reduce of the gradients (and of BatchNorm's batch
statistics, so they equal single-device statistics). The same code runs on one device, several
local GPUs, a TPU's cores, or several hosts after ``jax.distributed.initialize()``.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def data_mesh(devices=None) -> Mesh:
    """A 1-D mesh whose single axis, ``"data"``, runs over ``devices``.

    Args:
        devices: the devices to use; all of ``jax.devices()`` (every host's) by default.

    Returns:
        A ``jax.sharding.Mesh`` of shape ``(len(devices),)``.

    Example:
        >>> mesh = data_mesh()
        >>> mesh.axis_names
        ('data',)
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("devices must hold at least one device; got an empty list")
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def resolve_mesh(mesh: Mesh | None) -> Mesh | None:
    """The mesh ``fit`` trains on: ``mesh`` itself, a data mesh over all devices, or ``None``.

    Args:
        mesh: a ``jax.sharding.Mesh`` that is 1-D or has a ``"data"`` axis, or ``None`` to use
            every device when there is more than one.

    Returns:
        A mesh, or ``None`` when training on a single device without sharding.

    Raises:
        TypeError: ``mesh`` is not a ``jax.sharding.Mesh``.
        ValueError: a mesh with several axes and none named ``"data"``.

    Example:
        >>> resolve_mesh(None) is None or resolve_mesh(None).axis_names == ("data",)
        True
    """
    if mesh is None:
        return data_mesh() if jax.device_count() > 1 else None
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh (e.g. companion.train.data_mesh()) or None; "
                        f"got {type(mesh).__name__}")
    batch_axis(mesh)
    return mesh


def batch_axis(mesh: Mesh) -> str:
    """The name of the mesh axis that batches are split over.

    Args:
        mesh: a 1-D mesh, or one with an axis named ``"data"``.

    Returns:
        ``"data"`` when present, else the single axis's name.

    Example:
        >>> batch_axis(data_mesh())
        'data'
    """
    if DATA_AXIS in mesh.axis_names:
        return DATA_AXIS
    if len(mesh.axis_names) == 1:
        return mesh.axis_names[0]
    raise ValueError(f"mesh must be 1-D or have an axis named {DATA_AXIS!r}; got axes {mesh.axis_names}")


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Split the leading (batch) dimension over the mesh's data axis; replicate the rest.

    Args:
        mesh: see :func:`batch_axis`.

    Returns:
        ``NamedSharding(mesh, P(axis))``.

    Example:
        >>> batch_sharding(data_mesh()).spec
        PartitionSpec('data',)
    """
    return NamedSharding(mesh, PartitionSpec(batch_axis(mesh)))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Put every array of ``tree`` on every device of ``mesh`` (a full copy on each).

    Args:
        tree: a pytree of arrays (parameters, optimizer state, keys, scalars).
        mesh: the mesh.

    Returns:
        The same tree, with arrays sharded as ``NamedSharding(mesh, P())``.

    Example:
        >>> replicate(np.zeros(3), data_mesh()).sharding.is_fully_replicated
        True
    """
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def devices_along_batch(mesh: Mesh) -> int:
    """How many ways a batch is split: the size of the mesh's data axis.

    Args:
        mesh: see :func:`batch_axis`.

    Returns:
        The axis size.

    Example:
        >>> devices_along_batch(data_mesh()) == jax.device_count()
        True
    """
    return int(mesh.shape[batch_axis(mesh)])


def check_divisible(batch_size: int, mesh: Mesh, *, name: str = "batch_size") -> None:
    """Raise a clear error when a global batch cannot be split evenly over the mesh.

    Args:
        batch_size: the global batch size.
        mesh: see :func:`batch_axis`.
        name: the argument's name in the message.

    Raises:
        ValueError: ``batch_size`` is not a multiple of the number of devices along the data axis.

    Example:
        >>> check_divisible(128, data_mesh())  # doctest: +SKIP
    """
    ways = devices_along_batch(mesh)
    if batch_size % ways:
        lower, upper = batch_size // ways * ways, -(-batch_size // ways) * ways
        suggestion = f"{lower} or {upper}" if lower else f"{upper}"
        raise ValueError(
            f"{name} must be a multiple of the {ways} devices along the mesh's "
            f"{batch_axis(mesh)!r} axis so every device gets the same number of examples; got "
            f"{batch_size} (try {suggestion})"
        )
