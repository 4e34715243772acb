"""Sample quality in a feature space: the Fréchet distance, precision and recall.

Likelihoods say how well a model explains held-out images; they do not say
whether its *samples* look like the data (Theis, van den Oord & Bethge, "A
note on the evaluation of generative models", 2016: the two can disagree).
Sample-quality metrics compare a set of generated images with a set of real
ones, in the feature space of a network that recognises the data — here a
small classifier trained on the course's training images
(:func:`feature_classifier`), not Inception: numbers are comparable within
the course, not with published FIDs.

- :func:`frechet_distance` fits a Gaussian to each set of features and
  returns the squared 2-Wasserstein distance between the two Gaussians
  (Heusel et al. 2017, "FID"): ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2
  (S_a S_b)^{1/2})``. 0 for identical sets; it mixes quality and diversity
  into one number.
- :func:`precision_recall` (Kynkäänniemi et al. 2019) separates them: each
  set's *manifold* is the union of balls around its points reaching to the
  k-th nearest neighbour. Precision is the fraction of generated points
  inside the real manifold (are samples realistic?), recall the fraction of
  real points inside the generated manifold (is the data covered?).

Both are statistics of feature arrays after evaluation, like
:mod:`vae_keras.stats`: numpy in float64 (a matrix square root needs the
precision).
"""

from typing import NamedTuple

import keras
import numpy as np


