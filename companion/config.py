"""Run profiles: one notebook, three budgets.

Every notebook in the book runs under one of three profiles:

* ``"quick"``: continuous integration; each notebook finishes in about a minute on 2 CPU cores.
* ``"cpu"``: what the committed outputs show; results worth reading within about 15 minutes.
* ``"gpu"``: full-strength schedules for readers on a GPU or TPU (e.g. Colab).

Sizes that cost time (epochs, subset sizes, image counts) are chosen with :func:`pick`.
"""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["PROFILES", "pick", "profile"]

T = TypeVar("T")

PROFILES = ("quick", "cpu", "gpu")
PROFILE_VARIABLE = "COMPANION_PROFILE"
_ACCELERATOR_BACKENDS = ("gpu", "cuda", "rocm", "tpu")


def _ci_is_set() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def profile() -> str:
    """Return the current run profile: ``"quick"``, ``"cpu"`` or ``"gpu"``.

    The first rule that applies wins:

    1. ``$COMPANION_PROFILE``, when set, names the profile.
    2. ``"quick"`` when the ``CI`` variable is set (to anything but ``0``/``false``).
    3. ``"gpu"`` when JAX's default backend is a GPU or TPU.
    4. ``"cpu"`` otherwise.

    Returns:
        The profile name.

    Raises:
        ValueError: ``$COMPANION_PROFILE`` holds something other than a profile name.

    Example:
        >>> import os
        >>> os.environ["COMPANION_PROFILE"] = "quick"
        >>> profile()
        'quick'
    """
    chosen = os.environ.get(PROFILE_VARIABLE, "").strip().lower()
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(
                f"{PROFILE_VARIABLE} must be one of {', '.join(PROFILES)}; got {chosen!r}"
            )
        return chosen
    if _ci_is_set():
        return "quick"
    import jax  # imported here so that reading the profile from the environment stays cheap

    return "gpu" if jax.default_backend().lower() in _ACCELERATOR_BACKENDS else "cpu"


def pick(*, quick: T, cpu: T, gpu: T) -> T:
    """Return the value given for the current :func:`profile`.

    Args:
        quick: value for continuous integration (seconds of work).
        cpu: value for a 2-core CPU run (minutes of work).
        gpu: value for a GPU or TPU run (full-strength schedule).

    Returns:
        One of ``quick``, ``cpu`` or ``gpu``.

    Example:
        >>> epochs = pick(quick=1, cpu=5, gpu=30)
    """
    return {"quick": quick, "cpu": cpu, "gpu": gpu}[profile()]
