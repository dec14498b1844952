"""Training a GAN: one jitted step that updates D then G, an EMA of G, and a loop with samples.

Every step draws a batch of real images (uniformly, with replacement) and latent vectors, runs
the generator once, updates the discriminator on real and (gradient-stopped) fake images, then
back-propagates the generator loss through the *updated* discriminator into the generator with
the saved forward pass (``jax.vjp``), and finally moves the EMA weights towards the new generator
weights. Steps run in compiled chunks of ``log_every`` steps on device data; the Python loop
around them only shows a tqdm bar and records sample grids.
"""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from companion.gan.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from companion.train.model_state import split_model

DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_BETA1 = 0.5  # Radford et al.
DEFAULT_EMA_DECAY = 0.999
EMA_WARMUP = 10  # decay at step t is min(ema_decay, (1 + t) / (EMA_WARMUP + t))
DEFAULT_SAMPLES = 64
PIXEL_MAX = 255.0
METRICS = ("d_loss", "g_loss", "d_real", "d_fake")


def default_optimizer(learning_rate: float = DEFAULT_LEARNING_RATE) -> optax.GradientTransformation:
    """Adam with the DCGAN settings: ``optax.adam(learning_rate, b1=0.5)``.

    Args:
        learning_rate: the step size.

    Returns:
        An optax gradient transformation.

    Example:
        >>> tx = default_optimizer()
    """
    return optax.adam(learning_rate, b1=DEFAULT_BETA1)


def to_signed(images: jax.Array) -> jax.Array:
    """Map ``uint8`` pixels or floats in [0, 1] to float32 in [-1, 1], the generator's range.

    Args:
        images: ``(N, H, W, C)``.

    Returns:
        float32 images of the same shape in [-1, 1].

    Example:
        >>> to_signed(jnp.array([0, 255], jnp.uint8)).tolist()
        [-1.0, 1.0]
    """
    x = images.astype(jnp.float32)
    if images.dtype == jnp.uint8:
        x = x / jnp.float32(PIXEL_MAX)
    return x * 2 - 1


def to_unit(images: jax.Array) -> jax.Array:
    """Map generator outputs in [-1, 1] to [0, 1].

    Args:
        images: any shape, float.

    Returns:
        ``(images + 1) / 2``, clipped to [0, 1].

    Example:
        >>> to_unit(jnp.array([-1.0, 1.0])).tolist()
        [0.0, 1.0]
    """
    return jnp.clip((images + 1) / 2, 0, 1)


@dataclasses.dataclass
class GANHistory:
    """What :func:`train_gan` recorded.

    Attributes:
        steps: the step count after each logged chunk.
        d_loss: mean discriminator loss of each chunk.
        g_loss: mean generator loss of each chunk.
        d_real: mean ``D(x)`` (probability) on real images of each chunk.
        d_fake: mean ``D(G(z))`` on generated images, before the D update, of each chunk.
        sample_steps: the steps at which ``samples`` were drawn.
        samples: images in [0, 1], shape ``(num_samples, H, W, C)`` each, drawn from the EMA
            generator with the same latent vectors (and labels) every time.
        compile_seconds: time to compile the training chunk.
        steps_per_second: training speed, excluding compilation.

    Example:
        >>> GANHistory().steps
        []
    """

    steps: list[int] = dataclasses.field(default_factory=list)
    d_loss: list[float] = dataclasses.field(default_factory=list)
    g_loss: list[float] = dataclasses.field(default_factory=list)
    d_real: list[float] = dataclasses.field(default_factory=list)
    d_fake: list[float] = dataclasses.field(default_factory=list)
    sample_steps: list[int] = dataclasses.field(default_factory=list)
    samples: list[np.ndarray] = dataclasses.field(default_factory=list)
    compile_seconds: float = math.nan
    steps_per_second: float = math.nan


