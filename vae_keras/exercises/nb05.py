"""Answer checks for ``notebooks/05_beta_vae.ipynb`` (beta-VAE, rate-distortion, disentanglement).

Each check computes its expected value itself, by a route independent of
the worked solutions in :mod:`solutions.nb05` (mutual
information as ``H(a) + H(b) - H(a, b)``, the loss written out in float64),
prints "correct" or "not yet", and returns a bool. ``None`` means "not
answered yet".

Example:

>>> from vae_keras.exercises import nb05
>>> nb05.check_mutual_information(None)
Exercise 1 (mutual information of the table): not answered yet.
False
"""

import numpy as np

from vae_keras.exercises._check import (
    call_student,
    compare,
    not_answered,
    report,
    shape_mismatch,
    verdict,
)

# Exercise 1: a joint distribution p(a, b) (rows: a in {0, 1}, columns: b in
# {0, 1, 2}); the marginals are not uniform, so mixing them up shows.
JOINT_TABLE = np.array([[0.35, 0.05, 0.10],
                        [0.05, 0.25, 0.20]])

# Exercise 2: a tutorial's loss on EFFECTIVE_BETA_IMAGE_SHAPE images,
# ops.sum(ops.square(x - x_hat), axis=(1, 2, 3)) + ops.mean(kl_per_dim, axis=-1),
# with EFFECTIVE_BETA_LATENT_DIM latent dimensions, read under a unit-variance
# Gaussian decoder.
EFFECTIVE_BETA_IMAGE_SHAPE = (64, 64, 1)
EFFECTIVE_BETA_LATENT_DIM = 20

# Exercise 3: mutual informations I(z_j; v_k) in nats, rows z_1..z_3, columns
# the factors v_1 (4 equally likely values) and v_2 (2 equally likely values).
MI_MATRIX = np.array([[0.9, 0.1],
                      [0.6, 0.05],
                      [0.0, 0.5]])
FACTOR_CARDINALITIES = (4, 2)

# Exercise 4: posterior means z_mean of six examples in a 3-D latent space.
Z_MEANS = np.array([[0.8, 0.01, -1.2],
                    [-0.5, -0.02, 0.3],
                    [1.1, 0.00, 0.9],
                    [-0.9, 0.03, -0.4],
                    [0.2, -0.01, 1.5],
                    [-0.4, 0.02, -0.9]])
ACTIVE_UNIT_THRESHOLD = 0.01

# Exercise 5: a batch of 3 binary 4 x 5 images, Bernoulli decoder
# probabilities (kept in [0.05, 0.95], so clipping plays no part), encoder
# outputs in a 4-D latent space, and beta != 1.
_rng = np.random.default_rng(5)
LOSS_X = (_rng.random((3, 4, 5, 1)) < 0.5).astype("float32")
LOSS_X_DECODED = np.round(_rng.uniform(0.05, 0.95, (3, 4, 5, 1)), 2).astype("float32")
LOSS_Z_MEAN = np.round(_rng.normal(size=(3, 4)), 2).astype("float32")
LOSS_Z_LOG_VAR = np.round(_rng.normal(scale=0.8, size=(3, 4)), 2).astype("float32")
LOSS_BETA = 4.0
del _rng

# Exercise 6: label arrays on which a student's mutual-information function
# is run: (a) labels 0, 3, 7 against 1, 2, 5, 9 with the counts of
# MI_COUNTS (one empty cell; labels are not 0..K-1), shuffled; (b) a label
# array against itself; (c) two independent arrays (every pair equally often).
MI_COUNTS = np.array([[20, 5, 0, 10],
                      [5, 15, 10, 5],
                      [0, 5, 20, 5]])
MI_A_VALUES = np.array([0, 3, 7])
MI_B_VALUES = np.array([1, 2, 5, 9])


def _labels_from_counts(counts, a_values, b_values, seed=0):
    """Shuffled label pairs whose joint counts are ``counts``."""
    rows, cols = np.nonzero(counts)
    reps = counts[rows, cols]
    a = np.repeat(a_values[rows], reps)
    b = np.repeat(b_values[cols], reps)
    order = np.random.default_rng(seed).permutation(len(a))
    return a[order], b[order]


MI_CASES = {
    "labels 0, 3, 7 vs 1, 2, 5, 9 with an empty cell": _labels_from_counts(MI_COUNTS, MI_A_VALUES,
                                                                           MI_B_VALUES),
    "an array against itself": (np.repeat([4, 1, 2], [6, 3, 1]),) * 2,
    "two independent arrays": _labels_from_counts(np.full((2, 3), 4), np.array([0, 1]),
                                                  np.array([0, 1, 2]), seed=1),
}


