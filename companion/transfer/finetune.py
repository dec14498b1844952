"""Fine-tuning helpers: parameter groups, a frozen backbone, discriminative learning rates,
gradual unfreezing and BatchNorm kept in inference mode.

Everything here produces an ordinary optax ``GradientTransformation`` built with
``optax.multi_transform``, so it plugs into :func:`companion.train.fit` (or any optax loop)
unchanged. Parameters are grouped by the first name of their NNX path; for a
:class:`~companion.transfer.ResNet` the groups, from input to output, are ``"stem"``
(``conv1`` and ``bn1``), ``"layer1"`` ... ``"layer4"`` and ``"fc"`` (the head).

A frozen group receives updates that are exactly zero, so its parameters stay bit-identical
during training; its BatchNorm running statistics still move in training mode unless
:func:`freeze_batchnorm` switches those layers to inference mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from companion.transfer.resnet import BatchNorm

__all__ = [
    "HEAD_GROUP",
    "STEM_GROUP",
    "discriminative",
    "freeze_backbone",
    "freeze_batchnorm",
    "gradual_unfreezing",
    "group_labels",
    "layer_decay_rates",
    "parameter_groups",
]

STEM_GROUP = "stem"
HEAD_GROUP = "fc"
_STEM_MEMBERS = ("conv1", "bn1")
_FROZEN = "__frozen__"


def _group_of(path: Sequence[Any]) -> str:
    first = path[0]
    name = str(getattr(first, "key", getattr(first, "name", first)))
    return STEM_GROUP if name in _STEM_MEMBERS else name


def group_labels(params: Any) -> Any:
    """Label every parameter with its group: ``"stem"``, ``"layer1"`` ... ``"fc"``.

    Args:
        params: a parameter pytree of an NNX model (``nnx.state(model, nnx.Param)``), as optax sees it.

    Returns:
        A pytree of group names with the structure of ``params`` (one label per variable).

    Example:
        >>> from companion.transfer import resnet18
        >>> labels = group_labels(nnx.state(resnet18(10, width=8, rngs=nnx.Rngs(0)), nnx.Param))
        >>> labels["layer2"][0]["conv1"]["kernel"]
        'layer2'
    """
    return jax.tree_util.tree_map_with_path(
        lambda path, _: _group_of(path), params, is_leaf=lambda x: isinstance(x, nnx.Variable)
    )


def parameter_groups(model: nnx.Module) -> tuple[str, ...]:
    """The model's parameter groups, in the order the input meets them (head last).

    Args:
        model: an NNX model, e.g. :func:`companion.transfer.resnet18`.

    Returns:
        Group names, e.g. ``("stem", "layer1", "layer2", "layer3", "layer4", "fc")``.

    Example:
        >>> from companion.transfer import resnet18
        >>> parameter_groups(resnet18(10, width=8, rngs=nnx.Rngs(0)))
        ('stem', 'layer1', 'layer2', 'layer3', 'layer4', 'fc')
    """
    groups: list[str] = []
    for path, _ in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        if (group := _group_of(path)) not in groups:
            groups.append(group)
    order = {name: i for i, name in enumerate(vars(model))}  # attribute definition order
    order[STEM_GROUP] = min(order.get(m, len(order)) for m in _STEM_MEMBERS)
    return tuple(sorted(groups, key=lambda g: order.get(g, len(order))))


def _labeller(assign: Callable[[str], str]) -> Callable[[Any], Any]:
    return lambda params: jax.tree.map(assign, group_labels(params))


def freeze_backbone(optimizer: optax.GradientTransformation, *,
                    trainable: Sequence[str] = (HEAD_GROUP,)) -> optax.GradientTransformation:
    """Train only the ``trainable`` groups with ``optimizer``; all others get exactly zero updates.

    With the default, only the head ``fc`` learns: a linear probe of the backbone's features
    (call :func:`freeze_batchnorm` too, so the backbone's BatchNorm statistics stay fixed).

    Args:
        optimizer: the optax transformation of the trainable groups.
        trainable: group names that learn (see :func:`parameter_groups`).

    Returns:
        An optax transformation for the whole model.

    Example:
        >>> tx = freeze_backbone(optax.adam(1e-3))
        >>> tx = freeze_backbone(optax.adam(1e-3), trainable=("layer4", "fc"))
    """
    if isinstance(trainable, str) or not trainable:
        raise ValueError(f"trainable must be a non-empty sequence of group names; got {trainable!r}")
    keep = frozenset(trainable)
    return optax.multi_transform(
        {"train": optimizer, _FROZEN: optax.set_to_zero()},
        _labeller(lambda group: "train" if group in keep else _FROZEN),
    )


def layer_decay_rates(groups: Sequence[str], *, learning_rate: float, decay: float) -> dict[str, float]:
    """Learning rates that shrink geometrically from the head towards the input.

    The last group gets ``learning_rate``, the one before it ``learning_rate * decay``, and so
    on: early layers, whose generic features transfer best, change least.

    Args:
        groups: group names from input to head (see :func:`parameter_groups`).
        learning_rate: the head's learning rate.
        decay: the factor per group, in (0, 1].

    Returns:
        ``{group: learning rate}``.

    Example:
        >>> layer_decay_rates(("stem", "layer1", "fc"), learning_rate=1e-2, decay=0.1)
        {'stem': 0.0001, 'layer1': 0.001, 'fc': 0.01}
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"decay must lie in (0, 1]; got {decay}")
    if learning_rate <= 0.0:
        raise ValueError(f"learning_rate must be > 0; got {learning_rate}")
    depth = len(groups) - 1
    return {group: learning_rate * decay ** (depth - i) for i, group in enumerate(groups)}


