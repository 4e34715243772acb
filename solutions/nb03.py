"""Worked solutions for notebook 03 (the sampling layer).

The checks are in :mod:`vae_keras.exercises.nb03`.
"""

import math

import keras
import numpy as np
from keras import ops

from vae_keras.exercises import nb03


def sample_log_std(z_mean, z_log_std, epsilon):
    """Reparameterised ``z`` for an encoder that outputs log-standard deviations.

    Args:
        z_mean: Array of means.
        z_log_std: Array of log-standard deviations, same shape.
        epsilon: Array of standard normal noise, same shape.

    Returns:
        ``z_mean + exp(z_log_std) * epsilon``: the std is ``exp`` of the
        log-std, with no factor 0.5 (that belongs to a log-variance).
    """
    return z_mean + np.exp(z_log_std) * epsilon


def log_std_sampling():
    """Exercise 1: the function the student writes.

    Returns:
        :func:`sample_log_std`.

    Example:

    >>> float(log_std_sampling()(np.zeros(1), np.log(2.0) * np.ones(1), np.ones(1))[0])
    2.0
    """
    return sample_log_std


def exp_gradient(num_draws=nb03.EXP_MIN_DRAWS, seed=0):
    """Exercise 2: reparameterised Monte Carlo gradient of ``E[exp(z)]``, ``z = mu + sigma eps``.

    Per draw, ``d/d mu exp(mu + sigma eps) = exp(z)`` and
    ``d/d sigma = eps exp(z)``; the estimate averages them. (Closed form:
    ``E[exp(z)] = exp(mu + sigma^2 / 2)``, so the gradient is that times
    ``(1, sigma)``.)

    Args:
        num_draws: Number of draws of eps.
        seed: Seed of the draws.

    Returns:
        Array ``(d/d mu, d/d sigma)``.

    Example:

    >>> closed = math.exp(nb03.EXP_MU + nb03.EXP_SIGMA**2 / 2) * np.array([1.0, nb03.EXP_SIGMA])
    >>> bool(np.all(np.abs(exp_gradient() - closed) < 0.1))
    True
    """
    eps = np.random.default_rng(seed).standard_normal(num_draws)
    f = np.exp(nb03.EXP_MU + nb03.EXP_SIGMA * eps)
    return np.array([f.mean(), (eps * f).mean()])


def _standard_normal_moment(k):
    """E[eps^k] for eps ~ N(0, 1): 0 for odd k, (k - 1)!! for even k."""
    return 0.0 if k % 2 else float(np.prod(np.arange(k - 1, 0, -2))) if k else 1.0


def score_variance():
    """Exercise 3: variance of the n-draw score-function estimator of d/d mu E[z^2].

    One draw is ``g = z^2 (z - mu) / sigma^2 = (mu + sigma eps)^2 eps / sigma``.
    Its mean is ``2 mu``; its second moment expands with the binomial theorem:
    ``E[g^2] = sum_k C(4, k) mu^(4-k) sigma^k E[eps^(k+2)] / sigma^2``.
    The average of n independent draws has 1/n of the variance.

    Returns:
        The variance (a float).

    Example:

    >>> round(score_variance(), 4)
    2.4505
    """
    mu, sigma, n = nb03.SCORE_MU, nb03.SCORE_SIGMA, nb03.SCORE_N
    second = sum(math.comb(4, k) * mu ** (4 - k) * sigma**k * _standard_normal_moment(k + 2)
                 for k in range(5)) / sigma**2
    return (second - (2.0 * mu) ** 2) / n


def wrong_std_variance():
    """Exercise 4: ``Var(exp(v) eps) = exp(v)^2 = exp(2 v)``, the square of the intended variance.

    Returns:
        The variance (a float).

    Example:

    >>> round(wrong_std_variance(), 2)
    20.09
    """
    return math.exp(nb03.WRONG_STD_Z_LOG_VAR) ** 2


class LogStdSampling(keras.layers.Layer):
    """Draws ``z ~ N(z_mean, exp(z_log_std)^2)`` as ``z_mean + exp(z_log_std) * eps``.

    Like ``vae_keras.Sampling``, but for an encoder whose second head is a
    log-standard deviation. The layer keeps its own SeedGenerator, so each
    call draws fresh noise, shaped like ``z_mean``.

    Args:
        seed: Optional int seed of the layer's SeedGenerator.
        **kwargs: Base layer keyword arguments.

    Call arguments:
        inputs: A list ``[z_mean, z_log_std]`` of two tensors of equal shape.

    Returns:
        ``z``, shaped like ``z_mean``.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_std = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype,
                                      seed=self.seed_generator)
        return z_mean + ops.exp(z_log_std) * epsilon


def log_std_layer():
    """Exercise 5: the layer class the student writes.

    Returns:
        :class:`LogStdSampling`.

    Example:

    >>> zeros = np.zeros((2, 3), "float32")
    >>> tuple(log_std_layer()(seed=0)([zeros, zeros]).shape)
    (2, 3)
    """
    return LogStdSampling
