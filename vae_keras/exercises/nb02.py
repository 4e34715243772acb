"""Answer checks for ``notebooks/02_elbo.ipynb``.

Each check computes the expected value itself from the constants below
(closed forms written out here, independent of ``vae_keras.toy``), prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb02
>>> nb02.check_kl_to_prior(None)
Exercise 1 (KL to the prior): not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import report

# Exercise 1: q = N(KL_MEAN, KL_STD^2), prior N(0, 1).
KL_MEAN = 1.0
KL_STD = 0.5

# Exercises 2 and 3: 1-D model z ~ N(0, 1), x | z ~ N(W z + B, S^2), one x, q = N(Q_MEAN, Q_STD^2).
W = 2.0
B = 0.5
S = 1.0
X = 3.0
Q_MEAN = 1.0
Q_STD = 0.5

# Exercise 4: decoder weights of a model with unit noise; best diagonal q's variances.
MEAN_FIELD_WEIGHTS = np.array([[1.0, 0.5], [0.5, 1.0], [1.0, -0.5]])


def _kl_1d(mean_q, std_q, mean_p, std_p):
    return math.log(std_p / std_q) + (std_q**2 + (mean_q - mean_p) ** 2) / (2 * std_p**2) - 0.5


def _elbo_1d():
    expected_log_lik = (-0.5 * math.log(2 * math.pi * S**2)
                        - ((X - W * Q_MEAN - B) ** 2 + W**2 * Q_STD**2) / (2 * S**2))
    return expected_log_lik - _kl_1d(Q_MEAN, Q_STD, 0.0, 1.0)


def check_kl_to_prior(answer):
    """Exercise 1: ``KL(N(KL_MEAN, KL_STD^2) || N(0, 1))`` in nats.

    Args:
        answer: A float, or None.

    Returns:
        True when it matches the closed form to 1e-3.
    """
    expected = _kl_1d(KL_MEAN, KL_STD, 0.0, 1.0)
    return report("Exercise 1 (KL to the prior)", answer, expected, rtol=0, atol=1e-3,
                  hint="use -0.5 (1 + log var - mean^2 - var)")


def check_elbo_1d(answer):
    """Exercise 2: the ELBO of ``q = N(Q_MEAN, Q_STD^2)`` for the 1-D model at ``X``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches the closed form to 1e-3.
    """
    return report("Exercise 2 (ELBO of a given q)", answer, _elbo_1d(), rtol=0, atol=1e-3,
                  hint="E_q[(x - w z - b)^2] = (x - w m - b)^2 + w^2 sigma^2; then subtract the KL")


def check_gap_1d(answer):
    """Exercise 3: ``log p(X) - ELBO(q)`` for the same ``q``, which is ``KL(q || p(z | X))``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches to 1e-3.
    """
    post_var = 1.0 / (1.0 + W**2 / S**2)
    post_mean = post_var * W * (X - B) / S**2
    expected = _kl_1d(Q_MEAN, Q_STD, post_mean, math.sqrt(post_var))
    return report("Exercise 3 (the gap)", answer, expected, rtol=0, atol=1e-3,
                  hint="the posterior is N(w (x - b) / (w^2 + s^2), s^2 / (w^2 + s^2))")


def check_mean_field_variances(answer):
    """Exercise 4: variances of the best diagonal Gaussian ``q`` for ``MEAN_FIELD_WEIGHTS``.

    Args:
        answer: Array-like of the ``d`` variances, or None.

    Returns:
        True when it equals ``1 / diag(I + W^T W)`` to 1e-3.
    """
    precision = np.eye(MEAN_FIELD_WEIGHTS.shape[1]) + MEAN_FIELD_WEIGHTS.T @ MEAN_FIELD_WEIGHTS
    expected = 1.0 / np.diag(precision)
    if answer is not None and np.shape(answer) != expected.shape:
        print(f"Exercise 4 (mean-field variances): not yet: expected {expected.size} numbers, "
              f"received shape {np.shape(answer)}.")
        return False
    return report("Exercise 4 (mean-field variances)", answer, expected, rtol=0, atol=1e-3,
                  hint="not the diagonal of the posterior covariance: invert the precision's diagonal")
