"""Saving and restoring pytrees of arrays with orbax: one folder per checkpoint.

Typed PRNG keys (``jax.random.key``), which NNX keeps for dropout, are stored as their raw
``uint32`` key data and rewrapped on restore, so any model state round-trips exactly.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

LEAF_FORMAT = "leaf_{:05d}"


def _is_key(leaf: Any) -> bool:
    return isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _to_storable(tree: Any) -> dict[str, Any]:
    leaves = jax.tree.leaves(tree)
    return {
        LEAF_FORMAT.format(i): (jax.random.key_data(leaf) if _is_key(leaf) else leaf)
        for i, leaf in enumerate(leaves)
    }


def save_checkpoint(path: str | os.PathLike, tree: Any, *, metadata: dict | None = None) -> None:
    """Write ``tree`` (a pytree of arrays) to the folder ``path``, replacing what was there.

    Orbax writes into a temporary folder and renames it, so a crash leaves the previous complete
    checkpoint or none. ``metadata`` is written next to it as ``<path>.json`` afterwards (write
    then rename), so its presence means the arrays are complete.

    Args:
        path: the checkpoint folder.
        tree: the arrays (any pytree; its structure is not stored, restore needs a template).
        metadata: JSON-serialisable extras (epoch, history, ...).

    Example:
        >>> save_checkpoint("/tmp/ckpt/last", {"w": jnp.ones(3)}, metadata={"epoch": 1})  # doctest: +SKIP
    """
    path = pathlib.Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    meta_path = path.with_name(path.name + ".json")
    meta_path.unlink(missing_ok=True)
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(path, _to_storable(tree), force=True)
        checkpointer.wait_until_finished()
    temporary = meta_path.with_name(meta_path.name + ".tmp")
    temporary.write_text(json.dumps(metadata or {}))
    temporary.replace(meta_path)


def checkpoint_exists(path: str | os.PathLike) -> bool:
    """Whether a complete checkpoint (arrays and metadata) is at ``path``.

    Args:
        path: the checkpoint folder.

    Returns:
        ``True`` when both the folder and ``<path>.json`` exist.

    Example:
        >>> checkpoint_exists("/nonexistent/last")
        False
    """
    path = pathlib.Path(path).absolute()
    return path.is_dir() and path.with_name(path.name + ".json").is_file()


def restore_checkpoint(path: str | os.PathLike, like: Any) -> tuple[Any, dict]:
    """Read a checkpoint written by :func:`save_checkpoint` into the structure of ``like``.

    Args:
        path: the checkpoint folder.
        like: a pytree with the same structure, shapes and dtypes as the saved one (e.g. the
            freshly initialised state); its values are not used.

    Returns:
        ``(tree, metadata)``.

    Example:
        >>> tree, meta = restore_checkpoint("/tmp/ckpt/last", {"w": jnp.zeros(3)})  # doctest: +SKIP
    """
    path = pathlib.Path(path).absolute()
    if not checkpoint_exists(path):
        raise FileNotFoundError(f"no complete checkpoint at {path}")
    leaves, treedef = jax.tree.flatten(like)
    target = {
        LEAF_FORMAT.format(i): (
            jax.ShapeDtypeStruct(jax.random.key_data(leaf).shape, np.uint32)
            if _is_key(leaf) else jax.ShapeDtypeStruct(np.shape(leaf), jax.numpy.result_type(leaf))
        )
        for i, leaf in enumerate(leaves)
    }
    with ocp.StandardCheckpointer() as checkpointer:
        stored = checkpointer.restore(path, target)
    restored = [
        jax.random.wrap_key_data(stored[LEAF_FORMAT.format(i)], impl=jax.random.key_impl(leaf))
        if _is_key(leaf) else stored[LEAF_FORMAT.format(i)]
        for i, leaf in enumerate(leaves)
    ]
    metadata = json.loads(path.with_name(path.name + ".json").read_text())
    return jax.tree.unflatten(treedef, restored), metadata
