"""Checkers for the exercises on neurons, dense layers and backpropagation.

Chapters "Deep learning and image recognition" (:func:`dense_params`, :func:`neuron`) and
"Neurons, activations and backpropagation" (:func:`dense_layer`, :func:`sigmoid_grad`,
:func:`two_layer_backward`). The references are in :mod:`companion.formulas.dense` and
:mod:`companion.formulas.activations`.

Example:
    >>> from companion import check
    >>> check.dense_params(lambda n_in, n_out, *, bias=True: n_in * n_out + n_out * bias).passed
    PASS: dense_params (6 cases)
    True
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from companion.check.harness import Case, CheckResult, Diagnosis, run_check
from companion.formulas import activations, dense

__all__ = ["dense_layer", "dense_params", "neuron", "sigmoid_grad", "two_layer_backward"]

_IMAGE_224 = 224 * 224 * 3
_IMAGE_28 = 28 * 28


def _normal(seed: int, *shape: int) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), shape)


# ----------------------------------------------------------------------------- parameter count


def dense_params(fn: Callable) -> CheckResult:
    """Check ``fn(n_in, n_out, *, bias=True) -> int``, the parameter count of a dense layer.

    Recognised mistakes: forgetting the biases, one bias per input instead of per output, and
    adding the sizes instead of multiplying them.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> from companion.formulas.dense import dense_params as reference
        >>> dense_params(reference).passed
        PASS: dense_params (6 cases)
        True
    """
    cases = [
        Case((3, 2), {"bias": True}, note="a tiny layer"),
        Case((_IMAGE_28, 10), {"bias": True}, note="an MNIST image to 10 classes"),
        Case((10, 10), {"bias": False}, note="no bias"),
        Case((_IMAGE_224, 1000), {"bias": True}, note="a 224x224x3 image to 1000 neurons"),
        Case((1, 1), {"bias": True}, note="one input, one output"),
        Case((5, 7), {"bias": False}, note="no bias"),
    ]

    def biases_ignored(n_in, n_out, *, bias=True):
        return n_in * n_out + n_out

    wrong = [
        Diagnosis("the biases are missing: every output neuron has one bias",
                  variant=lambda n_in, n_out, *, bias=True: n_in * n_out),
        Diagnosis("you counted one bias per input; there is one bias per output neuron",
                  variant=lambda n_in, n_out, *, bias=True: n_in * n_out + n_in * bias),
        Diagnosis("you added the sizes; every output is connected to every input, so multiply",
                  variant=lambda n_in, n_out, *, bias=True: n_in + n_out + n_out * bias),
        Diagnosis("with bias=False there are no biases; your count includes them",
                  variant=biases_ignored),
    ]
    return run_check("dense_params", fn, dense.dense_params, cases, diagnoses=wrong,
                     arg_names=("n_in", "n_out"), output="int")


# ----------------------------------------------------------------------------- one neuron


def _neuron(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    return activations.relu(jnp.dot(x, w) + b)


def neuron(fn: Callable) -> CheckResult:
    """Check ``fn(x, w, b) -> y``, one neuron with a ReLU: :math:`y = \\max(0, w \\cdot x + b)`.

    ``x`` and ``w`` have shape ``(D,)``, ``b`` is a scalar array, the result a scalar.
    Recognised mistakes: a missing bias, a missing activation, a sigmoid instead of a ReLU, and
    an elementwise product that is not summed.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> neuron(lambda x, w, b: jnp.maximum(0.0, x @ w + b)).passed
        PASS: neuron (5 cases)
        True
    """
    cases = [
        Case((jnp.array([1.0, 2.0]), jnp.array([0.5, 0.25]), jnp.array(0.1)), note="positive"),
        Case((jnp.array([1.0, 2.0, 3.0]), jnp.array([-1.0, 0.5, -0.5]), jnp.array(0.25)),
             note="a negative sum: the ReLU outputs 0"),
        Case((_normal(0, 4), _normal(1, 4), jnp.array(-0.3)), note="random"),
        Case((_normal(2, 16), _normal(3, 16), jnp.array(1.5)), note="random, 16 inputs"),
        Case((_normal(4, 16), _normal(5, 16), jnp.array(-1.5)), note="random, 16 inputs"),
    ]
    wrong = [
        Diagnosis("the bias is missing: y = relu(w . x + b)",
                  variant=lambda x, w, b: activations.relu(jnp.dot(x, w))),
        Diagnosis("the activation is missing: a ReLU neuron outputs max(0, w . x + b)",
                  variant=lambda x, w, b: jnp.dot(x, w) + b),
        Diagnosis("you used a sigmoid; this neuron uses a ReLU, max(0, z)",
                  variant=lambda x, w, b: activations.sigmoid(jnp.dot(x, w) + b)),
        Diagnosis("you multiplied elementwise but did not sum: a neuron outputs one number",
                  applies=lambda case, got, expected: np.shape(got) == np.shape(case.args[0])),
    ]
    return run_check("neuron", fn, _neuron, cases, diagnoses=wrong, arg_names=("x", "w", "b"))


# ----------------------------------------------------------------------------- dense layer


def dense_layer(fn: Callable) -> CheckResult:
    """Check ``fn(x, w, b) -> y``, a dense layer on a batch: ``x @ w + b``.

    ``x`` has shape ``(N, D)``, ``w`` shape ``(D, M)``, ``b`` shape ``(M,)``; the result has shape
    ``(N, M)``. Recognised mistakes: a missing bias, transposed weights (PyTorch's
    ``(outputs, inputs)`` layout), an activation applied to the output, and a sum over the batch.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> dense_layer(lambda x, w, b: x @ w + b).passed
        PASS: dense_layer (5 cases)
        True
    """
    cases = [
        Case((jnp.array([[1.0, 2.0]]), jnp.array([[1.0, -1.0], [0.5, 2.0]]),
              jnp.array([0.0, 0.5])), note="one example, 2 inputs, 2 outputs"),
        Case((jnp.array([[1.0, 2.0]]), jnp.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]]),
              jnp.array([0.0, 0.5, -1.0])), note="one example, 2 inputs, 3 outputs"),
        Case((_normal(3, 5, 3), _normal(4, 3, 2), _normal(5, 2)), note="a batch of 5"),
        Case((-jnp.abs(_normal(6, 2, 4)), jnp.abs(_normal(7, 4, 4)), -jnp.ones(4)),
             note="negative outputs"),
        Case((_normal(8, 8, 6), _normal(9, 6, 3), _normal(10, 3)), note="a batch of 8"),
    ]
    wrong = [
        Diagnosis("the bias is missing: y = x @ w + b", variant=lambda x, w, b: x @ w),
        Diagnosis("you used the transposed weights (x @ w.T): here w has shape (inputs, outputs)",
                  variant=lambda x, w, b: x @ w.T + b),
        Diagnosis("you applied a ReLU; a dense layer alone is only x @ w + b",
                  variant=lambda x, w, b: activations.relu(x @ w + b)),
        Diagnosis("you applied a sigmoid; a dense layer alone is only x @ w + b",
                  variant=lambda x, w, b: activations.sigmoid(x @ w + b)),
        Diagnosis("you summed over the batch: keep one row of outputs per example",
                  applies=lambda case, got, expected: np.shape(got) == np.shape(expected)[1:]),
    ]
    return run_check("dense_layer", fn, dense.dense_layer, cases, diagnoses=wrong,
                     arg_names=("x", "w", "b"))


# ----------------------------------------------------------------------------- sigmoid'


def _sigmoid_grad_overflowing(z: jax.Array) -> jax.Array:
    e = jnp.exp(-z)
    return e / (1 + e) ** 2


def sigmoid_grad(fn: Callable) -> CheckResult:
    """Check ``fn(z) -> dsigma/dz``, the derivative of the sigmoid, elementwise.

    The reference is :math:`\\sigma(z)(1 - \\sigma(z))`. Recognised mistakes:
    :math:`\\sigma(z)(1 - z)`, the sigmoid itself, the tanh derivative :math:`1 - \\sigma^2`,
    and :math:`e^{-z}/(1 + e^{-z})^2`, right in exact arithmetic but NaN for very negative
    :math:`z` (inf/inf).

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> from companion import formulas
        >>> sigmoid_grad(lambda z: formulas.sigmoid(z) * (1 - formulas.sigmoid(z))).passed
        PASS: sigmoid_grad (4 cases)
        True
    """
    cases = [
        Case((jnp.array([0.0, 1.0]),), note="z = 0 and z = 1"),
        Case((jnp.array([-2.0, -0.5, 0.5, 2.0]),), note="small values"),
        Case((_normal(0, 3, 4) * 3,), note="a matrix"),
        Case((jnp.array([-100.0, -30.0, 30.0, 100.0]),), note="large |z|"),
    ]
    sig = activations.sigmoid
    wrong = [
        Diagnosis("you wrote sigma(z) * (1 - z); the derivative is sigma(z) * (1 - sigma(z))",
                  variant=lambda z: sig(z) * (1 - z)),
        Diagnosis("you returned the sigmoid itself, not its derivative",
                  variant=lambda z: sig(z)),
        Diagnosis("1 - sigma(z)**2 is the pattern of tanh's derivative; sigma' = sigma*(1 - sigma)",
                  variant=lambda z: 1 - sig(z) ** 2),
        Diagnosis("overflows for very negative z: exp(-z) is inf and inf/inf is NaN; write it as "
                  "s * (1 - s) with s = sigmoid(z)", variant=_sigmoid_grad_overflowing),
    ]
    return run_check("sigmoid_grad", fn, activations.sigmoid_grad, cases, diagnoses=wrong,
                     arg_names=("z",))


# ----------------------------------------------------------------------------- backprop

_GRAD_ORDER = ("w2", "b2", "w1", "b1")  # the order backpropagation computes them


def _wrong_backward(*, scale: float = 1.0, mean: bool = True, fprime: str = "z"):
    """The hand-written backward pass with one classic mistake switched on."""

    def backward(params, x, y):
        z1 = x @ params["w1"] + params["b1"]
        h = activations.sigmoid(z1)
        y_hat = h @ params["w2"] + params["b2"]
        delta2 = scale * 2 * (y_hat - y) / (y_hat.size if mean else 1)
        derivative = {
            "z": activations.sigmoid_grad(z1),
            "h": activations.sigmoid_grad(h),
            "none": jnp.ones_like(z1),
            "sigma(1-z)": h * (1 - z1),
        }[fprime]
        delta1 = (delta2 @ params["w2"].T) * derivative
        return {"w1": x.T @ delta1, "b1": delta1.sum(0), "w2": h.T @ delta2, "b2": delta2.sum(0)}

    return backward


_BACKWARD_MISTAKES = [
    ("f' evaluated at the activation h = sigmoid(z1); evaluate it at the pre-activation z1",
     {"fprime": "h"}),
    ("the derivative of the activation is missing: delta1 = (delta2 @ W2.T) * f'(z1)",
     {"fprime": "none"}),
    ("sigmoid'(z) written as sigma(z) * (1 - z); it is sigma(z) * (1 - sigma(z))",
     {"fprime": "sigma(1-z)"}),
    ("the loss is a mean over all N*M entries: dL/dy_hat = 2 (y_hat - y) / (N*M)",
     {"mean": False}),
    ("the factor 2 of the squared error is missing: d(e^2)/de = 2e", {"scale": 0.5}),
    ("the gradient has the wrong sign: dL/dy_hat = 2 (y_hat - y) / (N*M), not (y - y_hat)",
     {"scale": -1.0}),
]


def _pick(fn: Callable, name: str, cache: dict | None = None) -> Callable:
    """Call ``fn`` on a case's arrays and return one gradient; ``cache`` reuses earlier calls."""

    def one_gradient(x, y, w1, b1, w2, b2):
        key = (id(fn), id(x))
        if cache is not None and key in cache:
            grads = cache[key]
        else:
            grads = fn({"w1": w1, "b1": b1, "w2": w2, "b2": b2}, x, y)
            if cache is not None:
                cache[key] = grads
        if not isinstance(grads, dict) or set(grads) != set(_GRAD_ORDER):
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise TypeError(f"return a dict with the keys w1, b1, w2, b2; got {got}")
        return grads[name]

    return one_gradient