def discriminative(learning_rates: Mapping[str, float], *,
                   optimizer: Callable[[float], optax.GradientTransformation] = optax.adam,
                   default: float | None = None) -> optax.GradientTransformation:
    """Discriminative learning rates: one optimizer per parameter group, each with its own rate.

    Args:
        learning_rates: ``{group: learning rate}``, e.g. from :func:`layer_decay_rates`; a rate
            of 0 freezes the group exactly.
        optimizer: builds an optax transformation from a learning rate (``optax.adam``,
            ``lambda lr: optax.sgd(lr, momentum=0.9)``, ...).
        default: the rate of groups not named in ``learning_rates``; ``None`` makes an unnamed
            group an error when the optimizer is initialised.

    Returns:
        An optax transformation for the whole model.

    Example:
        >>> tx = discriminative({"stem": 1e-5, "layer1": 1e-4, "fc": 1e-3}, default=1e-4)
    """
    rates = dict(learning_rates)
    if any(rate < 0 for rate in rates.values()):
        raise ValueError(f"learning rates must be >= 0; got {rates}")
    transforms = {g: optax.set_to_zero() if r == 0 else optimizer(r) for g, r in rates.items()}
    if default is not None:
        transforms[_FROZEN] = optax.set_to_zero() if default == 0 else optimizer(default)

    def assign(group: str) -> str:
        if group in rates:
            return group
        if default is None:
            raise ValueError(f"no learning rate for the parameter group {group!r}; name it in "
                             f"learning_rates (given: {sorted(rates)}) or pass default=")
        return _FROZEN

    return optax.multi_transform(transforms, _labeller(assign))


class _GateState(NamedTuple):
    count: jax.Array


def _gate(start: int) -> optax.GradientTransformation:
    """Zero the updates exactly until ``start`` steps have passed, then pass them through."""

    def init(params):
        del params
        return _GateState(count=jnp.zeros((), jnp.int32))

    def update(updates, state, params=None):
        del params
        open_ = state.count >= start
        updates = jax.tree.map(lambda u: jnp.where(open_, u, jnp.zeros_like(u)), updates)
        return updates, _GateState(count=optax.safe_increment(state.count))

    return optax.GradientTransformation(init, update)


def gradual_unfreezing(optimizer: optax.GradientTransformation, groups: Sequence[str], *,
                       steps_per_stage: int) -> optax.GradientTransformation:
    """Gradual unfreezing (Howard and Ruder, 2018): the head first, then one more group per stage.

    Group ``groups[-1]`` (the head) trains from step 0, ``groups[-2]`` from step
    ``steps_per_stage``, ``groups[-3]`` from ``2 * steps_per_stage``, and so on. Until its turn a
    group's gradients and updates are exactly zero, so its parameters stay bit-identical and its
    optimizer state (e.g. Adam's moments) stays empty.

    Args:
        optimizer: the optax transformation every group uses once unfrozen.
        groups: group names from input to head (see :func:`parameter_groups`).
        steps_per_stage: optimizer steps between two unfreezings (an epoch is
            ``len(train) // batch_size`` steps in :func:`companion.train.fit`).

    Returns:
        An optax transformation for the whole model.

    Example:
        >>> tx = gradual_unfreezing(optax.adam(1e-3), ("stem", "layer1", "fc"), steps_per_stage=100)
    """
    if not isinstance(steps_per_stage, int) or steps_per_stage < 1:
        raise ValueError(f"steps_per_stage must be an int >= 1; got {steps_per_stage!r}")
    if not groups:
        raise ValueError("groups must name at least one parameter group")
    depth = len(groups) - 1
    starts = {group: (depth - i) * steps_per_stage for i, group in enumerate(groups)}
    transforms = {g: optax.chain(_gate(s), optimizer, _gate(s)) for g, s in starts.items()}

    def assign(group: str) -> str:
        if group not in starts:
            raise ValueError(f"the parameter group {group!r} is not in groups {list(groups)}")
        return group

    return optax.multi_transform(transforms, _labeller(assign))


def freeze_batchnorm(model: nnx.Module, *, frozen: bool = True, groups: Sequence[str] | None = None) -> int:
    """Keep BatchNorm layers in inference mode during training (or release them), in place.

    A frozen layer normalises with its running statistics and does not update them, even in a
    training step: useful when fine-tuning on small batches, whose statistics are noisy, or when
    the backbone should stay exactly as pretrained.

    Args:
        model: a model built from :class:`companion.transfer.BatchNorm` layers (e.g. a ResNet).
        frozen: ``True`` to freeze, ``False`` to return to normal behaviour.
        groups: only the layers in these parameter groups; ``None`` for all.

    Returns:
        The number of BatchNorm layers changed.

    Raises:
        TypeError: the model has ``nnx.BatchNorm`` layers of another kind, which cannot be frozen.

    Example:
        >>> from companion.transfer import resnet18
        >>> freeze_batchnorm(resnet18(10, width=8, rngs=nnx.Rngs(0)))
        20
    """
    changed = 0
    for path, node in nnx.iter_graph(model):
        if not isinstance(node, nnx.BatchNorm) or not path:
            continue
        if groups is not None and _group_of(path) not in groups:
            continue
        if not isinstance(node, BatchNorm):
            raise TypeError(f"the BatchNorm at {'.'.join(map(str, path))} is a {type(node).__name__}; "
                            "only companion.transfer.BatchNorm layers can be frozen")
        node.frozen = frozen
        changed += 1
    return changed
