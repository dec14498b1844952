"""The LeNet feature extractor behind "FID with a LeNet-style network"."""

import numpy as np
import pytest
from flax import nnx

from companion.gan import extract_features, fid, lenet_features, train_feature_classifier
from companion.nn import LeNet5


def test_features_are_the_penultimate_layer():
    model = LeNet5(rngs=nnx.Rngs(0))
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    features = lenet_features(model, x)
    np.testing.assert_allclose(model.dense3(features), model(x), rtol=1e-5, atol=1e-5)


def test_extract_features_batches_and_accepts_uint8():
    model = LeNet5(rngs=nnx.Rngs(0))
    pixels = np.random.default_rng(1).integers(0, 256, (7, 28, 28, 1), dtype=np.uint8)
    whole = extract_features(model, pixels, batch_size=7)
    np.testing.assert_allclose(extract_features(model, pixels, batch_size=3), whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(extract_features(model, pixels.astype(np.float32) / 255), whole, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N, H, W, 1\)"):
        extract_features(model, np.zeros((2, 28, 28, 3), np.uint8))


def test_trained_features_separate_classes(key):
    rng = np.random.default_rng(2)
    images = np.zeros((128, 28, 28, 1), np.uint8)
    labels = np.arange(128, dtype=np.int32) % 2
    images[labels == 1, :14] = 255
    images = np.clip(images + rng.integers(0, 30, images.shape), 0, 255).astype(np.uint8)
    model, history = train_feature_classifier(key, (images.astype(np.float32) / 255, labels), epochs=2, batch_size=32)
    features = extract_features(model, images)
    zeros, ones = features[labels == 0], features[labels == 1]
    assert fid(zeros, ones) > 10 * fid(zeros[:32], zeros[32:])
    assert history.epochs == 2 and features.shape == (128, 84)
