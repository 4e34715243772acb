"""Answer checks for ``notebooks/01_latent_variable_models.ipynb``.

Each check computes the expected value itself from the constants below, by
a route independent of the worked solutions in
:mod:`solutions.nb01` (a numerical integral where the
solution uses a closed form), prints "correct" or "not yet", and returns a
bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb01
>>> nb01.check_posterior_group(None)
Exercise 1 (posterior of the group): not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import gaussian_expectation, report

# Exercise 1: two groups with equal prior, heights in metres.
GROUP_PRIOR = 0.5             # p(z = 1)
GROUP_MEANS = (1.63, 1.77)    # mean height of group 0 and group 1
GROUP_STDS = (0.065, 0.07)
HEIGHT = 1.72                 # the observed x

# Exercises 2 and 3: a 1-D linear-Gaussian model z ~ N(0, 1), x | z ~ N(w z + b, s^2).
W = 2.0
B = 0.5
S = 1.0
X = 3.0


def _normal_log_pdf(x, mean, std):
    return -0.5 * np.log(2.0 * np.pi * std**2) - 0.5 * ((x - mean) / std) ** 2


def _log_marginal_by_integration():
    """log p(X) = log of the integral of p(X | z) p(z) dz, on a fine grid."""
    z = np.linspace(-12.0, 12.0, 240_001)
    log_joint = _normal_log_pdf(X, W * z + B, S) + _normal_log_pdf(z, 0.0, 1.0)
    top = log_joint.max()
    return float(top + np.log(np.sum(np.exp(log_joint - top)) * (z[1] - z[0])))


def check_posterior_group(answer):
    """Exercise 1: ``p(z = 1 | x = HEIGHT)`` by Bayes' rule.

    Args:
        answer: A probability (float), or None.

    Returns:
        True when it matches to 5e-4.

    Example:

    >>> check_posterior_group(1.5)
    Exercise 1 (posterior of the group): not yet: normalise p(x | z) p(z) over both values of z.
    False
    """
    joint = [(1.0 - GROUP_PRIOR) * math.exp(_normal_log_pdf(HEIGHT, GROUP_MEANS[0], GROUP_STDS[0])),
             GROUP_PRIOR * math.exp(_normal_log_pdf(HEIGHT, GROUP_MEANS[1], GROUP_STDS[1]))]
    expected = joint[1] / sum(joint)
    same_std = [math.exp(-0.5 * ((HEIGHT - m) / GROUP_STDS[0]) ** 2) for m in GROUP_MEANS]
    mistakes = [(1.0 - expected, "that is p(z = 0 | x), the other group"),
                (joint[1] / GROUP_PRIOR, "that is the density p(x | z = 1): divide by p(x)"),
                (same_std[1] / sum(same_std),
                 "the groups have different standard deviations: keep the 1/sigma factors")]
    return report("Exercise 1 (posterior of the group)", answer, expected, rtol=0, atol=5e-4,
                  mistakes=mistakes, hint="normalise p(x | z) p(z) over both values of z")


def check_log_marginal_1d(answer):
    """Exercise 2: exact ``log p(x = X)`` of the 1-D linear-Gaussian model.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches ``log p(X)`` (a numerical integral here) to 1e-3.

    Example:

    >>> check_log_marginal_1d(None)
    Exercise 2 (exact log p(x)): not answered yet.
    False
    """
    expected = _log_marginal_by_integration()
    mistakes = [(_normal_log_pdf(X, B, W + S),
                 "add the variances w^2 + s^2, not the standard deviations"),
                (_normal_log_pdf(X, B, W**2 + S**2),
                 "w^2 + s^2 is the variance: the standard deviation is its square root"),
                (_normal_log_pdf(X, B, W),
                 "x = w z + b + s eps: the noise adds s^2 to the variance")]
    return report("Exercise 2 (exact log p(x))", answer, expected, rtol=0, atol=1e-3,
                  mistakes=mistakes, hint="x = w z + b + s eps is Gaussian: add the variances")


def check_naive_estimate_k1(answer):
    """Exercise 3: the expected naive estimate with one sample, ``E_{p(z)}[log p(X | z)]``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it matches the expectation (Gauss-Hermite quadrature) to 1e-3.

    Example:

    >>> check_naive_estimate_k1(None)
    Exercise 3 (naive estimate, K = 1): not answered yet.
    False
    """
    expected = gaussian_expectation(lambda z: _normal_log_pdf(X, W * z + B, S), 0.0, 1.0)
    mistakes = [(_normal_log_pdf(X, B, S),
                 "that is log p(x | z = E[z]): the average of the log is not the log at "
                 "the average, E[(x - w z - b)^2] has an extra w^2"),
                (_log_marginal_by_integration(), "that is log p(x) itself (exercise 2)")]
    return report("Exercise 3 (naive estimate, K = 1)", answer, expected, rtol=0, atol=1e-3,
                  mistakes=mistakes, hint="expand E[(x - w z - b)^2] with E[z] = 0 and E[z^2] = 1")
