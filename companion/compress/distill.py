"""Knowledge distillation (Hinton et al., 2015): train a small student on a teacher's soft labels."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

DEFAULT_TEMPERATURE = 4.0
DEFAULT_ALPHA = 0.7


def distillation_loss(
    student_logits: jax.Array, teacher_logits: jax.Array, labels: jax.Array, *,
    temperature: float = DEFAULT_TEMPERATURE, alpha: float = DEFAULT_ALPHA,
) -> jax.Array:
    """Hinton's distillation loss: soft-target KL divergence mixed with the hard-label loss.

    .. math::

        L = \\alpha\\, T^2\\, \\mathrm{KL}\\big(\\operatorname{softmax}(t / T)\\,\\big\\|\\,
        \\operatorname{softmax}(s / T)\\big) + (1 - \\alpha)\\, \\mathrm{CE}(y, s)

    The factor :math:`T^2` keeps the gradients of the soft term at the same scale as the hard
    term's when the temperature changes.

    Args:
        student_logits: ``(B, K)``.
        teacher_logits: ``(B, K)`` (no gradient flows into them).
        labels: ``(B,)`` integer classes.
        temperature: :math:`T > 0`; higher values soften both distributions.
        alpha: weight of the soft term, in [0, 1].

    Returns:
        A float32 scalar (the batch mean).

    Example:
        >>> z = jnp.array([[2.0, 0.0]])
        >>> float(distillation_loss(z, z, jnp.array([0]), alpha=1.0))
        0.0
    """
    if student_logits.shape != teacher_logits.shape or student_logits.ndim != 2:
        raise ValueError(
            f"student_logits and teacher_logits must both be (B, K); got {tuple(student_logits.shape)} "
            f"and {tuple(teacher_logits.shape)}"
        )
    if temperature <= 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"temperature must be > 0 and alpha in [0, 1]; got {temperature} and {alpha}")
    teacher = jax.lax.stop_gradient(teacher_logits)
    t = jnp.float32(temperature)
    soft_teacher = jax.nn.log_softmax(teacher / t, axis=-1)
    soft_student = jax.nn.log_softmax(student_logits / t, axis=-1)
    kl = jnp.sum(jnp.exp(soft_teacher) * (soft_teacher - soft_student), axis=-1).mean()
    hard = optax.softmax_cross_entropy_with_integer_labels(student_logits, labels).mean()
    return jnp.float32(alpha) * t * t * kl + jnp.float32(1.0 - alpha) * hard
