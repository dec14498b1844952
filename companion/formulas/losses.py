r"""Loss functions, written to be read (chapter "Loss functions").

Every loss returns the *mean* over the batch (a scalar); the ``*_per_example`` building blocks
are available where optax returns per-example values. Class labels are integer ids; logits are
``(N, K)`` for ``N`` examples and ``K`` classes (any leading batch shape works).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from companion.formulas._validate import as_float_array

PROBABILITY_EPSILON = 1e-7
"""Probabilities are clipped to ``[eps, 1 - eps]`` before a logarithm (the Keras convention)."""


def _pair(pred, target, names=("pred", "target")) -> tuple[jax.Array, jax.Array]:
    pred, target = as_float_array(names[0], pred), as_float_array(names[1], target)
    if pred.shape != target.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape; got {tuple(pred.shape)} "
            f"and {tuple(target.shape)}"
        )
    return pred, target.astype(pred.dtype)


def _logits_and_labels(logits, labels) -> tuple[jax.Array, jax.Array]:
    logits = as_float_array("logits", logits)
    labels = jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"labels must be integer class ids; got dtype {labels.dtype}")
    if logits.ndim < 1 or labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels must have shape logits.shape[:-1]; got logits {tuple(logits.shape)} "
            f"and labels {tuple(labels.shape)}"
        )
    return logits, labels


def one_hot(labels: jax.Array, num_classes: int, *, dtype=jnp.float32) -> jax.Array:
    r"""One-hot encoding: :math:`y_{n,k} = 1` if :math:`k` is the label of example :math:`n`, else 0.

    Args:
        labels: integer class ids, any shape.
        num_classes: :math:`K`.
        dtype: the dtype of the result.

    Returns:
        Shape ``labels.shape + (K,)``.

    Example:
        >>> one_hot(jnp.array([2, 0]), 3)
        Array([[0., 0., 1.],
               [1., 0., 0.]], dtype=float32)
    """
    labels = jnp.asarray(labels)
    return (labels[..., None] == jnp.arange(num_classes)).astype(dtype)


def mse(pred: jax.Array, target: jax.Array) -> jax.Array:
    r"""Mean squared error over *all* elements.

    .. math::

        \operatorname{MSE} = \frac{1}{M} \sum_{m=1}^{M} (\hat y_m - y_m)^2

    Some texts write :math:`\tfrac12 \sum (\hat y - y)^2` so that the gradient is
    :math:`\hat y - y` without a factor 2; see :func:`half_mse`. The factor only rescales the
    gradient, which the learning rate absorbs.

    Args:
        pred: predictions, any shape.
        target: targets, the shape of ``pred``.

    Returns:
        A scalar.

    Example:
        >>> mse(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0]))
        Array(2.5, dtype=float32)
    """
    pred, target = _pair(pred, target)
    return jnp.mean((pred - target) ** 2)


def half_mse(pred: jax.Array, target: jax.Array) -> jax.Array:
    r"""Half the mean squared error, :math:`\frac{1}{M} \sum_m \tfrac12 (\hat y_m - y_m)^2`.

    Its gradient is :math:`(\hat y - y)/M`. This is the mean of ``optax.l2_loss``.

    Args:
        pred: predictions, any shape.
        target: targets, the shape of ``pred``.

    Returns:
        A scalar.

    Example:
        >>> half_mse(jnp.array([1.0, 2.0]), jnp.array([0.0, 0.0]))
        Array(1.25, dtype=float32)
    """
    return 0.5 * mse(pred, target)


def binary_cross_entropy(probs: jax.Array, targets: jax.Array) -> jax.Array:
    r"""Binary cross-entropy from probabilities, mean over all elements.

    .. math::

        \operatorname{BCE} = -\frac{1}{M} \sum_m \bigl(y_m \log p_m + (1 - y_m) \log(1 - p_m)\bigr)

    Probabilities are clipped to :math:`[\varepsilon, 1 - \varepsilon]`
    (:data:`PROBABILITY_EPSILON`) so a confident mistake costs a large but finite loss. Prefer
    :func:`binary_cross_entropy_with_logits`, which needs no clipping.

    Args:
        probs: predicted probabilities :math:`p` in ``[0, 1]``, any shape.
        targets: targets :math:`y` in ``[0, 1]``, the shape of ``probs``.

    Returns:
        A scalar.

    Example:
        >>> binary_cross_entropy(jnp.array([0.5]), jnp.array([1.0]))
        Array(0.6931472, dtype=float32)
    """
    p, y = _pair(probs, targets, ("probs", "targets"))
    p = jnp.clip(p, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))


def binary_cross_entropy_with_logits(logits: jax.Array, targets: jax.Array) -> jax.Array:
    r"""Binary cross-entropy from logits :math:`z` (with :math:`p = \sigma(z)`), mean over all elements.

    Substituting :math:`\log \sigma(z) = -\log(1 + e^{-z})` and
    :math:`\log(1 - \sigma(z)) = -z - \log(1 + e^{-z})` gives a form that never overflows:

    .. math::

        \ell(z, y) = \max(z, 0) - z y + \log\bigl(1 + e^{-|z|}\bigr).

    The mean of ``optax.sigmoid_binary_cross_entropy``.

    Args:
        logits: scores :math:`z`, any shape.
        targets: targets :math:`y` in ``[0, 1]``, the shape of ``logits``.

    Returns:
        A scalar.

    Example:
        >>> binary_cross_entropy_with_logits(jnp.array([0.0]), jnp.array([1.0]))
        Array(0.6931472, dtype=float32)
    """
    z, y = _pair(logits, targets, ("logits", "targets"))
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def logsumexp(z: jax.Array, axis: int = -1) -> jax.Array:
    r"""The log-sum-exp trick: :math:`\log \sum_k e^{z_k} = m + \log \sum_k e^{z_k - m}`, :math:`m = \max_k z_k`.

    Args:
        z: values, any shape.
        axis: the axis to reduce.

    Returns:
        ``z`` with ``axis`` removed.

    Example:
        >>> logsumexp(jnp.array([1000.0, 1000.0]))
        Array(1000.6932, dtype=float32)
    """
    z = as_float_array("z", z)
    m = jax.lax.stop_gradient(z.max(axis=axis, keepdims=True))
    return (m + jnp.log(jnp.exp(z - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def softmax_cross_entropy_per_example(logits: jax.Array, labels: jax.Array) -> jax.Array:
    r"""Softmax cross-entropy of each example: :math:`\ell_n = \log \sum_k e^{z_{n,k}} - z_{n,y_n}`.

    This is :math:`-\log \operatorname{softmax}(z_n)_{y_n}`, computed with :func:`logsumexp`.
    Equals ``optax.softmax_cross_entropy_with_integer_labels``.

    Args:
        logits: shape ``(N, K)``.
        labels: integer class ids, shape ``(N,)``.

    Returns:
        Shape ``(N,)``.

    Example:
        >>> softmax_cross_entropy_per_example(jnp.zeros((1, 4)), jnp.array([2]))
        Array([1.3862944], dtype=float32)
    """
    logits, labels = _logits_and_labels(logits, labels)
    true_class = jnp.take_along_axis(logits, labels[..., None], axis=-1)[..., 0]
    return logsumexp(logits, axis=-1) - true_class


def softmax_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    r"""Softmax cross-entropy with integer labels, mean over the batch.

    .. math::

        L = \frac{1}{N} \sum_{n=1}^{N} \Bigl( \log \sum_{k=1}^{K} e^{z_{n,k}} - z_{n,y_n} \Bigr)
          = -\frac{1}{N} \sum_n \log \operatorname{softmax}(z_n)_{y_n}

    Its gradient is :math:`\partial L / \partial z_n = (\operatorname{softmax}(z_n) -
    \operatorname{onehot}(y_n)) / N` (:func:`softmax_cross_entropy_grad`).

    Args:
        logits: shape ``(N, K)``.
        labels: integer class ids, shape ``(N,)``.

    Returns:
        A scalar.

    Example:
        >>> softmax_cross_entropy(jnp.array([[1000.0, 0.0]]), jnp.array([0]))
        Array(0., dtype=float32)
    """
    return jnp.mean(softmax_cross_entropy_per_example(logits, labels))


def softmax_cross_entropy_grad(logits: jax.Array, labels: jax.Array) -> jax.Array:
    r"""Gradient of :func:`softmax_cross_entropy`: :math:`(\operatorname{softmax}(z) - \operatorname{onehot}(y)) / N`.

    Args:
        logits: shape ``(N, K)``.
        labels: integer class ids, shape ``(N,)``.

    Returns:
        Shape ``(N, K)``.

    Example:
        >>> softmax_cross_entropy_grad(jnp.zeros((1, 2)), jnp.array([0]))
        Array([[-0.5,  0.5]], dtype=float32)
    """
    logits, labels = _logits_and_labels(logits, labels)
    count = labels.size
    probs = jnp.exp(logits - logsumexp(logits, axis=-1)[..., None])
    return (probs - one_hot(labels, logits.shape[-1], dtype=logits.dtype)) / count


def smooth_labels(targets: jax.Array, alpha: float) -> jax.Array:
    r"""Label smoothing: :math:`(1 - \alpha)\, y + \alpha / K` for one-hot (or soft) targets.

    Every wrong class gets :math:`\alpha / K` and the true class :math:`1 - \alpha + \alpha/K`,
    so the model is never pushed towards infinitely confident logits. Equals
    ``optax.smooth_labels``.

    Args:
        targets: target distributions, shape ``(N, K)``.
        alpha: smoothing strength in ``[0, 1]``.

    Returns:
        Shape ``(N, K)``.

    Example:
        >>> smooth_labels(jnp.array([[0.0, 1.0]]), 0.1)
        Array([[0.05, 0.95]], dtype=float32)
    """
    targets = as_float_array("targets", targets)
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    return (1 - alpha) * targets + alpha / targets.shape[-1]


def soft_cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
    r"""Cross-entropy with target distributions :math:`q`, mean over the batch.

    .. math::

        L = -\frac{1}{N} \sum_n \sum_k q_{n,k} \log \operatorname{softmax}(z_n)_k

    With one-hot :math:`q` this is :func:`softmax_cross_entropy`; with
    ``smooth_labels(onehot, alpha)`` it is the label-smoothed loss. The mean of
    ``optax.softmax_cross_entropy``.

    Args:
        logits: shape ``(N, K)``.
        targets: target probabilities, shape ``(N, K)``, rows summing to one.

    Returns:
        A scalar.

    Example:
        >>> soft_cross_entropy(jnp.zeros((1, 2)), jnp.array([[0.5, 0.5]]))
        Array(0.6931472, dtype=float32)
    """
    z, q = _pair(logits, targets, ("logits", "targets"))
    log_probs = z - logsumexp(z, axis=-1)[..., None]
    return -jnp.mean(jnp.sum(q * log_probs, axis=-1))


def weighted_softmax_cross_entropy(
    logits: jax.Array, labels: jax.Array, class_weights: jax.Array
) -> jax.Array:
    r"""Class-weighted softmax cross-entropy, normalised by the total weight.

    .. math::

        L = \frac{\sum_n w_{y_n}\, \ell_n}{\sum_n w_{y_n}}

    where :math:`\ell_n` is the cross-entropy of example :math:`n`. Rare classes get larger
    weights (e.g. inversely proportional to their frequency). Dividing by the total weight, not
    by :math:`N`, is PyTorch's ``CrossEntropyLoss(weight=...)`` convention; it keeps the loss on
    the scale of the unweighted one.

    Args:
        logits: shape ``(N, K)``.
        labels: integer class ids, shape ``(N,)``.
        class_weights: one non-negative weight per class, shape ``(K,)``.

    Returns:
        A scalar.

    Example:
        >>> weighted_softmax_cross_entropy(jnp.zeros((2, 2)), jnp.array([0, 1]), jnp.array([1.0, 3.0]))
        Array(0.6931472, dtype=float32)
    """
    per_example = softmax_cross_entropy_per_example(logits, labels)
    weights = as_float_array("class_weights", class_weights, ndim=1)
    if weights.shape[0] != jnp.shape(logits)[-1]:
        raise ValueError(
            f"class_weights must have shape (K,) = ({jnp.shape(logits)[-1]},); "
            f"got shape {tuple(weights.shape)}"
        )
    w = weights.astype(per_example.dtype)[jnp.asarray(labels)]
    return jnp.sum(w * per_example) / jnp.sum(w)


def sigmoid_focal_loss(
    logits: jax.Array, targets: jax.Array, *, alpha: float | None = None, gamma: float = 2.0
) -> jax.Array:
    r"""Binary focal loss (Lin et al., 2017), mean over all elements.

    With :math:`p = \sigma(z)` and :math:`p_t = p` for :math:`y = 1`, :math:`1 - p` for :math:`y = 0`:

    .. math::

        \operatorname{FL} = -\alpha_t (1 - p_t)^\gamma \log p_t

    The factor :math:`(1 - p_t)^\gamma` shrinks the loss of easy, well-classified examples so
    that training focuses on hard ones; :math:`\gamma = 0` gives the binary cross-entropy.
    :math:`\alpha_t = \alpha` for positives and :math:`1 - \alpha` for negatives (no weighting
    when ``alpha`` is ``None``). The mean of ``optax.sigmoid_focal_loss``.

    Args:
        logits: scores :math:`z`, any shape.
        targets: targets :math:`y` in ``[0, 1]``, the shape of ``logits``.
        alpha: weight of the positive class, or ``None``.
        gamma: focusing exponent, at least 0.

    Returns:
        A scalar.

    Example:
        >>> sigmoid_focal_loss(jnp.array([0.0]), jnp.array([1.0]), gamma=0.0)
        Array(0.6931472, dtype=float32)
    """
    z, y = _pair(logits, targets, ("logits", "targets"))
    if gamma < 0:
        raise ValueError(f"gamma must be at least 0; got {gamma}")
    p = 1 / (1 + jnp.exp(-z))
    cross_entropy = jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z)))
    p_t = p * y + (1 - p) * (1 - y)
    loss = (1 - p_t) ** gamma * cross_entropy
    if alpha is not None:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return jnp.mean(loss)


def softmax_focal_loss(logits: jax.Array, labels: jax.Array, *, gamma: float = 2.0) -> jax.Array:
    r"""Multi-class focal loss, mean over the batch: :math:`-\frac1N \sum_n (1 - p_{n,y_n})^\gamma \log p_{n,y_n}`.

    :math:`p_n = \operatorname{softmax}(z_n)`; :math:`\gamma = 0` gives
    :func:`softmax_cross_entropy`.

    Args:
        logits: shape ``(N, K)``.
        labels: integer class ids, shape ``(N,)``.
        gamma: focusing exponent, at least 0.

    Returns:
        A scalar.

    Example:
        >>> softmax_focal_loss(jnp.zeros((1, 2)), jnp.array([0]), gamma=1.0)
        Array(0.3465736, dtype=float32)
    """
    if gamma < 0:
        raise ValueError(f"gamma must be at least 0; got {gamma}")
    nll = softmax_cross_entropy_per_example(logits, labels)
    p_true = jnp.exp(-nll)
    return jnp.mean((1 - p_true) ** gamma * nll)
