"""Data helpers: MNIST (online or from a local npz), binarisation, fast mode.

``load_mnist`` keeps Keras' download as the default; offline, point it at a
local npz in Keras' ``mnist.npz`` format with ``path=`` or the environment
variable ``VAE_KERAS_MNIST``.
"""

import os

import numpy as np

MNIST_ENV = "VAE_KERAS_MNIST"
FAST_ENV = "VAE_KERAS_FAST"
_MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


def fast_mode():
    """True when ``VAE_KERAS_FAST`` is set to 1/true/yes (the test runs set it)."""
    return os.environ.get(FAST_ENV, "0").strip().lower() in ("1", "true", "yes", "on")


def by_mode(full, fast):
    """Returns ``fast`` in fast mode and ``full`` otherwise.

    Example:

    >>> epochs = by_mode(full=30, fast=2)
    """
    return fast if fast_mode() else full


def _scale_images(images):
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"MNIST images must have shape (n, 28, 28); received {images.shape}.")
    if images.dtype != np.uint8:  # dividing floats by 255 would rescale twice
        raise ValueError(
            f"MNIST images must be uint8 in 0..255 as in Keras' mnist.npz; received {images.dtype}."
        )
    return (images.astype("float32") / 255.0)[..., None]


def _load_npz(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No MNIST npz at {path!r}.")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in _MNIST_KEYS if k not in data.files]
        if missing:
            raise ValueError(
                f"{path!r} is not in Keras' mnist.npz format: missing keys {missing}; "
                f"expected {list(_MNIST_KEYS)}."
            )
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def load_mnist(path=None):
    """Loads MNIST as float32 images in [0, 1] of shape ``(n, 28, 28, 1)``.

    Args:
        path: Optional local npz in Keras' ``mnist.npz`` format. If None,
            the environment variable ``VAE_KERAS_MNIST`` is used when set,
            else ``keras.datasets.mnist.load_data()`` (downloads once).

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; labels are int64.

    Raises:
        RuntimeError: when the download fails and no local file is given;
            the message says both ways to fix it.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape                                        # doctest: +SKIP
    (60000, 28, 28, 1)
    """
    path = path or os.environ.get(MNIST_ENV) or None
    if path is not None:
        (x_train, y_train), (x_test, y_test) = _load_npz(os.fspath(path))
    else:
        import keras

        try:
            (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
        except Exception as error:  # offline: urllib, ssl, socket errors
            raise RuntimeError(
                "Could not download MNIST with keras.datasets.mnist.load_data() "
                f"({type(error).__name__}: {error}). Either connect to the internet, "
                "or point to a local npz in Keras' mnist.npz format with "
                f"load_mnist(path='.../mnist.npz') or the environment variable {MNIST_ENV}."
            ) from error
    return (
        (_scale_images(x_train), np.asarray(y_train, dtype="int64")),
        (_scale_images(x_test), np.asarray(y_test, dtype="int64")),
    )


def binarize(x, method="stochastic", seed=0, threshold=0.5):
    """Turns grey levels in [0, 1] into {0, 1} pixels.

    Args:
        x: Array of intensities in [0, 1].
        method: ``"stochastic"``: each pixel is 1 with probability equal to
            its intensity (the usual protocol for likelihoods on binarised
            MNIST), drawn with ``seed``; ``"threshold"``: 1 where
            ``x > threshold``.
        seed: Seed for the stochastic draw; the same seed gives the same
            images.
        threshold: Cut-off for ``method="threshold"``.

    Returns:
        float32 array of 0.0 and 1.0 with the shape of ``x``.
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"`seed` must be an int or None; received {seed!r}.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"`threshold` must be a number in [0, 1]; received {threshold!r}.")
    x = np.asarray(x, dtype="float32")
    if x.size and (np.isnan(x).any() or x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(
            f"binarize expects values in [0, 1]; received values in "
            f"[{np.nanmin(x):g}, {np.nanmax(x):g}] (NaN present: {bool(np.isnan(x).any())})."
        )
    if method == "stochastic":
        return (np.random.default_rng(seed).random(x.shape) < x).astype("float32")
    if method == "threshold":
        return (x > threshold).astype("float32")
    raise ValueError(f"`method` must be 'stochastic' or 'threshold'; received {method!r}.")


def one_hot(labels, num_classes=10):
    """One-hot float32 rows for integer labels in ``[0, num_classes)``."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"`labels` must be a 1-D integer array; received {labels.dtype} {labels.shape}.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"`labels` must lie in [0, {num_classes}); received [{labels.min()}, {labels.max()}]."
        )
    return np.eye(num_classes, dtype="float32")[labels]


def flatten(x):
    """Reshapes ``(n, ...)`` images to ``(n, features)`` rows."""
    x = np.asarray(x)
    return x.reshape(len(x), -1)
