"""Worked solutions for notebook 08 (anomaly detection, imputation, semi-supervised learning).

The checks are in :mod:`vae_keras.exercises.nb08`.
"""

import math

import numpy as np

from vae_keras.exercises import nb08


def _average_ranks(values):
    """Ranks 1..n of ``values``, tied values sharing the average of the ranks they occupy."""
    values = np.asarray(values, "float64")
    _, index, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)                      # highest rank of each distinct value
    first = last - counts + 1                     # lowest rank
    return ((first + last) / 2.0)[index.reshape(-1)]


def auroc_solution(scores, is_anomaly):
    """The AUROC by the rank (Mann-Whitney) formula, ties sharing average ranks.

    With ``R1`` the sum of the anomalies' ranks among all scores,
    ``AUROC = (R1 - n1 (n1 + 1) / 2) / (n1 n0)``: ``R1 - n1 (n1 + 1) / 2``
    counts the (anomaly, normal) pairs the anomaly wins, ties counting 1/2.

    Args:
        scores: Anomaly scores ``(n,)``, higher = more anomalous.
        is_anomaly: Booleans ``(n,)``.

    Returns:
        The AUROC, a float.
    """
    is_anomaly = np.asarray(is_anomaly, bool)
    ranks = _average_ranks(scores)
    n1, n0 = int(is_anomaly.sum()), int((~is_anomaly).sum())
    wins = ranks[is_anomaly].sum() - n1 * (n1 + 1) / 2.0
    return float(wins / (n1 * n0))


def auroc():
    """Exercise 1: the function the student writes.

    Returns:
        :func:`auroc_solution`.

    Example:

    >>> auroc()(np.array([0.0, 1.0, 1.0]), np.array([False, True, False]))
    0.75
    """
    return auroc_solution


def missing_log_likelihood_solution(x, probs, missing):
    """``sum over hidden pixels of x log p + (1 - x) log(1 - p)``, per image.

    Args:
        x: Binary images ``(n, d)``.
        probs: Predicted probabilities of a 1, ``(n, d)``.
        missing: Booleans ``(n, d)``, True = hidden.

    Returns:
        Array ``(n,)``: log-likelihoods in nats (<= 0).
    """
    x, probs = np.asarray(x, "float64"), np.asarray(probs, "float64")
    with np.errstate(divide="ignore"):       # log 0 only on a branch np.where discards
        per_pixel = np.where(x == 1, np.log(probs), np.log1p(-probs))
    return np.sum(np.where(missing, per_pixel, 0.0), axis=1)


def missing_log_likelihood():
    """Exercise 2: the function the student writes.

    Returns:
        :func:`missing_log_likelihood_solution`.

    Example:

    >>> x, p = np.array([[1.0, 0.0]]), np.array([[0.5, 0.9]])
    >>> round(float(missing_log_likelihood()(x, p, np.array([[True, False]]))[0]), 4)
    -0.6931
    """
    return missing_log_likelihood_solution


def likelihood_ratio():
    """Exercise 3: ``log p_VAE(x) - log p_background(x)``.

    The background is independent Bernoulli pixels: a pixel that is on has
    probability ``mu_i``, one that is off ``1 - mu_i``.

    Returns:
        The score in nats.

    Example:

    >>> round(likelihood_ratio(), 4)
    0.5513
    """
    on = nb08.LR_IMAGE == 1
    mu = nb08.BACKGROUND_MEANS
    log_p_background = float(np.sum(np.log(mu[on])) + np.sum(np.log1p(-mu[~on])))
    return nb08.LR_LOG_P_MODEL - log_p_background


def accuracy_standard_error():
    """Exercise 4: ``sqrt(a (1 - a) / n)``, the standard error of a mean of 0/1 outcomes.

    Returns:
        The standard error, as a fraction.

    Example:

    >>> round(accuracy_standard_error(), 5)
    0.00859
    """
    a = nb08.ACCURACY
    return math.sqrt(a * (1.0 - a) / nb08.N_TEST)


def fill_missing_solution(x, missing, probs, uniforms):
    """One resampling step: a hidden pixel becomes ``uniform < p``; an observed one stays.

    Args:
        x: Binary images ``(n, d)``.
        missing: Booleans ``(n, d)``, True = hidden.
        probs: The decoder's probabilities ``(n, d)``.
        uniforms: Uniform draws on ``[0, 1)``, ``(n, d)``.

    Returns:
        Binary images ``(n, d)``.
    """
    x = np.asarray(x, "float64")
    sampled = (np.asarray(uniforms) < np.asarray(probs)).astype(x.dtype)   # 1 with probability p
    return np.where(missing, sampled, x)


def fill_missing():
    """Exercise 5: the function the student writes.

    Returns:
        :func:`fill_missing_solution`.

    Example:

    >>> fill_missing()(np.array([[1.0, 0.0]]), np.array([[False, True]]),
    ...                np.array([[0.1, 0.7]]), np.array([[0.9, 0.5]])).tolist()
    [[1.0, 1.0]]
    """
    return fill_missing_solution
