"""Measuring disentanglement: a shapes dataset with known factors, and MIG.

A representation is *disentangled* when each generative factor of the data
(shape, size, position, ...) is carried by one latent dimension and each
latent dimension carries one factor. To measure that we need data whose
factors we know: :func:`make_shapes_dataset` draws small images of squares,
ellipses and triangles at known scales and positions. The
:func:`mutual_information_gap` (MIG, Chen et al. 2018, "Isolating sources of
disentanglement in VAEs") then scores a code: for each factor, the gap
between the two latent dimensions that know most about it, as a fraction of
what there is to know (the factor's entropy). Taught in notebook 05.

Everything here is numpy on arrays (codes come from ``encoder.predict``);
mutual informations and entropies are in nats.
"""

import numbers

import numpy as np

SHAPE_NAMES = ("square", "ellipse", "triangle")
FACTOR_NAMES = ("shape", "scale", "x_position", "y_position")


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; received {value!r}.")
    return int(value)


def _shape_masks(shape, dx, dy):
    """Coverage of each shape in coordinates scaled so the shape spans [-1, 1]."""
    square = (np.abs(dx) <= 1.0) & (np.abs(dy) <= 1.0)
    # Wider than tall, so it differs from a disc and from the square.
    ellipse = dx**2 + (dy / 0.65) ** 2 <= 1.0
    # Apex up (image rows grow downwards): half-width grows from 0 to 1.
    triangle = (np.abs(dy) <= 1.0) & (np.abs(dx) <= 0.5 * (dy + 1.0))
    return np.where(shape == 0, square, np.where(shape == 1, ellipse, triangle))


def make_shapes_dataset(n, image_size=28, num_scales=4, num_positions=8, seed=0):
    """Draws images of simple shapes whose generative factors are known.

    Four factors are drawn independently and uniformly from discrete grids:
    ``shape`` (square, ellipse, triangle), ``scale`` (``num_scales`` sizes),
    ``x_position`` and ``y_position`` (``num_positions`` centres each, chosen so
    the largest shape stays inside the image). Each shape is rendered with
    2 x 2 supersampling, so edge pixels are grey and a one-step move changes
    the image smoothly. Discrete factors make the mutual information between
    a factor and a (binned) latent well defined.

    Args:
        n: Number of images, an int >= 1.
        image_size: Height and width in pixels, an int >= 16 (28 matches
            MNIST and the course's plotting helpers).
        num_scales: Number of distinct sizes, an int >= 1.
        num_positions: Number of distinct centres per axis, an int >= 1.
        seed: Integer seed; the same arguments give the same images.

    Returns:
        A tuple ``(images, factors, factor_names)``: float32 images in [0, 1]
        of shape ``(n, image_size, image_size, 1)``; int64 factor indices of
        shape ``(n, 4)`` (column ``k`` lies in ``[0, number of values of
        factor k)``); and the tuple of the four factor names.

    Example:

    >>> images, factors, names = make_shapes_dataset(100, seed=0)
    >>> images.shape, factors.shape, names[0]
    ((100, 28, 28, 1), (100, 4), 'shape')
    """
    n = _check_positive_int(n, "n")
    image_size = _check_positive_int(image_size, "image_size", minimum=16)
    num_scales = _check_positive_int(num_scales, "num_scales")
    num_positions = _check_positive_int(num_positions, "num_positions")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be an int; received {seed!r}.")

    rng = np.random.default_rng(seed)
    sizes = (len(SHAPE_NAMES), num_scales, num_positions, num_positions)
    factors = np.stack([rng.integers(0, size, n) for size in sizes], axis=1).astype("int64")

    # Half-sizes from 12% to 24% of the image; centres keep the largest inside.
    half_sizes = np.linspace(0.12, 0.24, num_scales) * image_size
    margin = half_sizes[-1] + 1.0
    centres = np.linspace(margin, image_size - margin, num_positions)
    shape = factors[:, 0, None, None]
    half = half_sizes[factors[:, 1]][:, None, None]
    centre_x = centres[factors[:, 2]][:, None, None]
    centre_y = centres[factors[:, 3]][:, None, None]

    images = np.zeros((n, image_size, image_size), dtype="float32")
    pixel = np.arange(image_size, dtype="float32")
    for offset_y in (0.25, 0.75):  # 2 x 2 sub-pixel samples per pixel
        for offset_x in (0.25, 0.75):
            dx = (pixel[None, None, :] + offset_x - centre_x) / half
            dy = (pixel[None, :, None] + offset_y - centre_y) / half
            images += _shape_masks(shape, dx, dy)
    images /= 4.0
    return images[..., None], factors, FACTOR_NAMES


