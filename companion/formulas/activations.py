"""Activation functions and their derivatives (chapter "Neurons, activations and backpropagation").

Each function works elementwise on an array of any shape (``softmax`` and ``log_softmax`` work
along one axis) and returns an array of the same shape and floating dtype. Integer input is
converted to ``float32``. The derivatives are written out by hand so that the book can check
them against ``jax.grad``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.special import erf

from companion.formulas._validate import as_float_array, as_int

GELU_TANH_COEFFICIENT = 0.044715
"""The cubic coefficient of the tanh approximation of GELU (Hendrycks and Gimpel, 2016)."""

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def relu(z: jax.Array) -> jax.Array:
    r"""Rectified linear unit, :math:`\operatorname{relu}(z) = \max(0, z)`.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> relu(jnp.array([-2.0, 0.0, 3.0]))
        Array([0., 0., 3.], dtype=float32)
    """
    z = as_float_array("z", z)
    return jnp.where(z > 0, z, 0)  # unlike jnp.maximum, whose gradient at 0 is 1/2


def relu_grad(z: jax.Array) -> jax.Array:
    r"""Derivative of :func:`relu`: :math:`1` where :math:`z > 0`, else :math:`0`.

    At :math:`z = 0` the function has a kink; like JAX, we take the derivative there to be 0.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of zeros and ones, the shape of ``z``.

    Example:
        >>> relu_grad(jnp.array([-2.0, 0.0, 3.0]))
        Array([0., 0., 1.], dtype=float32)
    """
    z = as_float_array("z", z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z: jax.Array, *, negative_slope: float = 0.01) -> jax.Array:
    r"""Leaky ReLU, :math:`z` for :math:`z \ge 0` and :math:`\alpha z` otherwise.

    Args:
        z: pre-activations, any shape.
        negative_slope: the slope :math:`\alpha` for negative inputs.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> leaky_relu(jnp.array([-2.0, 3.0]), negative_slope=0.1)
        Array([-0.2,  3. ], dtype=float32)
    """
    z = as_float_array("z", z)
    return jnp.where(z >= 0, z, negative_slope * z)


def sigmoid(z: jax.Array) -> jax.Array:
    r"""Logistic sigmoid, :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    For very negative :math:`z`, :math:`e^{-z}` overflows to infinity and the result is exactly
    0, the correct limit, so no special case is needed.

    Args:
        z: pre-activations, any shape.

    Returns:
        Values in :math:`[0, 1]`, the shape of ``z``.

    Example:
        >>> sigmoid(jnp.array([0.0]))
        Array([0.5], dtype=float32)
    """
    z = as_float_array("z", z)
    return 1 / (1 + jnp.exp(-z))


def sigmoid_grad(z: jax.Array) -> jax.Array:
    r"""Derivative of the sigmoid, :math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`.

    Its maximum is :math:`1/4` at :math:`z = 0`, which is why deep stacks of sigmoids make
    gradients vanish.

    Args:
        z: pre-activations, any shape.

    Returns:
        Values in :math:`[0, 1/4]`, the shape of ``z``.

    Example:
        >>> sigmoid_grad(jnp.array([0.0]))
        Array([0.25], dtype=float32)
    """
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z: jax.Array) -> jax.Array:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^{z} - e^{-z}) / (e^{z} + e^{-z})`.

    It is a rescaled sigmoid, :math:`\tanh(z) = 2\sigma(2z) - 1`.

    The formula as written overflows for large :math:`|z|`, so this evaluates ``jnp.tanh``.

    Args:
        z: pre-activations, any shape.

    Returns:
        Values in :math:`[-1, 1]`, the shape of ``z``.

    Example:
        >>> tanh(jnp.array([0.0]))
        Array([0.], dtype=float32)
    """
    z = as_float_array("z", z)
    return jnp.tanh(z)


def tanh_grad(z: jax.Array) -> jax.Array:
    r"""Derivative of tanh, :math:`\tanh'(z) = 1 - \tanh^2(z)` (at most 1, at :math:`z = 0`).

    Args:
        z: pre-activations, any shape.

    Returns:
        Values in :math:`[0, 1]`, the shape of ``z``.

    Example:
        >>> tanh_grad(jnp.array([0.0]))
        Array([1.], dtype=float32)
    """
    t = tanh(z)
    return 1 - t * t


def gelu(z: jax.Array) -> jax.Array:
    r"""Gaussian error linear unit (GELU), exact form.

    .. math::

        \operatorname{gelu}(z) = z\,\Phi(z) = \tfrac12 z\,(1 + \operatorname{erf}(z/\sqrt2))

    :math:`\Phi` is the cumulative distribution function of the standard normal. This equals
    ``jax.nn.gelu(z, approximate=False)``; see :func:`gelu_tanh` for the approximation.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> gelu(jnp.array([0.0, 1.0]))
        Array([0.       , 0.8413447], dtype=float32)
    """
    z = as_float_array("z", z)
    return 0.5 * z * (1 + erf(z / _SQRT_2))


def gelu_grad(z: jax.Array) -> jax.Array:
    r"""Derivative of the exact GELU, :math:`\Phi(z) + z\,\varphi(z)`.

    :math:`\varphi(z) = e^{-z^2/2}/\sqrt{2\pi}` is the standard normal density.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> gelu_grad(jnp.array([0.0]))
        Array([0.5], dtype=float32)
    """
    z = as_float_array("z", z)
    cdf = 0.5 * (1 + erf(z / _SQRT_2))
    pdf = _INV_SQRT_2PI * jnp.exp(-0.5 * z * z)
    return cdf + z * pdf


def gelu_tanh(z: jax.Array) -> jax.Array:
    r"""GELU, tanh approximation.

    .. math::

        \tfrac12 z\,\bigl(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715\,z^3))\bigr)

    This equals ``jax.nn.gelu(z, approximate=True)`` (JAX's default) and differs from the exact
    :func:`gelu` by less than about ``1e-3``.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> gelu_tanh(jnp.array([0.0]))
        Array([0.], dtype=float32)
    """
    z = as_float_array("z", z)
    inner = _SQRT_2_OVER_PI * (z + GELU_TANH_COEFFICIENT * z**3)
    return 0.5 * z * (1 + jnp.tanh(inner))


def gelu_tanh_grad(z: jax.Array) -> jax.Array:
    r"""Derivative of :func:`gelu_tanh`.

    With :math:`u = \sqrt{2/\pi}\,(z + a z^3)` and :math:`a = 0.044715`:
    :math:`\tfrac12 (1 + \tanh u) + \tfrac12 z\,(1 - \tanh^2 u)\,\sqrt{2/\pi}\,(1 + 3 a z^2)`.

    Args:
        z: pre-activations, any shape.

    Returns:
        An array of the shape of ``z``.

    Example:
        >>> gelu_tanh_grad(jnp.array([0.0]))
        Array([0.5], dtype=float32)
    """
    z = as_float_array("z", z)
    t = jnp.tanh(_SQRT_2_OVER_PI * (z + GELU_TANH_COEFFICIENT * z**3))
    du_dz = _SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_COEFFICIENT * z * z)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du_dz


def softmax(z: jax.Array, axis: int = -1) -> jax.Array:
    r"""Numerically stable softmax along ``axis`` (chapter "Loss functions").

    .. math::

        \operatorname{softmax}(z)_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \qquad m = \max_j z_j.

    Subtracting the maximum cancels between numerator and denominator, and keeps every
    exponential at most 1, so large logits cannot overflow.

    Args:
        z: logits, any shape; ``z.shape[axis]`` is the number of classes :math:`K`.
        axis: the class axis.

    Returns:
        Probabilities, the shape of ``z``, summing to one along ``axis``.

    Example:
        >>> softmax(jnp.array([1000.0, 1000.0]))
        Array([0.5, 0.5], dtype=float32)
    """
    z = as_float_array("z", z)
    axis = _check_axis(axis, z.ndim)
    shifted = z - jax.lax.stop_gradient(z.max(axis=axis, keepdims=True))
    exp = jnp.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def log_softmax(z: jax.Array, axis: int = -1) -> jax.Array:
    r"""Logarithm of the softmax, by the log-sum-exp trick (chapter "Loss functions").

    .. math::

        \log \operatorname{softmax}(z)_i = z_i - m - \log \sum_j e^{z_j - m}, \qquad m = \max_j z_j.

    Unlike ``log(softmax(z))``, this never takes the logarithm of an underflowed 0.

    Args:
        z: logits, any shape.
        axis: the class axis.

    Returns:
        Log-probabilities (all :math:`\le 0`), the shape of ``z``.

    Example:
        >>> log_softmax(jnp.array([0.0, 0.0]))
        Array([-0.6931472, -0.6931472], dtype=float32)
    """
    z = as_float_array("z", z)
    axis = _check_axis(axis, z.ndim)
    shifted = z - jax.lax.stop_gradient(z.max(axis=axis, keepdims=True))
    return shifted - jnp.log(jnp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_jacobian(z: jax.Array) -> jax.Array:
    r"""Jacobian of the softmax of one vector, :math:`J = \operatorname{diag}(s) - s s^\top`.

    Here :math:`s = \operatorname{softmax}(z)`.

    Entry :math:`J_{ij} = \partial s_i / \partial z_j = s_i (\delta_{ij} - s_j)`.

    Args:
        z: logits, shape ``(K,)``.

    Returns:
        The Jacobian, shape ``(K, K)``.

    Example:
        >>> softmax_jacobian(jnp.zeros(2))
        Array([[ 0.25, -0.25],
               [-0.25,  0.25]], dtype=float32)
    """
    z = as_float_array("z", z, ndim=1)
    s = softmax(z)
    return jnp.diag(s) - jnp.outer(s, s)


def _check_axis(axis, ndim: int) -> int:
    axis = as_int("axis", axis)
    if ndim == 0:
        raise ValueError("z must have at least 1 axis (the classes); got shape ()")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must lie in [-{ndim}, {ndim}) for z with {ndim} axes; got {axis}")
    return axis
