"""Measuring disentanglement: a shapes dataset with known factors, and MIG.

A representation is *disentangled* when each generative factor of the data
(shape, size, position, ...) is carried by one latent dimension and each
latent dimension carries one factor. To measure that we need data whose
factors we know: :func:`make_shapes_dataset` draws small anti-aliased images
of squares, ellipses and triangles with a discrete shape and a continuous
scale and position, so that two draws practically never give the same image
and a test set drawn with another seed is held out
(:func:`count_shared_images` checks it; :func:`find_shared_images` finds the
rare coincidences left after binarisation). :func:`bin_factors` cuts the
continuous factors into equal-width bins, and :func:`mutual_information_gap`
(MIG, Chen et al. 2018, "Isolating sources of disentanglement in VAEs")
scores a code: for each factor, the gap between the two latent dimensions
that know most about it, as a fraction of what there is to know (the
factor's entropy). Taught in notebook 05.

The MIG estimator here is the one of ``disentanglement_lib`` (Locatello et
al. 2019): each latent coordinate (usually the posterior mean) is binned into
equal-width bins (20 by default) and the plug-in mutual information of the
binned values is used; it is *not* Chen et al.'s estimator, which integrates
over the full posterior ``q(z | x)``.

Everything here is numpy on arrays (codes come from ``encoder.predict``);
mutual informations and entropies are in nats.
"""

import numbers

import numpy as np

SHAPE_NAMES = ("square", "ellipse", "triangle")
FACTOR_NAMES = ("shape", "scale", "x_position", "y_position")
ELLIPSE_ASPECT = 0.65  # height / width of the ellipse


def _check_positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; received {value!r}.")
    return int(value)


def _signed_distance(shape, dx, dy, half):
    """Approximate signed distance (pixels) to the outline; negative inside.

    Exact for the square's and the triangle's straight edges (away from
    corners); for the ellipse the normalised radius is scaled by its minor
    half-axis, exact at the ends of that axis.
    """
    square = np.maximum(np.abs(dx), np.abs(dy)) - half
    radius = np.sqrt(dx**2 + (dy / ELLIPSE_ASPECT) ** 2)
    ellipse = (radius - half) * ELLIPSE_ASPECT
    # Apex up (image rows grow downwards): base at dy = +half, apex at dy = -half,
    # half-width 0.5 * (dy + half); 1.25 = 1 + 0.5**2 normalises the slanted edges.
    triangle = np.maximum(dy - half, (np.abs(dx) - 0.5 * (dy + half)) / np.sqrt(1.25))
    return np.where(shape == 0, square, np.where(shape == 1, ellipse, triangle))


def make_shapes_dataset(n, image_size=20, seed=0, scale_range=(0.12, 0.24)):
    """Draws images of simple shapes whose generative factors are known.

    Four factors are drawn independently: ``shape`` uniformly from
    (square, ellipse, triangle), and ``scale``, ``x_position`` and
    ``y_position`` uniformly from the continuous interval [0, 1). The scale
    sets the half-size linearly between ``scale_range[0]`` and
    ``scale_range[1]`` times ``image_size``; the positions move the centre
    over the range that keeps the largest shape inside the image. Shapes are
    rendered with analytic anti-aliasing: a pixel's grey level is
    ``clip(0.5 - d, 0, 1)`` with ``d`` the signed distance (in pixels) from
    the pixel centre to the outline, which is the fraction of the pixel the
    shape covers along a straight edge. The images are therefore continuous
    functions of the factors: a sub-pixel move changes the edge pixels, and
    two independent draws practically never give the same image.

    Args:
        n: Number of images, an int >= 1.
        image_size: Height and width in pixels, an int >= 12.
        seed: Integer seed; the same arguments give the same images.
        scale_range: ``(smallest, largest)`` half-size as a fraction of
            ``image_size``, with ``0 < smallest <= largest < 0.45``.

    Returns:
        A tuple ``(images, factors, factor_names)``: float32 grey-level
        images in [0, 1] of shape ``(n, image_size, image_size, 1)``;
        float64 factors of shape ``(n, 4)`` (column 0 the shape index 0, 1
        or 2; columns 1-3 the continuous factors in [0, 1)); and the tuple
        of the four factor names. Use :func:`bin_factors` before computing
        mutual informations.

    Example:

    >>> images, factors, names = make_shapes_dataset(100, seed=0)
    >>> images.shape, factors.shape, names[0]
    ((100, 20, 20, 1), (100, 4), 'shape')
    """
    n = _check_positive_int(n, "n")
    image_size = _check_positive_int(image_size, "image_size", minimum=12)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be an int; received {seed!r}.")
    try:
        smallest, largest = (float(v) for v in scale_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"`scale_range` must be a pair of numbers; received {scale_range!r}.") from None
    if not 0.0 < smallest <= largest < 0.45:
        raise ValueError(
            f"`scale_range` must satisfy 0 < smallest <= largest < 0.45; received {scale_range!r}.")

    rng = np.random.default_rng(seed)
    shape = rng.integers(0, len(SHAPE_NAMES), n)
    continuous = rng.random((n, 3))
    factors = np.column_stack([shape.astype("float64"), continuous])

    half = (smallest + (largest - smallest) * continuous[:, 0]) * image_size
    margin = largest * image_size + 1.5  # the largest shape and its grey rim stay inside
    centre_x = margin + continuous[:, 1] * (image_size - 2 * margin)
    centre_y = margin + continuous[:, 2] * (image_size - 2 * margin)
    pixel_centres = np.arange(image_size) + 0.5
    dx = pixel_centres[None, None, :] - centre_x[:, None, None]
    dy = pixel_centres[None, :, None] - centre_y[:, None, None]
    distance = _signed_distance(shape[:, None, None], dx, dy, half[:, None, None])
    images = np.clip(0.5 - distance, 0.0, 1.0).astype("float32")
    return images[..., None], factors, FACTOR_NAMES


