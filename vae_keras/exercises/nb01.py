"""Answer checks for ``notebooks/01_latent_variable_models.ipynb``.

Each check computes the expected value itself from the constants below,
prints "correct" or "not yet", and returns a bool. ``None`` means "not
answered yet".

Example:

>>> from vae_keras.exercises import nb01
>>> nb01.check_posterior_group(None)
Exercise 1 (posterior of the group): not answered yet.
False
"""

import math

from vae_keras.exercises._check import report

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
    return -0.5 * math.log(2.0 * math.pi * std**2) - 0.5 * ((x - mean) / std) ** 2


def check_posterior_group(answer):
    """Exercise 1: ``p(z = 1 | x = HEIGHT)`` by Bayes' rule.

    Args:
        answer: A probability (float), or None.

    Returns:
        True when it matches to 3 decimals.
    """
    log_joint = [
        math.log(1.0 - GROUP_PRIOR) + _normal_log_pdf(HEIGHT, GROUP_MEANS[0], GROUP_STDS[0]),
        math.log(GROUP_PRIOR) + _normal_log_pdf(HEIGHT, GROUP_MEANS[1], GROUP_STDS[1]),
    ]
    expected = 1.0 / (1.0 + math.exp(log_joint[0] - log_joint[1]))
    return report("Exercise 1 (posterior of the group)", answer, expected, rtol=0, atol=5e-4,
                  hint="normalise p(x | z) p(z) over both values of z")


def check_log_marginal_1d(answer):
    """Exercise 2: exact ``log p(x = X)`` of the 1-D linear-Gaussian model.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it equals ``log N(X; B, W^2 + S^2)``.
    """
    expected = _normal_log_pdf(X, B, math.sqrt(W**2 + S**2))
    return report("Exercise 2 (exact log p(x))", answer, expected, rtol=0, atol=1e-3,
                  hint="x = w z + b + s eps is Gaussian: add the variances")


def check_naive_estimate_k1(answer):
    """Exercise 3: the expected naive estimate with one sample, ``E_{p(z)}[log p(X | z)]``.

    Args:
        answer: A float in nats, or None.

    Returns:
        True when it equals ``-0.5 log(2 pi S^2) - ((X - B)^2 + W^2) / (2 S^2)``.
    """
    expected = -0.5 * math.log(2.0 * math.pi * S**2) - ((X - B) ** 2 + W**2) / (2.0 * S**2)
    return report("Exercise 3 (naive estimate, K = 1)", answer, expected, rtol=0, atol=1e-3,
                  hint="expand E[(x - w z - b)^2] with E[z] = 0 and E[z^2] = 1")
