"""Pretrained weights in torchvision/timm naming: reading and writing ``.safetensors`` files.

A PyTorch state dict names each tensor by its module path (``layer1.0.conv1.weight``) and stores
convolution kernels as ``(C_out, C_in, kh, kw)`` (OIHW) and dense kernels as ``(out, in)``. An NNX
model built with the same attribute names (see :mod:`companion.transfer.resnet`) holds the same
tensors as HWIO ``(kh, kw, C_in, C_out)`` and ``(in, out)``. This module translates between the
two, one tensor to one tensor:

=====================  ===========================  ==========================
NNX variable           PyTorch key                  conversion
=====================  ===========================  ==========================
``<m>.kernel`` (4-D)   ``<m>.weight``               OIHW -> HWIO
``<m>.kernel`` (2-D)   ``<m>.weight``               transpose
``<m>.scale``          ``<m>.weight`` (BatchNorm)   none
``<m>.bias``           ``<m>.bias``                 none
``<m>.mean``           ``<m>.running_mean``         none
``<m>.var``            ``<m>.running_var``          none
=====================  ===========================  ==========================

PyTorch's ``num_batches_tracked`` counters carry no weights and are ignored. Files are read with
``safetensors``, which stores raw tensors and a JSON header: loading one never runs code, unlike
PyTorch's pickled ``.pth`` files, which this package never opens.
"""

from __future__ import annotations

import os
import pathlib

import jax.numpy as jnp
import numpy as np
from flax import nnx

__all__ = ["WeightsMismatchError", "load_pretrained", "save_pretrained", "torch_name", "torch_state_dict"]

IGNORED_SUFFIXES = ("num_batches_tracked",)
HEAD = "fc"
_RENAMES = {"kernel": "weight", "scale": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}
_CONV_RANK, _DENSE_RANK = 4, 2
_OIHW_TO_HWIO, _HWIO_TO_OIHW = (2, 3, 1, 0), (3, 2, 0, 1)
_MAX_LISTED = 20


class WeightsMismatchError(ValueError):
    """A weights file does not fit a model; the message lists every unknown, missing and mis-shaped key.

    Attributes:
        unknown: keys in the file that the model has no place for.
        missing: keys the model needs that the file lacks.
        mis_shaped: ``(key, shape in file, shape expected)`` triples, in PyTorch layout.

    Example:
        >>> error = WeightsMismatchError("w.safetensors", unknown=["x.weight"], missing=[], mis_shaped=[])
        >>> error.unknown
        ['x.weight']
    """

    def __init__(self, path, *, unknown, missing, mis_shaped) -> None:
        self.unknown, self.missing, self.mis_shaped = list(unknown), list(missing), list(mis_shaped)
        lines = [f"the weights in {pathlib.Path(path).name} do not fit the model:"]
        for title, items in (
            ("unknown keys (in the file, not in the model)", self.unknown),
            ("missing keys (in the model, not in the file)", self.missing),
            ("mis-shaped keys (file shape vs model shape, PyTorch layout)",
             [f"{k}: {tuple(got)} vs {tuple(want)}" for k, got, want in self.mis_shaped]),
        ):
            if items:
                shown = items[:_MAX_LISTED]
                more = f"\n    ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
                lines.append(f"  {len(items)} {title}:\n    " + "\n    ".join(shown) + more)
        super().__init__("\n".join(lines))


def torch_name(path: tuple) -> str:
    """The PyTorch state-dict key of the NNX variable at ``path``.

    Args:
        path: an NNX path such as ``("layer1", 0, "conv1", "kernel")``.

    Returns:
        The key, e.g. ``"layer1.0.conv1.weight"``.

    Example:
        >>> torch_name(("layer1", 0, "downsample", 1, "mean"))
        'layer1.0.downsample.1.running_mean'
    """
    *prefix, leaf = (str(part) for part in path)
    if leaf not in _RENAMES:
        raise ValueError(f"no PyTorch name for the NNX variable {'.'.join(map(str, path))!r}")
    return ".".join([*prefix, _RENAMES[leaf]])


def _to_torch(array: np.ndarray) -> np.ndarray:
    if array.ndim == _CONV_RANK:
        return np.transpose(array, _HWIO_TO_OIHW)
    if array.ndim == _DENSE_RANK:
        return array.T
    return array


def _from_torch(array: np.ndarray) -> np.ndarray:
    if array.ndim == _CONV_RANK:
        return np.transpose(array, _OIHW_TO_HWIO)
    if array.ndim == _DENSE_RANK:
        return array.T
    return array


def _variables(model: nnx.Module) -> dict[str, nnx.Variable]:
    state = nnx.state(model, nnx.Any(nnx.Param, nnx.BatchStat))
    return {torch_name(path): variable for path, variable in nnx.to_flat_state(state)}


def torch_state_dict(model: nnx.Module) -> dict[str, np.ndarray]:
    """The model's parameters and BatchNorm statistics as a PyTorch state dict of NumPy arrays.

    Args:
        model: an NNX model with torchvision-style names (e.g. :func:`resnet18`).

    Returns:
        ``{key: array}`` in PyTorch layout (OIHW convolutions, ``(out, in)`` dense kernels).

    Example:
        >>> from companion.transfer import resnet18
        >>> torch_state_dict(resnet18(10, rngs=nnx.Rngs(0)))["conv1.weight"].shape
        (64, 3, 7, 7)
    """
    return {name: np.ascontiguousarray(_to_torch(np.asarray(v[...]))) for name, v in _variables(model).items()}


