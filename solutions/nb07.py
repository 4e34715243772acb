"""Worked solutions for notebook 07 (evaluating VAEs, and pitfalls).

The checks are in :mod:`vae_keras.exercises.nb07`.
"""

import math

import numpy as np
from keras import ops

from vae_keras.exercises import nb07


def bits_per_dim():
    """Exercise 1: ``bits/dim = nats / (D ln 2)``.

    One bit is ``ln 2`` nats, so dividing by ``ln 2`` converts nats to bits;
    dividing by the number of pixels ``D`` makes it per dimension.

    Returns:
        The negative log-likelihood in bits per dimension.

    Example:

    >>> round(bits_per_dim(), 4)
    0.1597
    """
    bits_per_image = nb07.BITS_NLL_NATS / math.log(2.0)
    return bits_per_image / nb07.BITS_DIMS


def iw_bound_solution(log_weights):
    """``log (1/K) sum_k exp(log w_k)`` per row, by a shifted log-sum-exp.

    With ``m = max_k log w_k``: ``log mean_k exp(log w_k) = m + log mean_k
    exp(log w_k - m)``. Every shifted exponent is <= 0 and the largest is
    exactly 0, so the mean is in ``[1/K, 1]``: no underflow, even near -900.

    Args:
        log_weights: Log importance weights ``(n, K)``: examples by samples.

    Returns:
        Array ``(n,)``, in nats.
    """
    log_weights = np.asarray(log_weights, "float64")
    top = np.max(log_weights, axis=1, keepdims=True)
    return top[:, 0] + np.log(np.mean(np.exp(log_weights - top), axis=1))


def iw_bound_function():
    """Exercise 2: the function the student writes.

    Returns:
        :func:`iw_bound_solution`.

    Example:

    >>> float(iw_bound_function()(np.full((1, 3), -900.0))[0])
    -900.0
    """
    return iw_bound_solution


def bce_integral():
    """Exercise 3: ``integral_0^1 lambda^x (1 - lambda)^(1 - x) dx`` in closed form.

    ``exp(-BCE(x; lambda)) = (1 - lambda) exp(x log(lambda / (1 - lambda)))``,
    an exponential in ``x`` with rate ``r = log(lambda / (1 - lambda))``; its
    integral over ``[0, 1]`` is ``(1 - lambda) (e^r - 1) / r
    = (2 lambda - 1) / r``.

    Returns:
        The integral (below 1: BCE is not a density on grey levels).

    Example:

    >>> round(bce_integral(), 4)
    0.3641
    """
    lam = nb07.CB_LAMBDA
    rate = math.log(lam) - math.log(1.0 - lam)
    return (1.0 - lam) * math.expm1(rate) / rate


def free_bits_kl_solution(z_mean, z_log_var, free_bits):
    """``sum_i max(free_bits, mean over the batch of KL_i)``: the free-bits KL term.

    ``KL_i`` is the KL of latent dimension ``i`` to ``N(0, 1)``, one per
    example; it is averaged over the batch BEFORE the floor, so an example
    cannot dodge the floor on its own.

    Args:
        z_mean: Posterior means ``(batch, latent_dim)``.
        z_log_var: Posterior log-variances, same shape.
        free_bits: The floor ``lambda``, in nats per dimension.

    Returns:
        A scalar tensor, in nats.
    """
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    kl_dims = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
    return ops.sum(ops.maximum(ops.mean(kl_dims, axis=0), free_bits))


def free_bits_kl():
    """Exercise 4: the function the student writes.

    Returns:
        :func:`free_bits_kl_solution`.

    Example:

    >>> zeros = np.zeros((2, 3), "float32")
    >>> round(float(free_bits_kl()(zeros, zeros, 0.25)), 4)
    0.75
    """
    return free_bits_kl_solution


def gaps():
    """Exercise 5: ``[log p(x) - ELBO(q*), ELBO(q*) - ELBO(encoder)]``.

    The approximation gap is what the best Gaussian q still misses; the
    amortisation gap is what the encoder loses against that best q. Both are
    positive and add up to ``log p(x) - ELBO(encoder)``.

    Returns:
        ``[approximation gap, amortisation gap]`` in nats.

    Example:

    >>> [round(g, 4) for g in gaps()]
    [2.8, 5.5]
    """
    approximation = nb07.GAPS_LOG_PX - nb07.GAPS_OPTIMISED_ELBO
    amortisation = nb07.GAPS_OPTIMISED_ELBO - nb07.GAPS_ENCODER_ELBO
    return [approximation, amortisation]
