"""DCGAN generator and discriminator (Radford et al., 2016), optionally class-conditional.

The generator maps a latent vector ``z`` to an image through a dense layer, reshaped to a
``side / 4`` square map, and two stride-2 upsampling layers; the discriminator mirrors it with
two stride-2 convolutions and a dense layer. The DCGAN rules hold: strided (transposed)
convolutions instead of pooling, batch normalisation in the generator, ReLU in the generator and
a ``tanh`` output, LeakyReLU in the discriminator.

Conditional models (``num_classes`` given) take integer labels too: the generator concatenates a
one-hot code to ``z``; the discriminator is a projection discriminator (Miyato and Koyama, 2018)
that adds ``<embed(y), features>`` to its logit. With ``auxiliary=True`` the discriminator also
has a class head on the same features (the auxiliary classifier of AC-GAN, Odena et al., 2017):
``train_gan(..., aux_weight=...)`` trains it on real images and asks the generator to produce
images it classifies as the requested class.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from companion.gan.upsample import OverlapAddConvTranspose, PhaseConvTranspose, ResizeConv
from companion.nn import Conv2D

SUPPORTED_SHAPES = ((28, 28, 1), (32, 32, 3))
UPSAMPLING_LAYERS = 2  # two stride-2 layers: side / 4 -> side / 2 -> side
REDUCTION = 2**UPSAMPLING_LAYERS
DEFAULT_WIDTH = 64
LEAKY_SLOPE = 0.2
DOWN_KERNEL = 4
BN_MOMENTUM = 0.9
UPSAMPLERS = {"overlap_add": OverlapAddConvTranspose, "phase": PhaseConvTranspose, "resize": ResizeConv}
DCGAN_INIT_STD = 0.02  # Radford et al.: weights from N(0, 0.02)


def _check_shape(shape, name: str) -> tuple[int, int, int]:
    shape = tuple(shape)
    if shape not in SUPPORTED_SHAPES:
        raise ValueError(f"{name} must be one of {SUPPORTED_SHAPES}; got {shape}")
    return shape


def _check_labels(labels, count: int, num_classes: int | None, name: str) -> jax.Array | None:
    if num_classes is None:
        if labels is not None:
            raise ValueError(f"{name} is unconditional (num_classes=None) but labels were given")
        return None
    if labels is None:
        raise ValueError(f"{name} is conditional (num_classes={num_classes}): pass labels of shape ({count},)")
    labels = jnp.asarray(labels)
    if labels.shape != (count,) or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"{name} expects integer labels of shape ({count},); got {labels.dtype}{list(labels.shape)}")
    return labels


class Generator(nnx.Module):
    """DCGAN generator: ``z`` (and a class label) to an image in ``[-1, 1]`` (``tanh`` output).

    Layers: dense to ``(side / 4, side / 4, 2 width)``, BatchNorm, ReLU; upsample to
    ``width`` channels, BatchNorm, ReLU; upsample to the image channels, ``tanh``. Map outputs to
    ``[0, 1]`` with ``(x + 1) / 2``.

    Args:
        latent_dim: length of the latent vector ``z``.
        out_shape: ``(28, 28, 1)`` (MNIST, Fashion-MNIST) or ``(32, 32, 3)`` (CIFAR-10).
        num_classes: number of classes of a conditional generator, or ``None``.
        width: channels of the last hidden map (the first has twice as many).
        upsample: an exact 4 x 4 stride-2 transposed convolution, computed by
            ``"overlap_add"`` (:class:`OverlapAddConvTranspose`, the fastest on CPU) or
            ``"phase"`` (:class:`PhaseConvTranspose`); or ``"resize"`` (:class:`ResizeConv`).
        rngs: the random streams for parameter initialisation.

    Example:
        >>> g = Generator(rngs=nnx.Rngs(0))
        >>> g(jnp.zeros((2, 100))).shape
        (2, 28, 28, 1)
    """

    def __init__(
        self, latent_dim: int = 100, *, out_shape=(28, 28, 1), num_classes: int | None = None,
        width: int = DEFAULT_WIDTH, upsample: str = "overlap_add", rngs: nnx.Rngs,
    ) -> None:
        self.out_shape = _check_shape(out_shape, "out_shape")
        if upsample not in UPSAMPLERS:
            raise ValueError(f"upsample must be one of {tuple(UPSAMPLERS)}; got {upsample!r}")
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
            raise ValueError(f"num_classes must be None or an int >= 2; got {num_classes!r}")
        self.latent_dim, self.num_classes, self.width = latent_dim, num_classes, width
        self.base = self.out_shape[0] // REDUCTION
        in_features = latent_dim + (num_classes or 0)
        hidden = 2 * width
        init = nnx.initializers.normal(DCGAN_INIT_STD)
        self.project = nnx.Linear(in_features, self.base * self.base * hidden, kernel_init=init, rngs=rngs)
        self.norm0 = nnx.BatchNorm(hidden, momentum=BN_MOMENTUM, rngs=rngs)
        layer = UPSAMPLERS[upsample]
        self.up1 = layer(hidden, width, rngs=rngs)
        self.norm1 = nnx.BatchNorm(width, momentum=BN_MOMENTUM, rngs=rngs)
        self.up2 = layer(width, self.out_shape[-1], rngs=rngs)

    def __call__(self, z: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        """Map ``z`` ``(N, latent_dim)`` (and int labels ``(N,)``) to images ``(N, H, W, C)`` in [-1, 1]."""
        if jnp.ndim(z) != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}); got shape {tuple(jnp.shape(z))}")
        labels = _check_labels(labels, z.shape[0], self.num_classes, "Generator")
        if labels is not None:
            z = jnp.concatenate([z, jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)], axis=-1)
        h = self.project(z).reshape(z.shape[0], self.base, self.base, 2 * self.width)
        h = jax.nn.relu(self.norm0(h))
        h = jax.nn.relu(self.norm1(self.up1(h)))
        return jnp.tanh(self.up2(h))


class Discriminator(nnx.Module):
    """DCGAN discriminator: images in ``[-1, 1]`` (and labels) to one real-vs-fake logit each.

    Layers: 4 x 4 stride-2 convolution to ``width`` channels, LeakyReLU(0.2); 4 x 4 stride-2
    convolution to ``2 width``, LeakyReLU; dense to one logit (plus the class projection of a
    conditional model).

    Args:
        in_shape: ``(28, 28, 1)`` or ``(32, 32, 3)``.
        num_classes: number of classes of a conditional discriminator, or ``None``.
        width: channels of the first convolution.
        auxiliary: add an auxiliary class head (conditional models only), read by
            :meth:`scores`.
        rngs: the random streams for parameter initialisation.

    Example:
        >>> d = Discriminator(rngs=nnx.Rngs(0))
        >>> d(jnp.zeros((2, 28, 28, 1))).shape
        (2,)
    """

    def __init__(
        self, *, in_shape=(28, 28, 1), num_classes: int | None = None, width: int = DEFAULT_WIDTH,
        auxiliary: bool = False, rngs: nnx.Rngs,
    ) -> None:
        self.in_shape = _check_shape(in_shape, "in_shape")
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 2):
            raise ValueError(f"num_classes must be None or an int >= 2; got {num_classes!r}")
        if auxiliary and num_classes is None:
            raise ValueError("auxiliary=True needs a conditional discriminator: pass num_classes")
        self.num_classes, self.width, self.auxiliary = num_classes, width, auxiliary
        init = nnx.initializers.normal(DCGAN_INIT_STD)
        conv = dict(strides=2, padding="SAME", kernel_init=init, rngs=rngs)
        self.conv1 = Conv2D(self.in_shape[-1], width, DOWN_KERNEL, **conv)
        self.conv2 = Conv2D(width, 2 * width, DOWN_KERNEL, **conv)
        side = self.in_shape[0] // REDUCTION
        self.features = side * side * 2 * width
        self.head = nnx.Linear(self.features, 1, kernel_init=init, rngs=rngs)
        self.embed = nnx.Embed(num_classes, self.features, embedding_init=init, rngs=rngs) if num_classes else None
        self.classify = nnx.Linear(self.features, num_classes, kernel_init=init, rngs=rngs) if auxiliary else None

    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        """Map images ``(N, H, W, C)`` in [-1, 1] (and int labels ``(N,)``) to logits ``(N,)``."""
        return self.scores(x, labels)[0]

    def scores(self, x: jax.Array, labels: jax.Array | None = None) -> tuple[jax.Array, jax.Array | None]:
        """The real-vs-fake logits ``(N,)`` and the auxiliary class logits ``(N, K)`` (or ``None``).

        Args:
            x: images ``(N, H, W, C)`` in [-1, 1].
            labels: int labels ``(N,)`` of a conditional model, else ``None``.

        Returns:
            ``(logits, class_logits)``; ``class_logits`` is ``None`` without ``auxiliary``.

        Example:
            >>> d = Discriminator(num_classes=10, auxiliary=True, rngs=nnx.Rngs(0))
            >>> [a.shape for a in d.scores(jnp.zeros((2, 28, 28, 1)), jnp.array([0, 1]))]
            [(2,), (2, 10)]
        """
        if jnp.ndim(x) != 4 or tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"x must have shape (N, {', '.join(map(str, self.in_shape))}); got {tuple(jnp.shape(x))}")
        labels = _check_labels(labels, x.shape[0], self.num_classes, "Discriminator")
        h = jax.nn.leaky_relu(self.conv1(x), LEAKY_SLOPE)
        h = jax.nn.leaky_relu(self.conv2(h), LEAKY_SLOPE).reshape(x.shape[0], -1)
        logits = self.head(h)[:, 0]
        if labels is not None:
            logits = logits + jnp.sum(self.embed(labels) * h, axis=-1)
        return logits, (self.classify(h) if self.classify is not None else None)