def save_pretrained(model: nnx.Module, path: str | os.PathLike) -> pathlib.Path:
    """Write the model's weights to a ``.safetensors`` file in torchvision naming and layout.

    A file written here loads into PyTorch with ``model.load_state_dict(load_file(path),
    strict=False)`` (only ``num_batches_tracked`` is absent) and back into NNX with
    :func:`load_pretrained`.

    Args:
        model: an NNX model with torchvision-style names.
        path: the file to write.

    Returns:
        ``path`` as a path.

    Example:
        >>> from companion.transfer import resnet18
        >>> save_pretrained(resnet18(10, width=8, rngs=nnx.Rngs(0)), "r18.safetensors")  # doctest: +SKIP
    """
    from safetensors.numpy import save_file

    path = pathlib.Path(path)
    save_file(torch_state_dict(model), str(path))
    return path


def _head_matches(name: str) -> bool:
    return name.split(".")[0] == HEAD


def load_pretrained(model: nnx.Module, path: str | os.PathLike, *, head: bool | None = None,
                    strict_dtype: bool = False) -> nnx.Module:
    """Load a ``.safetensors`` state dict in torchvision/timm naming into ``model``, in place.

    Convolution kernels go from OIHW to HWIO and dense kernels are transposed; BatchNorm's
    ``weight``, ``bias``, ``running_mean`` and ``running_var`` become ``scale``, ``bias``,
    ``mean`` and ``var``. Nothing is changed unless every key fits: otherwise one
    :class:`WeightsMismatchError` lists all unknown, missing and mis-shaped keys.

    Args:
        model: an NNX model with torchvision-style names, e.g. ``resnet18(num_classes, rngs=...)``.
        path: a ``.safetensors`` file (never a pickled ``.pth``).
        head: load the classifier ``fc``? ``None`` (default) loads it when its shape matches and
            keeps the model's freshly initialised head when the file's has a different number
            of classes (e.g. ImageNet's 1000 for a 10-class model); ``False`` always keeps the
            model's head; ``True`` requires it to match.
        strict_dtype: refuse tensors whose dtype differs from the model's instead of casting.

    Returns:
        ``model``, with its weights replaced.

    Raises:
        WeightsMismatchError: unknown, missing or mis-shaped keys (a ``ValueError``).
        TypeError: a dtype differs and ``strict_dtype`` is set.
        ValueError: ``path`` is not a ``.safetensors`` file.

    Example:
        >>> from companion.transfer import resnet18
        >>> model = load_pretrained(resnet18(10, rngs=nnx.Rngs(0)), "resnet18.safetensors")  # doctest: +SKIP
    """
    from safetensors.numpy import load_file

    path = pathlib.Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(
            f"path must be a .safetensors file (pickled .pth/.bin files are never opened); got {path.name!r}"
        )
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    tensors = {k: v for k, v in load_file(str(path)).items() if not k.endswith(IGNORED_SUFFIXES)}
    variables = _variables(model)
    expected = {name: _to_torch_shape(v[...].shape) for name, v in variables.items()}
    unknown = sorted(set(tensors) - set(expected))
    missing = sorted(set(expected) - set(tensors))
    mis_shaped = [(k, tensors[k].shape, expected[k]) for k in sorted(set(tensors) & set(expected))
                  if tuple(tensors[k].shape) != tuple(expected[k])]
    load_head = _decide_head(head, tensors, expected)
    if not load_head:
        unknown = [k for k in unknown if not _head_matches(k)]
        missing = [k for k in missing if not _head_matches(k)]
        mis_shaped = [m for m in mis_shaped if not _head_matches(m[0])]
    if unknown or missing or mis_shaped:
        raise WeightsMismatchError(path, unknown=unknown, missing=missing, mis_shaped=mis_shaped)
    updates = {}
    for name, variable in variables.items():
        if not load_head and _head_matches(name):
            continue
        array = tensors[name]
        target = variable[...].dtype
        if array.dtype != target:
            if strict_dtype:
                raise TypeError(f"{name}: the file holds {array.dtype}, the model expects {target}")
            array = array.astype(target)
        updates[name] = np.ascontiguousarray(_from_torch(array))
    for name, array in updates.items():  # only after every key was checked
        variables[name][...] = jnp.asarray(array)
    return model


def _to_torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) == _CONV_RANK:
        return tuple(shape[i] for i in _HWIO_TO_OIHW)
    if len(shape) == _DENSE_RANK:
        return tuple(reversed(shape))
    return tuple(shape)


def _decide_head(head: bool | None, tensors, expected) -> bool:
    if head is not None:
        return head
    weight = f"{HEAD}.weight"
    if weight not in tensors or weight not in expected:
        return True  # let the missing/unknown report say what is wrong
    file_out, file_in = tensors[weight].shape
    model_out, model_in = expected[weight]
    # Drop the head only when the class count alone differs; other head mismatches are reported.
    return not (file_out != model_out and file_in == model_in)
