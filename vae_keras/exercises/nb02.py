"""Answer checks for ``notebooks/02_elbo.ipynb``.

Each check computes the expected value itself from the constants below, by
a route independent of the closed forms in the worked solutions
(:mod:`solutions.nb02`): Gauss-Hermite quadrature of
the expectations that define the KL and the ELBO, a numerical integral for
``log p(x)``. It prints "correct" or "not yet" and returns a bool. ``None``
means "not answered yet".

Example:

>>> from vae_keras.exercises import nb02
>>> nb02.check_kl_to_prior(None)
Exercise 1 (KL to the prior): not answered yet.
False
"""

import numpy as np

from vae_keras.exercises._check import gaussian_expectation, report

# Exercises 1-3: the 1-D model z ~ N(0, 1), x | z ~ N(W z + B, S^2), one
# observed X, and a Gaussian q = N(Q_MEAN, Q_STD^2). Exercise 1 is that
# q's KL to the prior. Q_MEAN != Q_MEAN^2 and Q_STD differs from Q_STD^2,
# from 1 and from 1 / W, so mu-for-mu^2 and sigma-for-sigma^2 slips show.
W = 2.0
B = 0.5
S = 1.0
X = 3.0
Q_MEAN = 0.8
Q_STD = 0.3
KL_MEAN = Q_MEAN
KL_STD = Q_STD

# Exercise 4: decoder weights of a model with unit noise; best diagonal q's variances.
MEAN_FIELD_WEIGHTS = np.array([[1.0, 0.5], [0.5, 1.0], [1.0, -0.5]])


def _log_normal(x, mean, std):
    return -0.5 * np.log(2.0 * np.pi * std**2) - 0.5 * ((x - mean) / std) ** 2


def _kl_by_quadrature(mean_q, std_q, mean_p, std_p):
    """KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)) as E_q[log q - log p]."""
    return gaussian_expectation(
        lambda z: _log_normal(z, mean_q, std_q) - _log_normal(z, mean_p, std_p), mean_q, std_q)


def _elbo_by_quadrature(mean_q, std_q):
    """E_q[log p(X | z) + log p(z) - log q(z)] for the 1-D model."""
    return gaussian_expectation(
        lambda z: (_log_normal(X, W * z + B, S) + _log_normal(z, 0.0, 1.0)
                   - _log_normal(z, mean_q, std_q)),
        mean_q, std_q)


def _log_marginal_by_integration():
    z = np.linspace(-12.0, 12.0, 240_001)
    log_joint = _log_normal(X, W * z + B, S) + _log_normal(z, 0.0, 1.0)
    top = log_joint.max()
    return float(top + np.log(np.sum(np.exp(log_joint - top)) * (z[1] - z[0])))


def check_kl_to_prior(answer):
    """Exercise 1: ``KL(N(KL_MEAN, KL_STD^2) || N(0, 1))`` in nats.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches to 1e-3.

    Example:

    >>> check_kl_to_prior([0.5])  # doctest: +ELLIPSIS
    Exercise 1 (KL to the prior): not yet: expected a single number, received an array ...
    False
    """
    mean, var = KL_MEAN, KL_STD**2
    expected = _kl_by_quadrature(KL_MEAN, KL_STD, 0.0, 1.0)
    mistakes = [
        (_kl_by_quadrature(0.0, 1.0, KL_MEAN, KL_STD),
         "that is KL(N(0, 1) || q), the reverse direction"),
        (0.5 * (var + mean - 1.0 - np.log(var)), "the mean enters squared"),
        (0.5 * (KL_STD + mean**2 - 1.0 - np.log(KL_STD)),
         "the second parameter is the standard deviation: the formula needs the variance sigma^2"),
        (-expected, "a KL divergence is never negative: check the sign"),
    ]
    return report("Exercise 1 (KL to the prior)", answer, expected, rtol=0, atol=1e-3,
                  mistakes=mistakes, hint="use 0.5 (sigma^2 + mu^2 - 1 - log sigma^2)")


