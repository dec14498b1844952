"""Augmentation throughput: the companion Pipeline against a per-image NumPy/Pillow loop and dm-pix.

The realistic pipeline is: random left-right flip, random translation (up to 4 px), random rotation
(up to 15 degrees), random brightness and contrast, cutout. Inputs are batches of 256 CIFAR-10
images (32x32x3) and 256 MNIST images (28x28x1) from ``companion.data.load`` (random pixels if the
datasets cannot be found). All three implementations run in the same process on the same inputs:

* ``companion``: one jitted :class:`companion.augment.Pipeline` call per batch;
* ``per_image``: a per-image NumPy/Pillow loop, as a learner would write it;
* ``dm_pix``: the same ops from dm-pix, vmapped and jitted (cutout written with ``jnp.where``).

It also times one SeedCNN training step on a batch of 256 MNIST images beside the augmentation of
that batch, which estimates what augmentation adds to a training epoch. Medians of ``--repeats``
timed calls after a warm-up; compile time is reported separately. Prints one JSON line. Usage::

    python benchmarks/augment.py [--repeats 10] [--quick]
"""

from __future__ import annotations

import itertools

import common
import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from companion import augment as A

BATCH = 256
MAX_SHIFT = 4
MAX_DEGREES = 15.0
MAX_DELTA = 0.2
CONTRAST = (0.8, 1.2)
CUTOUT = 8
FLIP_P = 0.5


def load_images(name: str, shape: tuple[int, int, int]) -> tuple[np.ndarray, str]:
    try:
        from companion.data import load

        data = load(name, "train", download=False)
        return (data.images[:BATCH].astype(np.float32) / 255.0), "real"
    except Exception:  # no dataset here: random pixels of the same shape
        return np.random.default_rng(0).random((BATCH, *shape), dtype=np.float32), "random"


def companion_pipeline() -> A.Pipeline:
    return A.Pipeline([
        A.Step(A.random_flip_left_right, p=FLIP_P),
        A.Step(A.random_translate, max_dx=MAX_SHIFT),
        A.Step(A.random_rotate, max_degrees=MAX_DEGREES),
        A.Step(A.random_brightness, max_delta=MAX_DELTA),
        A.Step(A.random_contrast, factors=CONTRAST),
        A.Step(A.cutout, size=CUTOUT),
    ])


