"""Worked solutions for notebook 01 (latent-variable models).

The checks are in :mod:`vae_keras.exercises.nb01`.
"""

import math

from vae_keras.exercises import nb01


def _normal_pdf(x, mean, std):
    return math.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2.0 * math.pi))


def posterior_group():
    """Exercise 1: ``p(z = 1 | x)`` by Bayes' rule, ``p(x | 1) p(1) / sum_z p(x | z) p(z)``.

    Returns:
        A probability.

    Example:

    >>> round(posterior_group(), 4)
    0.6523
    """
    prior = (1.0 - nb01.GROUP_PRIOR, nb01.GROUP_PRIOR)
    joint = [prior[k] * _normal_pdf(nb01.HEIGHT, nb01.GROUP_MEANS[k], nb01.GROUP_STDS[k])
             for k in (0, 1)]
    return joint[1] / sum(joint)


def log_marginal_1d():
    """Exercise 2: ``x = w z + b + s eps`` is Gaussian with mean ``b`` and variance ``w^2 + s^2``.

    Returns:
        ``log p(x)`` in nats.

    Example:

    >>> round(log_marginal_1d(), 4)
    -2.3487
    """
    variance = nb01.W**2 + nb01.S**2
    return -0.5 * math.log(2.0 * math.pi * variance) - (nb01.X - nb01.B) ** 2 / (2.0 * variance)


def naive_estimate_k1():
    """Exercise 3: ``E_{p(z)}[log p(x | z)]``, with ``E[(x - w z - b)^2] = (x - b)^2 + w^2``.

    It is below ``log p(x)`` (exercise 2), as Jensen's inequality demands.

    Returns:
        The expected naive estimate in nats.

    Example:

    >>> naive_estimate_k1() < log_marginal_1d()
    True
    """
    expected_square = (nb01.X - nb01.B) ** 2 + nb01.W**2   # E[z] = 0, E[z^2] = 1
    return -0.5 * math.log(2.0 * math.pi * nb01.S**2) - expected_square / (2.0 * nb01.S**2)