def bin_factors(factors, num_bins=10):
    """Discretises the factors of :func:`make_shapes_dataset` for MIG.

    Column 0 (the shape, already discrete) is kept; each continuous column
    (values in [0, 1)) is cut into ``num_bins`` equal-width bins of [0, 1),
    i.e. bin ``floor(value * num_bins)``. The factors are uniform, so the
    bins are equally likely and each binned factor has entropy close to
    ``log(num_bins)`` nats.

    Args:
        factors: Array ``(n, 4)`` as returned by :func:`make_shapes_dataset`.
        num_bins: Bins per continuous factor, an int >= 2.

    Returns:
        int64 array ``(n, 4)``.

    Example:

    >>> bin_factors(np.array([[2.0, 0.05, 0.5, 0.999]]), num_bins=10)
    array([[2, 0, 5, 9]])
    """
    num_bins = _check_positive_int(num_bins, "num_bins", minimum=2)
    factors = np.asarray(factors, dtype="float64")
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_NAMES):
        raise ValueError(
            f"`factors` must have shape (n, {len(FACTOR_NAMES)}); received {factors.shape}.")
    shape, continuous = factors[:, 0], factors[:, 1:]
    if not np.all(np.isin(shape, np.arange(len(SHAPE_NAMES)))):
        raise ValueError("Column 0 of `factors` must hold shape indices 0, 1 or 2.")
    if not np.all((continuous >= 0.0) & (continuous < 1.0)):
        raise ValueError("Columns 1-3 of `factors` must lie in [0, 1).")
    binned = np.minimum((continuous * num_bins).astype("int64"), num_bins - 1)
    return np.column_stack([shape.astype("int64"), binned])


def find_shared_images(images, reference):
    """Which of ``images`` are exactly equal to some image in ``reference``.

    Use it to make a test set held out image by image:
    ``x_test[~find_shared_images(x_test, x_train)]``.

    Args:
        images: Array ``(n, ...)``.
        reference: Array ``(m, ...)`` with the same per-image shape.

    Returns:
        A boolean array of shape ``(n,)``.

    Example:

    >>> a = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> find_shared_images(a, np.array([[1.0, 1.0], [0.5, 0.5]]))
    array([False,  True])
    """
    images = np.ascontiguousarray(images)
    reference = np.ascontiguousarray(reference, dtype=images.dtype)
    if images.ndim == 0 or reference.ndim == 0 or images.shape[1:] != reference.shape[1:]:
        raise ValueError(
            f"`images` and `reference` must hold images of the same shape; received arrays "
            f"of shapes {images.shape} and {reference.shape}.")
    seen = {row.tobytes() for row in reference.reshape(len(reference), -1)}
    return np.array([row.tobytes() in seen for row in images.reshape(len(images), -1)],
                    dtype=bool)


def count_shared_images(images, reference):
    """How many of ``images`` are exactly equal to some image in ``reference``.

    A test set is held out when ``count_shared_images(x_test, x_train) == 0``.

    Args:
        images: Array ``(n, ...)``.
        reference: Array ``(m, ...)`` with the same per-image shape.

    Returns:
        An int in ``[0, n]``.

    Example:

    >>> a = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> count_shared_images(a, np.array([[1.0, 1.0], [0.5, 0.5]]))
    1
    """
    return int(find_shared_images(images, reference).sum())


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
    equally. MIG is the mean over factors (Chen et al. 2018).

    The estimator is ``disentanglement_lib``'s (Locatello et al. 2019), not
    Chen et al.'s: each code column (usually the posterior mean) is binned
    into ``num_bins`` equal-width bins with :func:`discretize`, and the
    plug-in mutual information of the binned values with the discrete
    factors is used (Chen et al. integrate over the full posterior
    ``q(z | x)`` instead). Continuous factors must be binned first
    (e.g. :func:`bin_factors`).

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