def make_gan_step(
    g_graph, d_graph, g_optimizer: optax.GradientTransformation, d_optimizer: optax.GradientTransformation, *,
    latent_dim: int, num_classes: int | None, loss: str = "non_saturating", ema_decay: float = DEFAULT_EMA_DECAY,
    aux_weight: float = 0.0,
):
    """Build the pure GAN step ``(state, key, real, labels, index=None) -> (state, metrics)``; jit it.

    ``state`` is ``(g_params, g_rest, d_params, d_rest, g_opt_state, d_opt_state, ema_params)``.

    Args:
        g_graph: the generator's graph in training mode (from ``split_model``).
        d_graph: the discriminator's graph in training mode.
        g_optimizer: optax transformation of the generator.
        d_optimizer: optax transformation of the discriminator.
        latent_dim: length of ``z``.
        num_classes: classes of conditional models (fakes get uniform random labels), or ``None``.
        loss: the generator loss, ``"non_saturating"`` or ``"minimax"``.
        ema_decay: the EMA's decay per step.
        aux_weight: weight of the auxiliary classification terms (AC-GAN; the discriminator
            must have ``auxiliary=True``): the discriminator's class head learns the real
            images' labels, and the generator is pushed to make images that head classifies as
            the requested class. ``0`` turns them off.

    Returns:
        The step function. ``real``: float32 ``(B, H, W, C)`` in [-1, 1]; ``labels``: int
        ``(B,)`` or ``None``; ``index``: the step number ``t`` (from 0), which warms the EMA up
        with the decay ``min(ema_decay, (1 + t) / (10 + t))`` so that the average forgets the
        random initial weights quickly (``None``: always ``ema_decay``).
        ``metrics``: dict of scalars ``d_loss``, ``g_loss``, ``d_real``,
        ``d_fake``.

    Example:
        >>> from companion.gan import Discriminator, Generator
        >>> g_graph, _, _ = split_model(Generator(rngs=nnx.Rngs(0)), training=True)
        >>> d_graph, _, _ = split_model(Discriminator(rngs=nnx.Rngs(1)), training=True)
        >>> step = make_gan_step(g_graph, d_graph, optax.adam(2e-4), optax.adam(2e-4),
        ...                      latent_dim=100, num_classes=None)
    """
    if loss not in GENERATOR_LOSSES:
        raise ValueError(f"loss must be one of {GENERATOR_LOSSES}; got {loss!r}")
    if aux_weight < 0 or (aux_weight and num_classes is None):
        raise ValueError(f"aux_weight must be >= 0, and > 0 only for conditional models; got {aux_weight} "
                         f"with num_classes={num_classes}")

    def scores(model, images, labels):
        # Only the auxiliary terms need the class head; any discriminator(images, labels) works without.
        if aux_weight:
            return model.scores(images, labels)
        return model(images, labels), None

    def step(state, key, real, labels, index=None):
        g_params, g_rest, d_params, d_rest, g_opt, d_opt, ema = state
        z_key, label_key = jax.random.split(key)
        batch = real.shape[0]
        z = jax.random.normal(z_key, (batch, latent_dim), jnp.float32)
        fake_labels = None if num_classes is None else jax.random.randint(label_key, (batch,), 0, num_classes)

        def generate(params, rest):
            model = nnx.merge(g_graph, params, rest)
            images = model(z, fake_labels)
            return images, nnx.state(model, nnx.Not(nnx.Param))

        fake, g_vjp, g_rest = jax.vjp(generate, g_params, g_rest, has_aux=True)

        def d_objective(params):
            model = nnx.merge(d_graph, params, d_rest)
            real_logits, real_classes = scores(model, real, labels)
            fake_logits, _ = scores(model, jax.lax.stop_gradient(fake), fake_labels)
            rest = nnx.state(model, nnx.Not(nnx.Param))
            objective = discriminator_loss(real_logits, fake_logits)
            if aux_weight:
                objective = objective + aux_weight * _class_loss(real_classes, labels)
            return objective, (real_logits, fake_logits, rest)

        (d_loss, (real_logits, fake_logits, d_rest)), d_grads = jax.value_and_grad(d_objective, has_aux=True)(
            d_params
        )
        with jax.numpy_dtype_promotion("standard"):  # optax mixes Python floats and int step counts
            d_updates, d_opt = d_optimizer.update(d_grads, d_opt, d_params)
        d_params = optax.apply_updates(d_params, d_updates)

        def g_objective(images):
            model = nnx.merge(d_graph, d_params, d_rest)
            logits, classes = scores(model, images, fake_labels)
            objective = generator_loss(logits, kind=loss)
            if aux_weight:
                objective = objective + aux_weight * _class_loss(classes, fake_labels)
            return objective

        g_loss, image_grads = jax.value_and_grad(g_objective)(fake)
        g_grads, _ = g_vjp(image_grads)
        with jax.numpy_dtype_promotion("standard"):
            g_updates, g_opt = g_optimizer.update(g_grads, g_opt, g_params)
        g_params = optax.apply_updates(g_params, g_updates)
        decay = jnp.float32(ema_decay)
        if index is not None:
            t = jnp.asarray(index, jnp.float32)
            decay = jnp.minimum(decay, (1 + t) / (EMA_WARMUP + t))
        ema = jax.tree.map(lambda e, p: decay * e + (1 - decay) * p, ema, g_params)
        metrics = {
            "d_loss": d_loss, "g_loss": g_loss,
            "d_real": jnp.mean(jax.nn.sigmoid(real_logits)), "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        }
        return (g_params, g_rest, d_params, d_rest, g_opt, d_opt, ema), metrics

    return step


def _class_loss(class_logits: jax.Array | None, labels: jax.Array) -> jax.Array:
    if class_logits is None:
        raise ValueError("aux_weight > 0 needs a discriminator built with auxiliary=True")
    return optax.softmax_cross_entropy_with_integer_labels(class_logits, labels).mean()


def _check_data(images, labels, generator, discriminator) -> tuple[jax.Array, jax.Array | None]:
    images = jnp.asarray(images)
    expected = tuple(generator.out_shape)
    if images.ndim != 4 or tuple(images.shape[1:]) != expected:
        raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}); got {tuple(images.shape)}")
    if images.dtype != jnp.uint8 and not jnp.issubdtype(images.dtype, jnp.floating):
        raise TypeError(f"images must be uint8 pixels or floats in [0, 1]; got dtype {images.dtype}")
    if tuple(discriminator.in_shape) != expected:
        raise ValueError(f"discriminator.in_shape {discriminator.in_shape} differs from generator.out_shape {expected}")
    if (generator.num_classes is None) != (labels is None) or generator.num_classes != discriminator.num_classes:
        raise ValueError(
            "labels must be given exactly when both models are conditional with the same num_classes; got "
            f"generator.num_classes={generator.num_classes}, discriminator.num_classes="
            f"{discriminator.num_classes}, labels {'given' if labels is not None else 'None'}"
        )
    if labels is not None:
        labels = jnp.asarray(labels, jnp.int32)
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have shape ({images.shape[0]},); got {tuple(labels.shape)}")
    return images, labels