def check_elbo_1d(answer):
    """Exercise 2: the ELBO of ``q = N(Q_MEAN, Q_STD^2)`` for the 1-D model at ``X``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches ``E_q[log p(X, z) - log q(z)]`` to 1e-3.

    Example:

    >>> check_elbo_1d(None)
    Exercise 2 (ELBO of a given q): not answered yet.
    False
    """
    expected = _elbo_by_quadrature(Q_MEAN, Q_STD)
    kl = _kl_by_quadrature(Q_MEAN, Q_STD, 0.0, 1.0)
    log_lik_at_mean = _log_normal(X, W * Q_MEAN + B, S)
    mistakes = [
        (log_lik_at_mean - kl,
         "E_q[(x - w z - b)^2] is (x - w m - b)^2 PLUS w^2 sigma^2: the spread of q costs too"),
        (log_lik_at_mean - 0.5 * W**2 * Q_STD / S**2 - kl,
         "the extra term is w^2 sigma^2 / (2 s^2), with the variance sigma^2"),
        (expected + 2.0 * kl, "subtract the KL to the prior, do not add it"),
    ]
    return report("Exercise 2 (ELBO of a given q)", answer, expected, rtol=0, atol=1e-3,
                  mistakes=mistakes,
                  hint="E_q[(x - w z - b)^2] = (x - w m - b)^2 + w^2 sigma^2; then subtract the KL")


def check_gap_1d(answer):
    """Exercise 3: ``log p(X) - ELBO(q)`` for the same ``q``, which is ``KL(q || p(z | X))``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches ``log p(X)`` (numerical integral) minus the ELBO
        (quadrature) to 1e-3.

    Example:

    >>> check_gap_1d(None)
    Exercise 3 (the gap): not answered yet.
    False
    """
    expected = _log_marginal_by_integration() - _elbo_by_quadrature(Q_MEAN, Q_STD)
    post_std = S / np.sqrt(W**2 + S**2)
    post_mean = W * (X - B) / (W**2 + S**2)
    mistakes = [
        (_kl_by_quadrature(post_mean, post_std, Q_MEAN, Q_STD),
         "that is KL(posterior || q): the gap is KL(q || posterior)"),
        (_kl_by_quadrature(Q_MEAN, Q_STD, post_mean, post_std**2),
         "s^2 / (w^2 + s^2) is the posterior VARIANCE: take its square root for the std"),
        (_kl_by_quadrature(Q_MEAN, Q_STD, 0.0, 1.0),
         "that is the KL to the prior N(0, 1), not to the posterior"),
        (-expected, "the gap is a KL divergence: never negative"),
    ]
    return report("Exercise 3 (the gap)", answer, expected, rtol=0, atol=1e-3, mistakes=mistakes,
                  hint="the posterior is N(w (x - b) / (w^2 + s^2), s^2 / (w^2 + s^2))")


def check_mean_field_variances(answer):
    """Exercise 4: variances of the best diagonal Gaussian ``q`` for ``MEAN_FIELD_WEIGHTS``.

    Args:
        answer: Array-like of the ``d`` variances, or None.

    Returns:
        True when it equals ``1 / diag(I + W^T W)`` to 1e-3.

    Example:

    >>> check_mean_field_variances(0.35)  # doctest: +ELLIPSIS
    Exercise 4 (mean-field variances): not yet: expected an array of shape (2,), received ...
    False
    """
    gram = MEAN_FIELD_WEIGHTS.T @ MEAN_FIELD_WEIGHTS
    expected = 1.0 / (1.0 + np.diag(gram))
    mistakes = [(np.diag(np.linalg.inv(np.eye(2) + gram)),
                 "those are the posterior's marginal variances: the best diagonal q has "
                 "1 / (diagonal of the precision), which is smaller")]
    return report("Exercise 4 (mean-field variances)", answer, expected, rtol=0, atol=1e-3,
                  mistakes=mistakes,
                  hint="the posterior precision is I + W^T W; invert its diagonal entries")