def _as_labels(values, name):
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array; received shape {values.shape}.")
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.bool_)):
        raise ValueError(
            f"`{name}` must hold discrete (integer) labels; received dtype {values.dtype}. "
            "Bin continuous values first, e.g. with `discretize`."
        )
    return values


def discrete_entropy(labels):
    """Entropy ``H(a) = -sum_a p(a) log p(a)`` of discrete labels, in nats.

    Probabilities are the empirical frequencies of the labels.

    Args:
        labels: 1-D integer array.

    Returns:
        A float >= 0 (0 for a constant array).

    Example:

    >>> round(discrete_entropy(np.array([0, 1, 0, 1])), 4)   # log 2
    0.6931
    """
    labels = _as_labels(labels, "labels")
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log(p)))


def discrete_mutual_information(a, b):
    """Mutual information ``I(a; b)`` between two discrete label arrays, in nats.

    ``I(a; b) = sum_{a,b} p(a, b) log(p(a, b) / (p(a) p(b)))`` with the
    empirical joint frequencies (the plug-in estimate; it is biased upwards
    by about ``(|A| - 1)(|B| - 1) / (2 n)`` nats for independent labels).

    Args:
        a: 1-D integer array.
        b: 1-D integer array of the same length.

    Returns:
        A float in ``[0, min(H(a), H(b))]``.

    Example:

    >>> a = np.array([0, 0, 1, 1])
    >>> round(discrete_mutual_information(a, a), 4)   # = H(a) = log 2
    0.6931
    """
    a = _as_labels(a, "a")
    b = _as_labels(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have the same length; received {a.size} and {b.size}.")
    _, a_index = np.unique(a, return_inverse=True)
    _, b_index = np.unique(b, return_inverse=True)
    joint = np.zeros((a_index.max() + 1, b_index.max() + 1))
    np.add.at(joint, (a_index, b_index), 1.0)
    joint /= joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    # Clip rounding noise: MI is never negative.
    return float(max(np.sum(joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])), 0.0))