class PrecisionRecall(NamedTuple):
    """Precision and recall of generated features against real ones."""

    precision: float
    recall: float
    k: int


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two sets of features.

    ``||mu_a - mu_b||^2 + tr(S_a) + tr(S_b) - 2 tr((S_a^{1/2} S_b
    S_a^{1/2})^{1/2})`` with the sample means and covariances (``ddof=1``).
    The trace of the matrix square root is the sum of the square roots of
    the eigenvalues of the symmetric matrix ``S_a^{1/2} S_b S_a^{1/2}``
    (negative rounding errors clipped to 0).

    Args:
        features_a: Array ``(n_a, d)`` of finite numbers, one row per image
            (e.g. real held-out images through :func:`feature_classifier`'s
            feature model), ``n_a >= 2``.
        features_b: Array ``(n_b, d)``, the same ``d`` (e.g. generated images).

    Returns:
        Float, never negative (0 for identical sets up to rounding). It has a
        positive bias that shrinks with the sample sizes: compare models with
        the same ``n``.

    Raises:
        ValueError: If an array is not 2-D, holds non-finite values, has
            fewer than 2 rows, or the feature sizes differ.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(20000, 2))
    >>> round(frechet_distance(a, a + [3.0, 0.0]), 3)   # a shift by 3: 3**2
    9.0
    """
    a = _as_features(features_a, "features_a")
    b = _as_features(features_b, "features_b")
    _check_same_width(a, b)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False, ddof=1), np.cov(b, rowvar=False, ddof=1)
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = _symmetric_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
    value = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                  - 2.0 * trace_root)
    return max(value, 0.0)


def precision_recall(real_features, generated_features, k=3, chunk=1024):
    """Improved precision and recall (Kynkäänniemi et al. 2019), Euclidean distances.

    The radius of a point is the distance to its ``k``-th nearest neighbour
    within its own set (the point itself excluded). A generated point counts
    for precision if it lies within the radius of at least one real point;
    a real point counts for recall if it lies within the radius of at least
    one generated point.

    Args:
        real_features: Array ``(n_real, d)``, at least ``k + 1`` rows.
        generated_features: Array ``(n_gen, d)``, at least ``k + 1`` rows.
        k: Positive int, the neighbour that sets the radii (the paper uses 3).
        chunk: Positive int, rows of a distance matrix computed at once.

    Returns:
        :class:`PrecisionRecall` ``(precision, recall, k)``, fractions in
        ``[0, 1]``. Compare sets of the same sizes: both depend on ``n``
        and ``k``.

    Raises:
        ValueError: For arrays as in :func:`frechet_distance`, too few rows
            for ``k``, or a bad ``k`` or ``chunk``.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(1000, 2))
    >>> squeezed = precision_recall(real, real[:500] * 0.2)   # samples near the mode only
    >>> squeezed.precision > 0.99, squeezed.recall < 0.3       # realistic, not covering
    (True, True)
    """
    real = _as_features(real_features, "real_features")
    generated = _as_features(generated_features, "generated_features")
    _check_same_width(real, generated)
    k = _check_positive_int(k, "k")
    chunk = _check_positive_int(chunk, "chunk")
    for name, array in (("real_features", real), ("generated_features", generated)):
        if len(array) <= k:
            raise ValueError(
                f"`{name}` needs more than k = {k} rows for a k-th neighbour; "
                f"received {len(array)}."
            )
    real_radii = _kth_neighbour_distance(real, k, chunk)
    generated_radii = _kth_neighbour_distance(generated, k, chunk)
    precision = _inside_some_ball(generated, real, real_radii, chunk)
    recall = _inside_some_ball(real, generated, generated_radii, chunk)
    return PrecisionRecall(float(np.mean(precision)), float(np.mean(recall)), k)


def feature_classifier(input_shape=(28, 28), num_classes=10, feature_dim=64, seed=0):
    """A small MLP classifier and the model of its features, for sample-quality metrics.

    ``Flatten -> Dense(256, relu) -> Dense(feature_dim, relu) [features] ->
    Dense(num_classes, softmax)``, compiled with Adam and sparse categorical
    cross-entropy. Train the classifier on the training images and labels;
    its penultimate layer is the feature space of :func:`frechet_distance`
    and :func:`precision_recall`.

    Args:
        input_shape: Tuple of positive ints, one image's shape.
        num_classes: Int >= 2.
        feature_dim: Positive int, the size of the feature space.
        seed: Int seed of the initial weights.

    Returns:
        ``(classifier, features)``: two Keras models sharing their layers;
        ``features`` maps images to ``(n, feature_dim)``.

    Example:

    >>> classifier, features = feature_classifier()               # doctest: +SKIP
    >>> classifier.fit(x_train, y_train, epochs=5, verbose=2)     # doctest: +SKIP
    >>> fid = frechet_distance(features.predict(x_test), features.predict(samples))  # doctest: +SKIP
    """
    if not isinstance(input_shape, tuple) or not input_shape or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape
    ):
        raise ValueError(
            f"`input_shape` must be a tuple of positive ints; received {input_shape!r}."
        )
    if _check_positive_int(num_classes, "num_classes") < 2:
        raise ValueError(f"`num_classes` must be at least 2; received {num_classes!r}.")
    feature_dim = _check_positive_int(feature_dim, "feature_dim")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` must be an int; received {seed!r}.")
    init = lambda offset: keras.initializers.GlorotUniform(seed=int(seed) + offset)  # noqa: E731
    inputs = keras.Input(input_shape)
    hidden = keras.layers.Flatten()(inputs)
    hidden = keras.layers.Dense(256, activation="relu", kernel_initializer=init(0))(hidden)
    feats = keras.layers.Dense(feature_dim, activation="relu", kernel_initializer=init(1),
                               name="features")(hidden)
    outputs = keras.layers.Dense(num_classes, activation="softmax",
                                 kernel_initializer=init(2))(feats)
    classifier = keras.Model(inputs, outputs, name="feature_classifier")
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
    return classifier, keras.Model(inputs, feats, name="classifier_features")


# --- helpers -------------------------------------------------------------------


def _symmetric_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def _squared_distances(a, b):
    # ||a||^2 - 2 a.b + ||b||^2, clipped at 0 against rounding.
    return np.clip(np.sum(a**2, 1)[:, None] - 2.0 * a @ b.T + np.sum(b**2, 1)[None], 0.0, None)


def _kth_neighbour_distance(points, k, chunk):
    radii = []
    for start in range(0, len(points), chunk):
        d2 = _squared_distances(points[start:start + chunk], points)
        # Column k of the sorted row: column 0 is the point itself (distance 0).
        radii.append(np.sqrt(np.partition(d2, k, axis=1)[:, k]))
    return np.concatenate(radii)


def _inside_some_ball(queries, centres, radii, chunk):
    inside = []
    for start in range(0, len(queries), chunk):
        d = np.sqrt(_squared_distances(queries[start:start + chunk], centres))
        inside.append(np.any(d <= radii[None], axis=1))
    return np.concatenate(inside)


def _as_features(values, name):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be an array of numbers; received {type(values).__name__}.")
    if array.ndim != 2 or len(array) < 2:
        raise ValueError(
            f"`{name}` must be a 2-D array (n >= 2 rows, one per image); received shape "
            f"{array.shape}."
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` holds {int(np.sum(~np.isfinite(array)))} non-finite value(s).")
    return array


def _check_same_width(a, b):
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"Both sets need the same feature size; received {a.shape[1]} and {b.shape[1]}."
        )


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; received {value!r}.")
    return int(value)