def train_gan(
    key: jax.Array, generator: nnx.Module, discriminator: nnx.Module, images, labels=None, *, steps: int,
    batch_size: int = 64, g_optimizer: optax.GradientTransformation | None = None,
    d_optimizer: optax.GradientTransformation | None = None, loss: str = "non_saturating",
    ema_decay: float = DEFAULT_EMA_DECAY, log_every: int = 50, sample_every: int = 500,
    num_samples: int = DEFAULT_SAMPLES, progress: bool = True, aux_weight: float = 0.0,
) -> tuple[GANHistory, nnx.Module]:
    """Train ``generator`` and ``discriminator`` in place; return the history and the EMA generator.

    Args:
        key: a ``jax.random.key``; batches, latents and sample latents derive from it.
        generator: a :class:`Generator` (or any module with ``latent_dim``, ``num_classes`` and
            ``out_shape`` mapping ``(z, labels)`` to images in [-1, 1]).
        discriminator: a :class:`Discriminator` mapping ``(images, labels)`` to logits ``(N,)``.
        images: real images ``(N, H, W, C)``, ``uint8`` or float32 in [0, 1].
        labels: int labels ``(N,)`` for conditional models, else ``None``.
        steps: training steps (rounded up to a multiple of ``log_every``).
        batch_size: real (and fake) images per step.
        g_optimizer: the generator's optax transformation (default :func:`default_optimizer`).
        d_optimizer: the discriminator's (default :func:`default_optimizer`).
        loss: generator loss, ``"non_saturating"`` or ``"minimax"``.
        ema_decay: decay of the generator's exponential moving average per step, reached after a
            warm-up (see :func:`make_gan_step`).
        log_every: steps per compiled chunk; the losses are logged as chunk means.
        sample_every: record a sample grid every this many steps (rounded to ``log_every``),
            and after the last step.
        num_samples: images per recorded grid.
        progress: show a tqdm bar.
        aux_weight: weight of the AC-GAN auxiliary classification terms (see
            :func:`make_gan_step`); needs a discriminator with ``auxiliary=True``.

    Returns:
        ``(history, ema_generator)``: a :class:`GANHistory` and a copy of ``generator`` holding
        the EMA weights.

    Example:
        >>> from companion.gan import Discriminator, Generator
        >>> g, d = Generator(rngs=nnx.Rngs(0)), Discriminator(rngs=nnx.Rngs(1))
        >>> x = np.zeros((64, 28, 28, 1), np.uint8)
        >>> history, ema = train_gan(jax.random.key(0), g, d, x, steps=2, batch_size=8,
        ...                          log_every=1, progress=False)
        >>> history.steps
        [1, 2]
    """
    for name, value in (("steps", steps), ("batch_size", batch_size), ("log_every", log_every),
                        ("sample_every", sample_every), ("num_samples", num_samples)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    images, labels = _check_data(images, labels, generator, discriminator)
    if aux_weight and not getattr(discriminator, "auxiliary", False):
        raise ValueError(f"aux_weight={aux_weight} needs a discriminator built with auxiliary=True")
    g_optimizer = g_optimizer or default_optimizer()
    d_optimizer = d_optimizer or default_optimizer()
    g_graph, g_params, g_rest = split_model(generator, training=True)
    d_graph, d_params, d_rest = split_model(discriminator, training=True)
    eval_graph, _, _ = split_model(generator, training=False)
    num_classes = generator.num_classes
    step = make_gan_step(g_graph, d_graph, g_optimizer, d_optimizer, latent_dim=generator.latent_dim,
                         num_classes=num_classes, loss=loss, ema_decay=ema_decay, aux_weight=aux_weight)
    data_key, sample_key = jax.random.split(key)
    sample_z = jax.random.normal(sample_key, (num_samples, generator.latent_dim), jnp.float32)
    sample_labels = None if num_classes is None else jnp.arange(num_samples, dtype=jnp.int32) % num_classes

    def chunk(state, first):
        def body(i, carry):
            state, sums = carry
            k = jax.random.fold_in(data_key, first + i)
            index_key, step_key = jax.random.split(k)
            index = jax.random.randint(index_key, (batch_size,), 0, images.shape[0])
            batch_labels = None if labels is None else labels[index]
            state, metrics = step(state, step_key, to_signed(images[index]), batch_labels, first + i)
            return state, jax.tree.map(jnp.add, sums, metrics)

        zeros = {name: jnp.zeros((), jnp.float32) for name in METRICS}
        state, sums = jax.lax.fori_loop(0, log_every, body, (state, zeros))
        return state, jax.tree.map(lambda s: s / log_every, sums)

    def sample(ema, rest):
        return to_unit(nnx.merge(eval_graph, ema, rest)(sample_z, sample_labels))

    state = (g_params, g_rest, d_params, d_rest, g_optimizer.init(g_params), d_optimizer.init(d_params),
             g_params)
    # The chunk donates its state; copy first so that arrays shared with the caller's models (or
    # their nnx.clone copies) are never deleted under them.
    state = jax.tree.map(jnp.copy, state)
    started = time.perf_counter()
    chunk = jax.jit(chunk, donate_argnums=0).lower(state, jnp.int32(0)).compile()
    sample = jax.jit(sample)
    history = GANHistory(compile_seconds=time.perf_counter() - started)
    chunks = math.ceil(steps / log_every)
    sample_chunks = max(1, round(sample_every / log_every))
    history.sample_steps.append(0)
    history.samples.append(np.asarray(sample(state[-1], state[1])))
    bar = tqdm(total=chunks * log_every, disable=not progress, unit="step", dynamic_ncols=True)
    training_seconds = 0.0
    try:
        for c in range(chunks):
            started = time.perf_counter()
            state, means = jax.block_until_ready(chunk(state, jnp.int32(c * log_every)))
            training_seconds += time.perf_counter() - started
            done = (c + 1) * log_every
            history.steps.append(done)
            for name in METRICS:
                getattr(history, name).append(float(means[name]))
            if (c + 1) % sample_chunks == 0 or c == chunks - 1:
                history.sample_steps.append(done)
                history.samples.append(np.asarray(sample(state[-1], state[1])))
            bar.update(log_every)
            bar.set_postfix(d_loss=f"{history.d_loss[-1]:.3f}", g_loss=f"{history.g_loss[-1]:.3f}")
    finally:
        bar.close()
    history.steps_per_second = chunks * log_every / training_seconds if training_seconds else math.nan
    g_params, g_rest, d_params, d_rest, _, _, ema = state
    nnx.update(generator, g_params, g_rest)
    nnx.update(discriminator, d_params, d_rest)
    ema_generator = nnx.clone(generator)
    nnx.update(ema_generator, ema)
    return history, ema_generator


def generate(key: jax.Array, generator: nnx.Module, count: int, *, labels=None, batch_size: int = 500) -> np.ndarray:
    """Draw ``count`` images from ``generator`` in evaluation mode, as float32 in [0, 1].

    Args:
        key: a ``jax.random.key`` for the latent vectors.
        generator: a :class:`Generator`.
        count: number of images.
        labels: int labels ``(count,)`` for a conditional generator, else ``None``.
        batch_size: images per compiled call.

    Returns:
        NumPy array ``(count, H, W, C)`` in [0, 1].

    Example:
        >>> from companion.gan import Generator
        >>> generate(jax.random.key(0), Generator(rngs=nnx.Rngs(0)), 3).shape
        (3, 28, 28, 1)
    """
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be an int >= 1; got {count!r}")
    if (labels is None) != (generator.num_classes is None):
        raise ValueError("labels must be given exactly when the generator is conditional")
    if labels is not None:
        labels = jnp.asarray(labels, jnp.int32)
        if labels.shape != (count,):
            raise ValueError(f"labels must have shape ({count},); got {tuple(labels.shape)}")
    graphdef, params, rest = split_model(generator, training=False)
    z = jax.random.normal(key, (count, generator.latent_dim), jnp.float32)
    batch_size = min(batch_size, count)

    @jax.jit
    def run(params, rest, z, y):
        return to_unit(nnx.merge(graphdef, params, rest)(z, y))

    out = []
    for start in range(0, count, batch_size):
        zb = z[start : start + batch_size]
        yb = None if labels is None else labels[start : start + batch_size]
        pad = batch_size - zb.shape[0]
        if pad:
            zb = jnp.concatenate([zb, jnp.zeros((pad, zb.shape[1]), zb.dtype)])
            yb = None if yb is None else jnp.concatenate([yb, jnp.zeros((pad,), yb.dtype)])
        out.append(np.asarray(run(params, rest, zb, yb))[: batch_size - pad])
    return np.concatenate(out)