def _as_codes(codes):
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] == 0 or codes.shape[1] == 0:
        raise ValueError(
            f"`codes` must be a 2-D array (num_examples, latent_dim); received shape {codes.shape}."
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.all(np.isfinite(codes)):
        raise ValueError("`codes` must be finite numbers (no NaN or inf).")
    return codes.astype("float64")


def discretize(codes, num_bins=20):
    """Bins each column of ``codes`` into ``num_bins`` equal-width bins.

    The bins of column ``j`` span ``[min, max]`` of that column; a constant
    column falls into a single bin.

    Args:
        codes: Array ``(num_examples, latent_dim)`` of finite numbers, e.g.
            ``z_mean`` from ``encoder.predict``.
        num_bins: Number of bins per column, an int >= 2.

    Returns:
        int64 array of bin indices in ``[0, num_bins)``, shaped like ``codes``.

    Example:

    >>> discretize(np.array([[0.0], [0.5], [1.0]]), num_bins=2).ravel()
    array([0, 1, 1])
    """
    codes = _as_codes(codes)
    num_bins = _check_positive_int(num_bins, "num_bins", minimum=2)
    low = codes.min(axis=0)
    width = codes.max(axis=0) - low
    # A constant column has width 0: divide by 1 instead, all land in bin 0.
    scaled = (codes - low) / np.where(width > 0, width, 1.0)
    return np.minimum((scaled * num_bins).astype("int64"), num_bins - 1)


def _as_factors(factors, num_examples):
    factors = np.asarray(factors)
    if factors.ndim == 1:
        factors = factors[:, None]
    if factors.ndim != 2 or factors.shape[0] != num_examples or factors.shape[1] == 0:
        raise ValueError(
            "`factors` must be an integer array (num_examples, num_factors) with the same "
            f"number of rows as `codes` ({num_examples}); received shape {factors.shape}."
        )
    if not np.issubdtype(factors.dtype, np.integer):
        raise ValueError(f"`factors` must hold integer labels; received dtype {factors.dtype}.")
    return factors


def mutual_information_matrix(codes, factors, num_bins=20):
    """Mutual information between every latent dimension and every factor.

    Each code column is binned with :func:`discretize`, then
    ``I(code_j; factor_k)`` is computed with
    :func:`discrete_mutual_information`.

    Args:
        codes: Array ``(num_examples, latent_dim)``.
        factors: Integer array ``(num_examples, num_factors)``.
        num_bins: Bins per code column, an int >= 2.

    Returns:
        float64 array ``(latent_dim, num_factors)`` in nats.

    Example:

    >>> factors = np.repeat(np.arange(4), 25)[:, None]
    >>> codes = np.stack([factors[:, 0], np.zeros(100)], axis=1)
    >>> mutual_information_matrix(codes, factors).round(4)
    array([[1.3863],
           [0.    ]])
    """
    binned = discretize(codes, num_bins)
    factors = _as_factors(factors, len(binned))
    return np.array([
        [discrete_mutual_information(binned[:, j], factors[:, k]) for k in range(factors.shape[1])]
        for j in range(binned.shape[1])
    ])


def mutual_information_gap(codes, factors, num_bins=20, return_per_factor=False):
    """Mutual information gap (MIG) of a code with respect to known factors.

    For each factor ``v_k``, sort ``I(z_j; v_k)`` over latent dimensions ``j``;
    the gap between the largest and the second largest, divided by the
    factor's entropy ``H(v_k)``, is 1 when exactly one dimension captures the
    factor completely and 0 when no dimension does or when two capture it
    equally. MIG is the mean over factors (Chen et al. 2018). As in
    Locatello et al. (2019), the code is binned into equal-width bins and the
    discrete plug-in estimate of the mutual information is used.

    Args:
        codes: Array ``(num_examples, latent_dim)`` with ``latent_dim >= 2``,
            e.g. the posterior means ``z_mean``.
        factors: Integer array ``(num_examples, num_factors)`` of the true
            factors; each factor must take at least two values.
        num_bins: Bins per code column, an int >= 2.
        return_per_factor: If True, also return the per-factor gaps.

    Returns:
        The MIG, a float in [0, 1]; with ``return_per_factor=True`` a tuple
        ``(mig, gaps)`` with ``gaps`` of shape ``(num_factors,)``.

    Example:

    >>> factors = np.repeat(np.arange(4), 25)[:, None]
    >>> codes = np.stack([factors[:, 0], np.zeros(100)], axis=1)
    >>> round(mutual_information_gap(codes, factors), 4)
    1.0
    """
    codes = _as_codes(codes)
    if codes.shape[1] < 2:
        raise ValueError(
            f"`codes` needs at least 2 latent dimensions for a gap; received {codes.shape[1]}."
        )
    if not isinstance(return_per_factor, bool):
        raise ValueError(f"`return_per_factor` must be a bool; received {return_per_factor!r}.")
    factors = _as_factors(factors, len(codes))
    entropies = np.array([discrete_entropy(factors[:, k]) for k in range(factors.shape[1])])
    if np.any(entropies == 0):
        raise ValueError(
            "Every factor must take at least two values (MIG divides by its entropy); "
            f"constant factor columns: {np.flatnonzero(entropies == 0).tolist()}."
        )
    information = mutual_information_matrix(codes, factors, num_bins)
    top_two = np.sort(information, axis=0)[-2:]
    gaps = (top_two[1] - top_two[0]) / entropies
    mig = float(np.mean(gaps))
    return (mig, gaps) if return_per_factor else mig
