"""Shared fixtures for the package tests: synthetic digit-like images and a
fake MNIST file in Keras' ``mnist.npz`` format, so no test needs a network.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The worked solutions (solutions/) live at the repository root, outside the
# installed package: make them importable for the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pytest


def make_digit_like_images(n, seed=0):
    """uint8 images (n, 28, 28) with labels (n,): ten stroke patterns.

    Each class is a fixed arrangement of thick bars, shifted by up to two
    pixels and with a few flipped pixels, so the images share structure a
    VAE can learn (the loss falls) but are not identical.
    """
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, 32, 32), dtype=bool)
    for label in range(10):
        strokes = np.random.default_rng(1000 + label).integers(0, 4, size=3)
        for k, kind in enumerate(strokes):
            offset = 8 + 6 * k
            if kind == 0:
                templates[label, offset:offset + 3, 6:26] = True  # horizontal
            elif kind == 1:
                templates[label, 6:26, offset:offset + 3] = True  # vertical
            elif kind == 2:
                idx = np.arange(6, 26)
                for w in range(3):
                    templates[label, idx, np.clip(idx + w + k - 1, 0, 31)] = True
            else:
                templates[label, 6:26, 6:9] = True
                templates[label, 23:26, 6:26] = True
    labels = rng.integers(0, 10, size=n)
    shifts = rng.integers(0, 5, size=(n, 2))
    images = np.empty((n, 28, 28), dtype=np.uint8)
    for i in range(n):
        r, c = shifts[i]
        patch = templates[labels[i], r:r + 28, c:c + 28]
        noise = rng.random((28, 28)) < 0.02
        images[i] = np.where(patch ^ noise, 255, 0)
    # Grey edges, like anti-aliased MNIST strokes, so values are not all 0/255.
    images[:, :, 0] = 128
    return images, labels.astype(np.uint8)


def write_fake_mnist(path, n_train=64, n_test=16, seed=0, drop=()):
    """Writes a Keras-format mnist.npz (uint8 images, uint8 labels)."""
    x_train, y_train = make_digit_like_images(n_train, seed)
    x_test, y_test = make_digit_like_images(n_test, seed + 1)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    for key in drop:
        del arrays[key]
    np.savez(path, **arrays)
    return arrays


@pytest.fixture
def write_mnist_npz():
    """The writer itself, for tests that need several files (a fixture, so
    test modules never import ``conftest`` by name)."""
    return write_fake_mnist


@pytest.fixture
def fake_mnist(tmp_path):
    """Path of a small fake mnist.npz plus the arrays written to it."""
    path = tmp_path / "mnist.npz"
    arrays = write_fake_mnist(path)
    return path, arrays


@pytest.fixture(scope="session")
def grey_digit_images():
    """(x, labels): 256 float32 images (256, 28, 28, 1) in [0, 1] with grey edges."""
    images, labels = make_digit_like_images(256, seed=42)
    x = (images.astype("float32") / 255.0)[..., None]
    return x, labels.astype("int64")


@pytest.fixture(scope="session")
def digit_images(grey_digit_images):
    """(x, labels): the same images binarised (pixels exactly 0.0 or 1.0)."""
    x, labels = grey_digit_images
    return (x > 0.5).astype("float32"), labels
