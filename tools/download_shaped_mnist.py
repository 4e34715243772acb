"""Writes an MNIST npz with the shapes of Keras' download from a smaller one.

Keras' ``mnist.npz`` holds 60,000 training and 10,000 test images; the
offline file this course is tested with holds 8,000 / 2,000. To prove that
every notebook prints the same kind of output with the download, CI runs
the notebooks once on a file of the download's shapes made by this script:
each split is filled with copies of its own images, drawn with replacement
in a seeded random order, so the first 8,000 / 2,000 images (the course's
data rule) are other images than the source's first ones, as they would be
with the download, yet still real digits. Train and test copies come only
from their own split, so no held-out image is a copy of a training image
unless the source already had one.

Usage::

    python tools/download_shaped_mnist.py SOURCE.npz OUT.npz [--seed 0]
"""

import argparse
import sys

import numpy as np

SHAPES = {"train": 60_000, "test": 10_000}  # keras.datasets.mnist.load_data()


def _fill(images, labels, n, rng):
    picks = rng.integers(0, len(images), size=n)
    return images[picks].astype(np.uint8), labels[picks].astype(np.uint8)


def make(source, out, seed=0):
    """Writes ``out`` with 60,000 / 10,000 images drawn from ``source``'s splits."""
    rng = np.random.default_rng(seed)
    arrays = {}
    with np.load(source, allow_pickle=False) as data:
        for split, n in SHAPES.items():
            images, labels = data[f"x_{split}"], data[f"y_{split}"]
            if images.dtype != np.uint8 or images.ndim != 3:
                raise ValueError(f"{source}: x_{split} must be uint8 (n, 28, 28); "
                                 f"received {images.dtype} {images.shape}.")
            arrays[f"x_{split}"], arrays[f"y_{split}"] = _fill(images, labels, n, rng)
    np.savez(out, **arrays)
    return {key: value.shape for key, value in arrays.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    shapes = make(args.source, args.out, args.seed)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in shapes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