def _entropy(probabilities):
    p = np.asarray(probabilities, "float64").ravel()
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def _entropy_of_labels(*label_arrays):
    """Joint entropy (nats) of one or more label arrays, from the counts of distinct tuples."""
    _, counts = np.unique(np.stack(label_arrays, axis=1), axis=0, return_counts=True)
    return _entropy(counts / counts.sum())


def check_mutual_information(answer):
    """Exercise 1: I(a; b) in nats for ``JOINT_TABLE``.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``H(a) + H(b) - H(a, b)`` to 0.1 %.

    Example:

    >>> check_mutual_information(None)
    Exercise 1 (mutual information of the table): not answered yet.
    False
    """
    expected = (_entropy(JOINT_TABLE.sum(axis=1)) + _entropy(JOINT_TABLE.sum(axis=0))
                - _entropy(JOINT_TABLE))
    mistakes = [(expected / np.log(2.0), "that is in bits: use natural logarithms (nats)"),
                (_entropy(JOINT_TABLE), "that is the joint entropy H(a, b)")]
    return report("Exercise 1 (mutual information of the table)", answer, expected, rtol=1e-3,
                  mistakes=mistakes, hint="sum p(a,b) log(p(a,b) / (p(a) p(b))), natural log")


def check_effective_beta(answer):
    """Exercise 2: beta of ``summed squared error + mean KL`` under a unit-variance decoder.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``1 / (2 * EFFECTIVE_BETA_LATENT_DIM)``.

    Example:

    >>> check_effective_beta(None)
    Exercise 2 (effective beta): not answered yet.
    False
    """
    d = EFFECTIVE_BETA_LATENT_DIM
    pixels = int(np.prod(EFFECTIVE_BETA_IMAGE_SHAPE))
    # SSE + KL / d = 2 * (SSE / 2 + KL / (2 d)) and -log p(x | z) = SSE / 2 + const.
    expected = 1.0 / (2.0 * d)
    mistakes = [(1.0 / d, "the unit-variance Gaussian NLL is SSE / 2, not SSE: factor the 2 out"),
                (0.5, "the KL is averaged over the latent dimensions: that divides it by d"),
                (2.0 * d, "that is 1 / beta: beta multiplies the KL"),
                (pixels / (2.0 * d), "the squared error is summed over pixels, not averaged: "
                                     "the number of pixels does not enter")]
    return report("Exercise 2 (effective beta)", answer, expected, rtol=1e-4, mistakes=mistakes,
                  hint="write the loss as a multiple of (0.5 ||x - x_hat||^2 + beta KL_sum)")


def check_mig_from_matrix(answer):
    """Exercise 3: MIG of ``MI_MATRIX`` for uniform factors ``FACTOR_CARDINALITIES``.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches to 0.1 %.

    Example:

    >>> check_mig_from_matrix(None)
    Exercise 3 (MIG from a mutual-information matrix): not answered yet.
    False
    """
    entropies = np.log(np.asarray(FACTOR_CARDINALITIES, dtype="float64"))
    top_two = np.sort(MI_MATRIX, axis=0)[-2:]
    gaps = top_two[1] - top_two[0]
    expected = np.mean(gaps / entropies)
    mistakes = [(np.mean(gaps),
                 "divide each factor's gap by its entropy H(v_k) = log(cardinality)"),
                (np.mean(gaps / np.log2(FACTOR_CARDINALITIES)),
                 "the matrix is in nats: take the entropies in nats too"),
                (np.mean((MI_MATRIX.max(axis=0) - MI_MATRIX.min(axis=0)) / entropies),
                 "the gap is largest minus SECOND largest, not largest minus smallest")]
    return report("Exercise 3 (MIG from a mutual-information matrix)", answer, expected, rtol=1e-3,
                  mistakes=mistakes,
                  hint="per factor: (largest - second largest) / H(factor); then average")


def check_active_units(answer):
    """Exercise 4: number of active units of ``Z_MEANS`` (variance > 0.01).

    Args:
        answer: An integer, or None.

    Returns:
        True when it is exactly right.

    Example:

    >>> check_active_units(None)
    Exercise 4 (active units): not answered yet.
    False
    """
    centred = Z_MEANS - Z_MEANS.mean(axis=0)
    variances = np.mean(centred**2, axis=0)
    expected = int(np.sum(variances > ACTIVE_UNIT_THRESHOLD))
    mistakes = [(int(np.sum(np.sqrt(variances) > ACTIVE_UNIT_THRESHOLD)),
                 "compare the VARIANCE with 0.01, not the standard deviation"),
                (Z_MEANS.shape[1] - expected, "that counts the inactive units"),
                (Z_MEANS.shape[0], "one variance per latent dimension: over the examples (axis=0)")]
    return report("Exercise 4 (active units)", answer, expected, rtol=0, atol=0, mistakes=mistakes,
                  hint="variance over the examples of each column, compared with 0.01")


