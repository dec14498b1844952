r"""The dense (fully connected) layer and a two-layer network's backward pass, written by hand.

Book chapters: *Deep learning and image recognition* (parameter counts) and *Neurons,
activations and backpropagation* (forward and backward passes).

A dense layer maps a batch of :math:`N` input vectors of length :math:`D` to :math:`M` outputs
with one matrix product, :math:`Y = XW + b`. The two-layer network of the chapter is

.. math::

    Z_1 = X W_1 + b_1, \quad H = f(Z_1), \quad \hat Y = H W_2 + b_2, \quad
    L = \frac{1}{N M} \sum_{n, m} (\hat Y_{nm} - Y_{nm})^2 ,

and :func:`two_layer_backward` applies the chain rule to it, layer by layer, from the loss back
to the first weights. The parameters live in a dict with the keys ``"w1"``, ``"b1"``, ``"w2"``,
``"b2"``, so that ``jax.grad(two_layer_loss)(params, x, y)`` has the same structure as the
hand-written gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from companion.formulas import activations
from companion.formulas._validate import as_float_array, as_int

__all__ = [
    "ACTIVATIONS",
    "dense_layer",
    "dense_params",
    "two_layer_backward",
    "two_layer_forward",
    "two_layer_loss",
]

ACTIVATIONS: dict[str, tuple[Callable[[jax.Array], jax.Array], Callable[[jax.Array], jax.Array]]]
ACTIVATIONS = {
    "sigmoid": (activations.sigmoid, activations.sigmoid_grad),
    "tanh": (activations.tanh, activations.tanh_grad),
    "relu": (activations.relu, activations.relu_grad),
    "gelu": (activations.gelu, activations.gelu_grad),
}
"""The hidden-layer activations :func:`two_layer_forward` knows: name -> (function, derivative)."""

_PARAM_NAMES = ("w1", "b1", "w2", "b2")


def dense_params(n_in: int, n_out: int, *, bias: bool = True) -> int:
    r"""Number of trainable parameters of a dense layer: :math:`D M + M`.

    Every one of the :math:`M` outputs has one weight per input and one bias. Book chapter:
    *Deep learning and image recognition*.

    Args:
        n_in: number of inputs :math:`D` (for an image, height times width times channels).
        n_out: number of outputs (neurons) :math:`M`.
        bias: whether each output has a bias.

    Returns:
        The parameter count.

    Example:
        >>> dense_params(224 * 224 * 3, 1000)
        150529000
    """
    n_in, n_out = as_int("n_in", n_in, minimum=1), as_int("n_out", n_out, minimum=1)
    return n_in * n_out + (n_out if bias else 0)


def dense_layer(x: jax.Array, w: jax.Array, b: jax.Array | None = None) -> jax.Array:
    r"""A dense layer as one matrix product, :math:`Y = X W + b`.

    .. math::

        Y_{nm} = \sum_{d=1}^{D} X_{nd} W_{dm} + b_m

    The weights are stored as ``(inputs, outputs)``, as in Flax (``nnx.Linear``'s ``kernel``);
    PyTorch stores the transpose, ``(outputs, inputs)``. Book chapter: *Neurons, activations and
    backpropagation*.

    Args:
        x: inputs, shape ``(N, D)`` (or ``(D,)`` for one example).
        w: weights, shape ``(D, M)``.
        b: biases, shape ``(M,)``, or ``None`` for no bias.

    Returns:
        Outputs, shape ``(N, M)`` (or ``(M,)``).

    Example:
        >>> dense_layer(jnp.array([[1.0, 2.0]]), jnp.array([[1.0], [1.0]]), jnp.array([0.5]))
        Array([[3.5]], dtype=float32)
    """
    x = as_float_array("x", x, ndim=(1, 2))
    w = as_float_array("w", w, ndim=2)
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"w must have shape (D, M) with D = x.shape[-1] = {x.shape[-1]}; got w of shape "
            f"{tuple(w.shape)}"
        )
    y = jnp.einsum("...d,dm->...m", x, w)
    if b is None:
        return y
    b = as_float_array("b", b, ndim=1)
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape ({w.shape[1]},); got {tuple(b.shape)}")
    return y + b


def _check_network(params: Mapping[str, jax.Array], x, y, activation: str):
    if not isinstance(params, Mapping) or set(params) != set(_PARAM_NAMES):
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise TypeError(f"params must be a dict with keys {list(_PARAM_NAMES)}; got {got}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
    p = {name: as_float_array(f"params[{name!r}]", params[name]) for name in _PARAM_NAMES}
    x = as_float_array("x", x, ndim=2)
    n, d = x.shape
    hidden = p["w1"].shape[-1] if p["w1"].ndim == 2 else -1
    outputs = p["w2"].shape[-1] if p["w2"].ndim == 2 else -1
    expected = {"w1": (d, hidden), "b1": (hidden,), "w2": (hidden, outputs), "b2": (outputs,)}
    for name, shape in expected.items():
        if p[name].shape != shape:
            raise ValueError(
                f"params[{name!r}] must have shape {shape} (D={d} inputs); "
                f"got {tuple(p[name].shape)}"
            )
    if y is not None:
        y = as_float_array("y", y, ndim=2)
        if y.shape != (n, outputs):
            raise ValueError(f"y must have shape {(n, outputs)}; got {tuple(y.shape)}")
    return p, x, y


def two_layer_forward(
    params: Mapping[str, jax.Array], x: jax.Array, *, activation: str = "sigmoid"
) -> jax.Array:
    r"""Forward pass of a two-layer network, :math:`\hat Y = f(X W_1 + b_1) W_2 + b_2`.

    Book chapter: *Neurons, activations and backpropagation*.

    Args:
        params: dict with ``"w1"`` ``(D, H)``, ``"b1"`` ``(H,)``, ``"w2"`` ``(H, M)`` and
            ``"b2"`` ``(M,)``.
        x: inputs, shape ``(N, D)``.
        activation: the hidden activation :math:`f`, a key of :data:`ACTIVATIONS`.

    Returns:
        Predictions :math:`\hat Y`, shape ``(N, M)``.

    Example:
        >>> params = {"w1": jnp.ones((2, 3)), "b1": jnp.zeros(3), "w2": jnp.ones((3, 1)),
        ...           "b2": jnp.zeros(1)}
        >>> two_layer_forward(params, jnp.zeros((4, 2))).shape
        (4, 1)
    """
    p, x, _ = _check_network(params, x, None, activation)
    f, _ = ACTIVATIONS[activation]
    h = f(dense_layer(x, p["w1"], p["b1"]))
    return dense_layer(h, p["w2"], p["b2"])


def two_layer_loss(
    params: Mapping[str, jax.Array], x: jax.Array, y: jax.Array, *, activation: str = "sigmoid"
) -> jax.Array:
    r"""Mean squared error of :func:`two_layer_forward`, averaged over all :math:`N M` entries.

    Book chapter: *Neurons, activations and backpropagation*.

    Args:
        params: dict with ``"w1"``, ``"b1"``, ``"w2"``, ``"b2"`` (see :func:`two_layer_forward`).
        x: inputs, shape ``(N, D)``.
        y: targets, shape ``(N, M)``.
        activation: the hidden activation, a key of :data:`ACTIVATIONS`.

    Returns:
        The loss, a float32 scalar.

    Example:
        >>> params = {"w1": jnp.ones((2, 3)), "b1": jnp.zeros(3), "w2": jnp.ones((3, 1)),
        ...           "b2": jnp.zeros(1)}
        >>> two_layer_loss(params, jnp.zeros((4, 2)), jnp.full((4, 1), 1.5))
        Array(0., dtype=float32)
    """
    p, x, y = _check_network(params, x, y, activation)
    y_hat = two_layer_forward(p, x, activation=activation)
    return jnp.mean((y_hat - y) ** 2)


def two_layer_backward(
    params: Mapping[str, jax.Array], x: jax.Array, y: jax.Array, *, activation: str = "sigmoid"
) -> dict[str, jax.Array]:
    r"""Gradients of :func:`two_layer_loss`, by the chain rule written out by hand.

    .. math::

        \delta_2 &= \frac{\partial L}{\partial \hat Y} = \frac{2}{N M} (\hat Y - Y), &
        \frac{\partial L}{\partial W_2} &= H^\top \delta_2, &
        \frac{\partial L}{\partial b_2} &= \textstyle\sum_n \delta_{2,n}, \\
        \delta_1 &= (\delta_2 W_2^\top) \odot f'(Z_1), &
        \frac{\partial L}{\partial W_1} &= X^\top \delta_1, &
        \frac{\partial L}{\partial b_1} &= \textstyle\sum_n \delta_{1,n}.

    The derivative :math:`f'` is evaluated at the pre-activation :math:`Z_1`, not at
    :math:`H = f(Z_1)`. Book chapter: *Neurons, activations and backpropagation*; the chapter
    checks the result against ``jax.grad(two_layer_loss)``.

    Args:
        params: dict with ``"w1"`` ``(D, H)``, ``"b1"`` ``(H,)``, ``"w2"`` ``(H, M)`` and
            ``"b2"`` ``(M,)``.
        x: inputs, shape ``(N, D)``.
        y: targets, shape ``(N, M)``.
        activation: the hidden activation, a key of :data:`ACTIVATIONS`.

    Returns:
        A dict with the same keys and shapes as ``params``.

    Example:
        >>> params = {"w1": jnp.ones((2, 3)), "b1": jnp.zeros(3), "w2": jnp.ones((3, 1)),
        ...           "b2": jnp.zeros(1)}
        >>> grads = two_layer_backward(params, jnp.ones((4, 2)), jnp.zeros((4, 1)))
        >>> {name: g.shape for name, g in grads.items()}
        {'w1': (2, 3), 'b1': (3,), 'w2': (3, 1), 'b2': (1,)}
    """
    p, x, y = _check_network(params, x, y, activation)
    f, f_prime = ACTIVATIONS[activation]
    # forward pass, keeping what the backward pass needs
    z1 = dense_layer(x, p["w1"], p["b1"])
    h = f(z1)
    y_hat = dense_layer(h, p["w2"], p["b2"])
    # backward pass: from the loss back to the first layer
    delta2 = 2 * (y_hat - y) / y_hat.size
    grad_w2 = h.T @ delta2
    grad_b2 = delta2.sum(axis=0)
    delta1 = (delta2 @ p["w2"].T) * f_prime(z1)
    grad_w1 = x.T @ delta1
    grad_b1 = delta1.sum(axis=0)
    return {"w1": grad_w1, "b1": grad_b1, "w2": grad_w2, "b2": grad_b2}