def two_layer_backward(fn: Callable) -> CheckResult:
    """Check ``fn(params, x, y) -> grads``, the hand-written backward pass of the chapter.

    The network is ``y_hat = sigmoid(x @ w1 + b1) @ w2 + b2`` with the mean squared error
    ``mean((y_hat - y) ** 2)``; ``params`` and the returned ``grads`` are dicts with the keys
    ``"w1"``, ``"b1"``, ``"w2"``, ``"b2"``. The gradients are checked in the order
    backpropagation computes them (``w2``, ``b2``, ``w1``, ``b1``), and the first wrong one is
    reported. Recognised mistakes: the activation's derivative evaluated at its output, or
    missing, or written as :math:`\\sigma(z)(1 - z)`; the mean's :math:`1/(NM)` missing; the
    factor 2 missing; the wrong sign.

    Args:
        fn: the reader's function.

    Returns:
        The :class:`CheckResult`; the report is printed.

    Example:
        >>> from companion.formulas.dense import two_layer_backward as reference
        >>> two_layer_backward(reference).passed
        PASS: two_layer_backward (4 cases, 4 gradients each)
        True
    """
    shapes = [(1, 2, 2, 1), (3, 2, 3, 1), (4, 3, 4, 2), (6, 4, 5, 3)]
    notes = ["one example", "three examples", "two outputs", "three outputs"]
    cases = []
    for seed, ((n, d, h, m), note) in enumerate(zip(shapes, notes, strict=True)):
        keys = jax.random.split(jax.random.key(seed), 6)
        args = [jax.random.normal(k, s) for k, s in
                zip(keys, [(n, d), (n, m), (d, h), (h,), (h, m), (m,)], strict=True)]
        cases.append(Case(tuple(args), note=note))
    arg_names = ("x", "y", "w1", "b1", "w2", "b2")
    cache: dict = {}  # each function runs once per case, not once per gradient
    reference_fn = dense.two_layer_backward
    for name in _GRAD_ORDER:
        reference = _pick(reference_fn, name, cache)
        candidate = _pick(fn, name, cache) if callable(fn) else fn
        diagnoses = [Diagnosis(cause, variant=_pick(_wrong_backward(**flags), name))
                     for cause, flags in _BACKWARD_MISTAKES]
        result = run_check(f"two_layer_backward, gradient {name!r}", candidate, reference, cases,
                           diagnoses=diagnoses, arg_names=arg_names, verbose=False)
        if not result.passed:
            print(result.message)
            return result
    message = f"PASS: two_layer_backward ({len(cases)} cases, 4 gradients each)"
    print(message)
    return CheckResult(True, message)
