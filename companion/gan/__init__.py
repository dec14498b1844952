"""Generative adversarial networks: DCGAN and conditional models, fast upsampling, training, FID.

``Generator`` and ``Discriminator`` are DCGAN models for 28 x 28 grey and 32 x 32 RGB images,
conditional when given ``num_classes``; ``train_gan`` trains them with one jitted step that
updates D then G and keeps an EMA of G; ``fid`` measures the Fréchet distance between feature
sets, here features of a LeNet-style classifier (not comparable with Inception FID).
"""

from companion.gan.features import extract_features, lenet_features, train_feature_classifier
from companion.gan.fid import fid, frechet_distance, gaussian_statistics, psd_sqrt
from companion.gan.grid import image_grid
from companion.gan.losses import (
    discriminator_loss,
    generator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
)
from companion.gan.models import Discriminator, Generator
from companion.gan.training import (
    GANHistory,
    default_optimizer,
    generate,
    make_gan_step,
    to_signed,
    to_unit,
    train_gan,
)
from companion.gan.upsample import (
    OverlapAddConvTranspose,
    PhaseConvTranspose,
    ResizeConv,
    conv_transpose_overlap_add,
    conv_transpose_phase,
    default_batch_chunks,
    phase_kernel,
    pixel_shuffle,
    tap_matrix,
)

__all__ = [
    "Discriminator",
    "GANHistory",
    "Generator",
    "OverlapAddConvTranspose",
    "PhaseConvTranspose",
    "ResizeConv",
    "conv_transpose_overlap_add",
    "conv_transpose_phase",
    "default_batch_chunks",
    "default_optimizer",
    "discriminator_loss",
    "extract_features",
    "fid",
    "frechet_distance",
    "gaussian_statistics",
    "generate",
    "generator_loss",
    "image_grid",
    "lenet_features",
    "make_gan_step",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "phase_kernel",
    "pixel_shuffle",
    "psd_sqrt",
    "tap_matrix",
    "to_signed",
    "to_unit",
    "train_feature_classifier",
    "train_gan",
]