def check_beta_vae_loss(loss_fn):
    """Exercise 5: ``loss_fn(x, x_decoded, z_mean, z_log_var, beta)`` -> beta-VAE loss per example.

    The loss is the Bernoulli NLL summed over pixels plus ``beta`` times the
    KL to N(0, I) summed over latent dimensions, one number per example.

    Args:
        loss_fn: Callable returning shape ``(batch,)``; or None.

    Returns:
        True when it matches the loss written out in float64 on ``LOSS_X``,
        ``LOSS_X_DECODED``, ``LOSS_Z_MEAN``, ``LOSS_Z_LOG_VAR`` with
        ``beta = LOSS_BETA``, and again with ``beta = 1``.

    Example:

    >>> check_beta_vae_loss(None)
    Exercise 5 (the beta-VAE loss): not answered yet.
    False
    """
    name = "Exercise 5 (the beta-VAE loss)"
    if loss_fn is None:
        return not_answered(name)
    x, p = LOSS_X.astype("float64"), LOSS_X_DECODED.astype("float64")
    m, v = LOSS_Z_MEAN.astype("float64"), LOSS_Z_LOG_VAR.astype("float64")
    distortion = -np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p), axis=(1, 2, 3))
    rate = 0.5 * np.sum(np.exp(v) + m**2 - 1.0 - v, axis=1)
    pixels = x[0].size
    for beta in (LOSS_BETA, 1.0):
        ok, answer = call_student(name, loss_fn, LOSS_X, LOSS_X_DECODED, LOSS_Z_MEAN,
                                  LOSS_Z_LOG_VAR, beta)
        if not ok:
            return False
        reason = shape_mismatch(answer, distortion.shape)
        if reason is not None:
            return verdict(name, False, f"{reason}; one loss per example, no mean over the batch")
        expected = distortion + beta * rate
        if compare(answer, expected, rtol=1e-4, atol=1e-4) is None:
            continue
        mistakes = [(distortion / pixels + beta * rate,
                     "the reconstruction is a SUM over pixels (a mean multiplies beta by "
                     "their number)"),
                    (distortion + beta * rate / m.shape[1],
                     "sum the KL over the latent dimensions"),
                    (beta * distortion + rate, "beta multiplies the KL, not the reconstruction"),
                    (distortion + rate, "the KL term is multiplied by beta")]
        return report(f"{name} (beta = {beta:g})", answer, expected, rtol=1e-4, atol=1e-4,
                      mistakes=mistakes, hint="binary cross-entropy summed over pixels + beta * KL")
    return verdict(name, True)


def check_mutual_information_function(mi_fn):
    """Exercise 6: ``mi_fn(a, b)`` -> plug-in mutual information of two label arrays, in nats.

    Run on the three pairs of ``MI_CASES``: labels that are not 0..K-1 with
    an empty cell of the joint table (0 log 0 counts as 0), an array against
    itself (I = H(a)) and two independent arrays (I = 0).

    Args:
        mi_fn: Callable taking two 1-D integer arrays of equal length and
            returning one number; or None.

    Returns:
        True when every case matches ``H(a) + H(b) - H(a, b)`` to 1e-6.

    Example:

    >>> check_mutual_information_function(None)
    Exercise 6 (mutual information of two label arrays): not answered yet.
    False
    """
    name = "Exercise 6 (mutual information of two label arrays)"
    if mi_fn is None:
        return not_answered(name)
    for case, (a, b) in MI_CASES.items():
        with np.errstate(all="ignore"):  # 0 log 0 is part of what is tested
            ok, answer = call_student(name, mi_fn, a.copy(), b.copy())
        if not ok:
            return False
        expected = _entropy_of_labels(a) + _entropy_of_labels(b) - _entropy_of_labels(a, b)
        reason = compare(answer, expected, rtol=1e-6, atol=1e-6)
        if reason is None:
            continue
        if reason == "the answer holds inf or nan":
            return verdict(f"{name}, {case}", False,
                           "nan: a cell with p(a, b) = 0 contributes 0 (0 log 0 = 0): skip it")
        mistakes = [(expected / np.log(2.0), "that is in bits: use natural logarithms"),
                    (_entropy_of_labels(a, b), "that is the joint entropy H(a, b)")]
        return report(f"{name}, {case}", answer, expected, rtol=1e-6, atol=1e-6, mistakes=mistakes,
                      hint="count each pair (a, b) for p(a, b), each label for p(a) and p(b); "
                           "labels need not be 0..K-1")
    return verdict(name, True)
