"""Helpers that every notebook of the book shares: glueing numbers into the prose, and the stamp.

The book quotes numbers through myst-nb's ``glue``. On Colab, or wherever myst-nb is not
installed, :func:`glue` still shows the value, so a notebook runs top to bottom anywhere.
"""

from __future__ import annotations

import datetime
import platform
from importlib import metadata
from typing import Any

from companion import __version__
from companion.config import profile

__all__ = ["environment_stamp", "glue"]

STAMPED_PACKAGES = ("jax", "jaxlib", "flax", "optax")


def glue(name: str, value: Any, *, display: bool = True) -> None:
    """Store ``value`` under ``name`` for the book's ``{glue}`` roles and directives.

    Args:
        name: the key the prose refers to, e.g. ``{glue}`test_accuracy```.
        value: a number, string or matplotlib figure.
        display: also show the value in the notebook's output.

    Example:
        >>> glue("answer", 42, display=False)
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"glue name must be a non-empty string; got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # myst-nb is a book-build dependency only
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_stamp() -> str:
    """Describe what produced a notebook's outputs, for its last cell.

    Returns:
        One line with the companion, jax, jaxlib, flax and optax versions, the Python version,
        the JAX devices, the run profile and today's date (UTC).

    Example:
        >>> print(environment_stamp())  # doctest: +SKIP
        companion 0.1.0 | jax 0.10.2 | ... | profile cpu | 2026-11-21
    """
    import jax

    devices = jax.devices()
    device = f"{len(devices)} x {devices[0].device_kind}" if devices else "none"
    parts = [f"companion {__version__}"]
    parts += [f"{name} {_version(name)}" for name in STAMPED_PACKAGES]
    parts += [
        f"python {platform.python_version()}",
        f"device {jax.default_backend()} ({device})",
        f"profile {profile()}",
        datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    ]
    return " | ".join(parts)
