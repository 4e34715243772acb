"""Worked solutions for notebook 02 (the ELBO); checks in :mod:`vae_keras.exercises.nb02`."""

import math

import numpy as np

from vae_keras.exercises import nb02


def _kl_1d(mean_q, std_q, mean_p, std_p):
    """KL(N(mean_q, std_q^2) || N(mean_p, std_p^2)), closed form."""
    return math.log(std_p / std_q) + (std_q**2 + (mean_q - mean_p) ** 2) / (2.0 * std_p**2) - 0.5


def kl_to_prior():
    """Exercise 1: ``KL(N(m, s^2) || N(0, 1)) = 0.5 (s^2 + m^2 - 1 - log s^2)``.

    Returns:
        The KL in nats.

    Example:

    >>> round(kl_to_prior(), 4)
    1.069
    """
    return _kl_1d(nb02.KL_MEAN, nb02.KL_STD, 0.0, 1.0)


def elbo_1d():
    """Exercise 2: ``E_q[log p(x | z)] - KL(q || N(0, 1))`` in closed form.

    ``E_q[(x - w z - b)^2] = (x - w m - b)^2 + w^2 s^2`` for ``q = N(m, s^2)``.

    Returns:
        The ELBO in nats.

    Example:

    >>> round(elbo_1d(), 4)
    -2.5729
    """
    m, s = nb02.Q_MEAN, nb02.Q_STD
    expected_square = (nb02.X - nb02.W * m - nb02.B) ** 2 + nb02.W**2 * s**2
    expected_log_lik = (-0.5 * math.log(2.0 * math.pi * nb02.S**2)
                        - expected_square / (2.0 * nb02.S**2))
    return expected_log_lik - _kl_1d(m, s, 0.0, 1.0)


def gap_1d():
    """Exercise 3: ``log p(x) - ELBO(q) = KL(q || p(z | x))``, with the exact posterior.

    The posterior of the 1-D model is ``N(w (x - b) / (w^2 + s^2), s^2 / (w^2 + s^2))``.

    Returns:
        The gap in nats.

    Example:

    >>> round(gap_1d(), 4)
    0.2243
    """
    post_var = nb02.S**2 / (nb02.W**2 + nb02.S**2)
    post_mean = nb02.W * (nb02.X - nb02.B) / (nb02.W**2 + nb02.S**2)
    return _kl_1d(nb02.Q_MEAN, nb02.Q_STD, post_mean, math.sqrt(post_var))


def mean_field_variances():
    """Exercise 4: the best diagonal q has variances ``1 / Lambda_jj``, Lambda the precision.

    The posterior covariance comes from ``vae_keras.toy.LinearGaussian`` (it
    does not depend on x); inverting it gives the precision. They are
    smaller than the posterior's marginal variances.

    Returns:
        Array of the two variances.

    Example:

    >>> np.round(mean_field_variances(), 4)
    array([0.3077, 0.4   ])
    """
    from vae_keras.toy import LinearGaussian

    weights = nb02.MEAN_FIELD_WEIGHTS
    model = LinearGaussian(weights=weights, bias=np.zeros(len(weights)))
    _, post_cov = model.posterior(np.zeros((1, model.data_dim)))
    precision = np.linalg.inv(post_cov)
    return 1.0 / np.diag(precision)
