"""Companion package of the open course on convolutional neural networks.

Submodules load on first use (``from companion import check`` or
``companion.formulas``), so ``import companion`` stays fast.
"""

import importlib
import pkgutil

__version__ = "0.1.0"

_SUBMODULES = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'companion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
