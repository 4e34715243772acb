"""Data helpers: MNIST (online or from a local npz), binarisation, fast mode.

``load_mnist`` keeps Keras' download as the default; offline, point it at a
local npz in Keras' ``mnist.npz`` format with ``path=`` or the environment
variable ``VAE_KERAS_MNIST``.

The course's data rule: every notebook trains and scores on a stated number
of images, the first ``n_train`` / ``n_test`` of each split, whatever the
source (at most ``N_TRAIN = 8000`` and ``N_TEST = 2000``), so the offline
8,000 / 2,000 file, the 60,000 / 10,000 download and Colab give outputs of the
same kind in the same time. ``VAE_KERAS_ALL_DATA=1`` (:func:`all_data`) lifts
the caps for a machine with a GPU: ``load_mnist`` then returns every image.

The course's binarisation protocol (one for every number it reports): a
pixel is 1 with probability equal to its grey level (stochastic
binarisation, as in Salakhutdinov & Murray, 2008, and Burda et al., 2016).
Held-out images are drawn ONCE, with seed ``TEST_SEED = 1``, so every model
is scored on the same binary images; training images are drawn afresh every
epoch (:class:`DynamicBinarization`, seed ``TRAIN_SEED = 0``), or once with
``TRAIN_SEED`` where a fixed set is simpler. Log-likelihoods are in nats per
image under a Bernoulli likelihood on these binary images.
"""

import math
import os

import keras
import numpy as np

from vae_keras.models import _check_positive_int, _check_seed, check_data

MNIST_ENV = "VAE_KERAS_MNIST"
FAST_ENV = "VAE_KERAS_FAST"
ALL_DATA_ENV = "VAE_KERAS_ALL_DATA"
N_TRAIN = 8_000  # the course's training images, whatever the source
N_TEST = 2_000  # the course's held-out images, whatever the source
TRAIN_SEED = 0
TEST_SEED = 1
_MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _env_flag(name):
    return os.environ.get(name, "0").strip().lower() in ("1", "true", "yes", "on")


def fast_mode():
    """True when ``VAE_KERAS_FAST`` is set to 1/true/yes (the test runs set it)."""
    return _env_flag(FAST_ENV)


def all_data():
    """True when ``VAE_KERAS_ALL_DATA`` is 1/true/yes: ``load_mnist`` ignores its caps.

    The switch for a machine with a GPU: the notebooks then train and score
    on every image of the source (60,000 / 10,000 with Keras' download)
    instead of the course's stated numbers. Off by default.
    """
    return _env_flag(ALL_DATA_ENV)


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


def _check_count(value, name):
    if value is None:
        return None
    return _check_positive_int(value, name)


def _first(arrays, n, name, split):
    images, labels = arrays
    if n is None or all_data():
        return images, labels
    if n > len(images):
        raise ValueError(
            f"`{name}`={n:,} asks for more {split} images than the source holds "
            f"({len(images):,}); ask for at most {len(images):,}."
        )
    return images[:n], labels[:n]


def load_mnist(path=None, n_train=None, n_test=None):
    """Loads MNIST as float32 images in [0, 1] of shape ``(n, 28, 28, 1)``.

    Args:
        path: Optional local npz in Keras' ``mnist.npz`` format. If None,
            the environment variable ``VAE_KERAS_MNIST`` is used when set,
            else ``keras.datasets.mnist.load_data()`` (downloads once).
        n_train: Positive int: keep the first ``n_train`` training images
            (the course's data rule, e.g. ``N_TRAIN``); None keeps all.
        n_test: Positive int: keep the first ``n_test`` held-out images;
            None keeps all. With ``VAE_KERAS_ALL_DATA=1`` (:func:`all_data`)
            both are ignored and every image is returned.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``; labels are int64.

    Raises:
        RuntimeError: when the download fails and no local file is given;
            the message says both ways to fix it.
        ValueError: when ``n_train`` or ``n_test`` is not a positive int or
            exceeds the images the source holds.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = load_mnist(n_train=N_TRAIN, n_test=N_TEST)  # doctest: +SKIP
    >>> x_train.shape, x_test.shape              # doctest: +SKIP
    ((8000, 28, 28, 1), (2000, 28, 28, 1))
    """
    n_train, n_test = _check_count(n_train, "n_train"), _check_count(n_test, "n_test")
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
    x_train, y_train = _first((x_train, y_train), n_train, "n_train", "training")
    x_test, y_test = _first((x_test, y_test), n_test, "n_test", "held-out")
    return (
        (_scale_images(x_train), np.asarray(y_train, dtype="int64")),
        (_scale_images(x_test), np.asarray(y_test, dtype="int64")),
    )


