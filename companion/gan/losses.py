r"""GAN losses on discriminator logits ``l`` (``D(x) = sigmoid(l)``), as means over the batch.

The discriminator minimises the binary cross-entropy of real against fake,

.. math::

    L_D = -\log D(x) - \log(1 - D(G(z))) = \operatorname{softplus}(-l_\text{real})
          + \operatorname{softplus}(l_\text{fake}).

The generator of the original minimax game (Goodfellow et al., 2014) minimises
:math:`\log(1 - D(G(z))) = -\operatorname{softplus}(l_\text{fake})`, whose gradient vanishes
when the discriminator confidently rejects the fakes; the non-saturating generator minimises
:math:`-\log D(G(z)) = \operatorname{softplus}(-l_\text{fake})` instead. Both are written with
``softplus`` so that they stay finite for any logit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

GENERATOR_LOSSES = ("non_saturating", "minimax")


def _check_logits(logits, name: str) -> jax.Array:
    logits = jnp.asarray(logits)
    if logits.ndim != 1 or not jnp.issubdtype(logits.dtype, jnp.floating):
        raise ValueError(f"{name} must be float logits of shape (N,); got {logits.dtype}{list(logits.shape)}")
    return logits


def discriminator_loss(real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """Binary cross-entropy of the discriminator: real images labelled 1, generated ones 0.

    Args:
        real_logits: logits on real images, shape ``(N,)``.
        fake_logits: logits on generated images, shape ``(M,)``.

    Returns:
        Scalar: ``mean(softplus(-real_logits)) + mean(softplus(fake_logits))``.

    Example:
        >>> float(discriminator_loss(jnp.zeros(4), jnp.zeros(4)))  # 2 log 2
        1.3862943649291992
    """
    real_logits = _check_logits(real_logits, "real_logits")
    fake_logits = _check_logits(fake_logits, "fake_logits")
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits: jax.Array) -> jax.Array:
    """The generator loss used in practice: ``-log D(G(z))``.

    Args:
        fake_logits: discriminator logits on generated images, shape ``(N,)``.

    Returns:
        Scalar: ``mean(softplus(-fake_logits))``.

    Example:
        >>> float(non_saturating_generator_loss(jnp.zeros(3)))  # log 2
        0.6931471824645996
    """
    return jnp.mean(jax.nn.softplus(-_check_logits(fake_logits, "fake_logits")))


def minimax_generator_loss(fake_logits: jax.Array) -> jax.Array:
    """The generator's side of the original minimax game: ``log(1 - D(G(z)))``, minimised.

    Args:
        fake_logits: discriminator logits on generated images, shape ``(N,)``.

    Returns:
        Scalar: ``-mean(softplus(fake_logits))``.

    Example:
        >>> float(minimax_generator_loss(jnp.zeros(3)))  # log(1/2)
        -0.6931471824645996
    """
    return -jnp.mean(jax.nn.softplus(_check_logits(fake_logits, "fake_logits")))


def generator_loss(fake_logits: jax.Array, *, kind: str = "non_saturating") -> jax.Array:
    """The generator loss named by ``kind``: ``"non_saturating"`` or ``"minimax"``.

    Args:
        fake_logits: discriminator logits on generated images, shape ``(N,)``.
        kind: which loss.

    Returns:
        Scalar loss.

    Example:
        >>> float(generator_loss(jnp.zeros(3), kind="minimax"))
        -0.6931471824645996
    """
    if kind == "non_saturating":
        return non_saturating_generator_loss(fake_logits)
    if kind == "minimax":
        return minimax_generator_loss(fake_logits)
    raise ValueError(f"kind must be one of {GENERATOR_LOSSES}; got {kind!r}")