def per_image_numpy(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = []
    for img in images:
        if rng.random() < FLIP_P:
            img = img[:, ::-1]
        h, w = img.shape[:2]
        dx, dy = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        shifted = np.zeros_like(img)
        shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = (
            img[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)])
        angle = rng.uniform(-MAX_DEGREES, MAX_DEGREES)
        img = np.stack([
            np.asarray(Image.fromarray(np.ascontiguousarray(shifted[..., c])).rotate(angle, resample=Image.BILINEAR))
            for c in range(img.shape[2])
        ], axis=-1)
        img = img + rng.uniform(-MAX_DELTA, MAX_DELTA)
        mean = img.mean(axis=(0, 1), keepdims=True)
        img = np.clip(mean + rng.uniform(*CONTRAST) * (img - mean), 0, 1)
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        img[max(cy - CUTOUT // 2, 0):cy + CUTOUT // 2, max(cx - CUTOUT // 2, 0):cx + CUTOUT // 2] = 0
        out.append(img)
    return np.stack(out)


def dm_pix_pipeline():
    import dm_pix as pix

    def one(key, img):
        k = jax.random.split(key, 7)
        img = pix.random_flip_left_right(k[0], img, probability=FLIP_P)
        shift = jax.random.uniform(k[1], (2,), minval=-MAX_SHIFT, maxval=MAX_SHIFT)
        matrix = jnp.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
        matrix = matrix.at[0, 3].set(-shift[0]).at[1, 3].set(-shift[1])
        img = pix.affine_transform(img, matrix, mode="constant")
        angle = jnp.deg2rad(jax.random.uniform(k[2], (), minval=-MAX_DEGREES, maxval=MAX_DEGREES))
        img = pix.rotate(img, angle, mode="constant")
        img = pix.random_brightness(k[3], img, MAX_DELTA)
        img = jnp.clip(pix.random_contrast(k[4], img, *CONTRAST), 0, 1)
        h, w = img.shape[:2]
        cy = jax.random.randint(k[5], (), 0, h)
        cx = jax.random.randint(k[6], (), 0, w)
        rows, cols = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
        box = (jnp.abs(rows - cy) <= CUTOUT // 2) & (jnp.abs(cols - cx) <= CUTOUT // 2)
        return jnp.where(box[..., None], 0.0, img)

    batched = jax.jit(jax.vmap(one))
    return lambda key, images: batched(jax.random.split(key, images.shape[0]), images)


def timed(fn, repeats: int) -> tuple[float, float]:
    """Return (first call incl. compile, median of later calls), in seconds; call ``i`` gets ``fn(i)``."""
    calls = itertools.count(1)
    first = common.first_call_seconds(lambda: fn(0))
    return first, common.median_seconds(lambda: fn(next(calls)), repeats=repeats, warmup=0)


def seed_cnn_step_time(images: np.ndarray, repeats: int) -> float | None:
    try:
        import optax
        from flax import nnx

        from companion.nn import SeedCNN
    except ImportError:
        return None
    model = SeedCNN(rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    labels = jnp.zeros((images.shape[0],), jnp.int32)

    @nnx.jit
    def step(model, optimizer, x, y):
        def loss_fn(model):
            logits = model(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    x = jnp.asarray(images)
    _, median = timed(lambda i: step(model, optimizer, x, labels), repeats)
    return median


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--repeats", type=int, default=10, help="timed calls (median reported), at least 5")
    args = parser.parse_args()
    if args.quick:
        args.repeats = common.MIN_REPEATS
    pipe, pix_pipe = companion_pipeline(), dm_pix_pipeline()
    result = {"benchmark": "augment", "batch_size": BATCH, "repeats": args.repeats,
              "pipeline": "flip, translate, rotate, brightness, contrast, cutout"}
    summary = []
    for name, shape in (("cifar10", (32, 32, 3)), ("mnist", (28, 28, 1))):
        images, source = load_images(name, shape)
        device_images = jnp.asarray(images)
        compile_c, companion = timed(lambda i, x=device_images: pipe(jax.random.key(i), x), args.repeats)
        compile_p, dm_pix = timed(lambda i, x=device_images: pix_pipe(jax.random.key(i), x), args.repeats)
        _, per_image = timed(lambda i, x=images: per_image_numpy(x, np.random.default_rng(i)), args.repeats)
        result[name] = {
            "images": source,
            "companion_ms": round(companion * 1e3, 3),
            "dm_pix_ms": round(dm_pix * 1e3, 3),
            "per_image_numpy_ms": round(per_image * 1e3, 3),
            "companion_compile_s": round(compile_c, 2),
            "dm_pix_compile_s": round(compile_p, 2),
            "speedup_vs_per_image": round(per_image / companion, 1),
            "speedup_vs_dm_pix": round(dm_pix / companion, 2),
        }
        ours = f"{companion * 1e3:.1f} ms/batch"
        summary.append(common.row(f"augment {name} vs per-image NumPy/Pillow", ours=ours,
                                  reference=f"{per_image * 1e3:.1f} ms/batch (per image)",
                                  ratio=per_image / companion, compile_s=compile_c))
        summary.append(common.row(f"augment {name} vs dm-pix", ours=ours,
                                  reference=f"{dm_pix * 1e3:.1f} ms/batch (dm-pix)",
                                  ratio=dm_pix / companion, compile_s=compile_c))
        if name == "mnist":
            step = seed_cnn_step_time(images, args.repeats)
            if step is not None:
                result[name]["seed_cnn_step_ms"] = round(step * 1e3, 3)
                result[name]["augment_overhead_per_epoch"] = round(companion / step, 3)
    result["summary"] = summary
    common.emit(result, quick=args.quick)


if __name__ == "__main__":
    main()