def binarize(x, method="stochastic", seed=0, threshold=0.5):
    """Turns grey levels in [0, 1] into {0, 1} pixels.

    Args:
        x: Array of intensities in [0, 1] (float; raw uint8 0..255 is refused
            with a message saying how to scale it).
        method: ``"stochastic"``: each pixel is 1 with probability equal to
            its intensity (the course's protocol, see the module docstring),
            drawn with ``seed``; ``"threshold"``: 1 where ``x > threshold``.
        seed: Int seed for the stochastic draw (None: a fresh draw from
            numpy's global generator); the same seed gives the same images.
        threshold: Cut-off for ``method="threshold"``.

    Returns:
        float32 array of 0.0 and 1.0 with the shape of ``x``.

    Example:

    >>> binarize(np.array([[0.0, 1.0, 0.5]]), method="threshold")
    array([[0., 1., 0.]], dtype=float32)
    """
    seed = _check_seed(seed)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"`threshold` must be a number in [0, 1]; received {threshold!r}.")
    if method not in ("stochastic", "threshold"):
        raise ValueError(f"`method` must be 'stochastic' or 'threshold'; received {method!r}.")
    x = check_data(x, "x", likelihood="continuous_bernoulli").astype("float32")
    if method == "threshold":
        return (x > threshold).astype("float32")
    rng = np.random if seed is None else np.random.default_rng(seed)
    return (rng.random(x.shape) < x).astype("float32")


class DynamicBinarization(keras.utils.PyDataset):
    """Batches of grey-level images binarised afresh every epoch (for ``fit``).

    Each epoch, every pixel of every image is redrawn as 1 with probability
    equal to its grey level (Burda et al., 2016): the model never sees the
    same binary image twice, which regularises it and keeps its likelihood a
    Bernoulli likelihood on binary data. Draws are seeded by
    ``(seed, epoch, batch)``, so a run is reproducible.

    Args:
        x: Float array ``(n, ...)`` of grey levels in [0, 1].
        batch_size: Positive int.
        condition: Optional array ``(n, ...)`` (e.g. one-hot labels) for a
            CVAE: batches are then ``((x, c),)``.
        shuffle: Whether to shuffle the order every epoch (seeded).
        seed: Int seed (default ``TRAIN_SEED``).
        **kwargs: ``keras.utils.PyDataset`` arguments (``workers``...).

    Returns (``ds[i]``):
        ``(x_binary,)`` or ``((x_binary, c),)`` for batch ``i``.

    Example:

    >>> train = DynamicBinarization(x_train, batch_size=128)   # doctest: +SKIP
    >>> vae.fit(train, epochs=10, validation_data=(binarize(x_test, seed=TEST_SEED),))  # doctest: +SKIP
    """

    def __init__(self, x, batch_size=128, condition=None, shuffle=True, seed=TRAIN_SEED,
                 **kwargs):
        super().__init__(**kwargs)
        self.x = check_data(x, "x", likelihood="continuous_bernoulli").astype("float32")
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.condition = None if condition is None else check_data(condition, "condition")
        if self.condition is not None and len(self.condition) != len(self.x):
            raise ValueError(
                f"`condition` must have one row per image: {len(self.x)} images, "
                f"received {len(self.condition)} rows."
            )
        if not isinstance(shuffle, bool):
            raise ValueError(f"`shuffle` must be True or False; received {shuffle!r}.")
        self.shuffle = shuffle
        self.seed = 0 if _check_seed(seed) is None else int(seed)
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch, 1]).permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)}).")
        rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        grey = self.x[rows]
        rng = np.random.default_rng([self.seed, self.epoch, 0, index])
        binary = (rng.random(grey.shape) < grey).astype("float32")
        if self.condition is None:
            return (binary,)
        return ((binary, self.condition[rows]),)

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._make_order()


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
