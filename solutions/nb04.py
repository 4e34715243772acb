"""Worked solutions for notebook 04 (the KL loss and a first VAE).

The checks are in :mod:`vae_keras.exercises.nb04`.
"""

import math

import keras
import numpy as np
from keras import ops

from vae_keras.exercises import nb04


def kl():
    """Exercise 1: ``KL(N(mu, diag sigma^2) || N(0, I))`` with ``vae_keras.kl_divergence``.

    ``kl_divergence`` takes log-VARIANCES, so ``log(sigma^2)`` is passed.

    Returns:
        The KL in nats, summed over dimensions.

    Example:

    >>> round(kl(), 4)
    1.8112
    """
    from vae_keras.models import kl_divergence

    log_var = np.log(nb04.KL_SIGMA**2)
    value = kl_divergence(nb04.KL_MU[None].astype("float32"), log_var[None].astype("float32"))
    return float(ops.convert_to_numpy(value)[0])


def reverse_kl():
    """Exercise 2: ``KL(N(0, 1) || N(mu, sigma^2)) = log sigma + (1 + mu^2) / (2 sigma^2) - 1/2``.

    Under ``N(0, 1)``: ``E[log N(z; 0, 1)] = -0.5 log 2 pi - 1/2`` and
    ``E[-log N(z; mu, sigma^2)] = 0.5 log(2 pi sigma^2) + (1 + mu^2) / (2 sigma^2)``.

    Returns:
        The KL in nats.

    Example:

    >>> round(reverse_kl(), 4)
    0.261
    """
    mu, sigma = nb04.REVERSE_MU, nb04.REVERSE_SIGMA
    return math.log(sigma) + (1.0 + mu**2) / (2.0 * sigma**2) - 0.5


def _measured_beta(loss, x_pair, latent_pair, nll):
    """Effective beta of a black-box loss, ``(d loss / d KL_sum) / (d loss / d NLL_sum)``.

    ``loss(x, x_decoded, z_mean, z_log_var)`` is evaluated at two decoder
    outputs (same latents) and at two latent settings (same decoder output).
    """
    from vae_keras.models import kl_divergence

    x, decoded = x_pair
    value = lambda i, j: float(loss(x, decoded[i], *latent_pair[j]))
    nlls = [float(np.mean(nll(x, d))) for d in decoded]
    kls = [float(ops.mean(kl_divergence(*latents))) for latents in latent_pair]
    c = (value(1, 0) - value(0, 0)) / (nlls[1] - nlls[0])
    c_beta = (value(0, 1) - value(0, 0)) / (kls[1] - kls[0])
    return c_beta / c


def _bernoulli_nll(x, p):
    return -np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p), axis=tuple(range(1, x.ndim)))


def effective_beta():
    """Exercise 3: measure the beta of ``mean BCE + mean KL`` by finite differences.

    Returns:
        The measured effective beta.

    Example:

    >>> round(effective_beta(), 2)
    48.0
    """
    rng = np.random.default_rng(0)
    shape = (8,) + nb04.BETA_IMAGE_SHAPE
    x = (rng.random(shape) < 0.5).astype("float32")
    decoded = [np.full(shape, 0.5, "float32"),                     # two decoder outputs, far apart
               np.where(x == 1, 0.8, 0.2).astype("float32")]
    d = nb04.BETA_LATENT_DIM
    latents = [(rng.normal(0.0, 1.0, (8, d)), rng.normal(-1.0, 0.3, (8, d))),    # two posteriors
               (rng.normal(0.0, 2.0, (8, d)), rng.normal(-2.0, 0.3, (8, d)))]
    latents = [tuple(a.astype("float32") for a in pair) for pair in latents]

    def colleague_loss(x, x_decoded, z_mean, z_log_var):
        flat = lambda t: ops.reshape(t, (ops.shape(t)[0], -1))
        kl_per_dim = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        return ops.mean(keras.losses.binary_crossentropy(flat(x), flat(x_decoded))
                        + ops.mean(kl_per_dim, axis=-1))

    return _measured_beta(colleague_loss, (x, decoded), latents, _bernoulli_nll)


def decoder_variance():
    """Exercise 4: the variance that makes ``MSE + w KL`` proportional to the -ELBO.

    The -ELBO of a Gaussian decoder with variance ``s2`` is
    ``SSE / (2 s2) + KL + const``: its KL weight relative to the SSE is
    ``2 s2``. The colleague's loss has relative KL weight ``w / (1 / D)``,
    measured here by finite differences; equate and solve for ``s2``.

    Returns:
        The decoder variance.

    Example:

    >>> round(decoder_variance(), 4)
    3.92
    """
    rng = np.random.default_rng(1)
    shape = (8, nb04.VARIANCE_PIXELS)
    x = rng.random(shape).astype("float32")
    decoded = [rng.random(shape).astype("float32"), x + 0.1]        # two decoder outputs, far apart
    latents = [(rng.normal(0.0, 1.0, (8, 2)), rng.normal(0.0, 1.0, (8, 2))),    # two posteriors
               (rng.normal(0.0, 2.0, (8, 2)), rng.normal(-1.0, 0.5, (8, 2)))]
    latents = [tuple(a.astype("float32") for a in pair) for pair in latents]

    def colleague_loss(x, x_decoded, z_mean, z_log_var):
        kl_sum = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
        mse = keras.losses.mean_squared_error(x, x_decoded)
        return ops.mean(mse + nb04.VARIANCE_KL_WEIGHT * kl_sum)

    def sum_of_squares(x, x_decoded):
        return np.sum((x.astype("float64") - x_decoded) ** 2, axis=-1)

    kl_weight_relative_to_sse = _measured_beta(colleague_loss, (x, decoded), latents,
                                               sum_of_squares)
    return kl_weight_relative_to_sse / 2.0


def kl_per_example(z_mean, z_log_var):
    """``KL(N(z_mean, exp(z_log_var)) || N(0, I))`` per row, summed over the latent axis.

    Args:
        z_mean: Array or tensor ``(batch, latent_dim)``.
        z_log_var: Log-variances, same shape.

    Returns:
        Tensor ``(batch,)``.
    """
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def kl_function():
    """Exercise 5: the function the student writes.

    Returns:
        :func:`kl_per_example`.

    Example:

    >>> tuple(kl_function()(np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")).shape)
    (2,)
    """
    return kl_per_example


def bernoulli_nll_from_logits_solution(x, logits):
    """``-log p(x | l) = softplus(l) - x l`` per pixel, summed over every non-batch axis.

    Exact for any logit: ``softplus`` never takes the log of a rounded 0.

    Args:
        x: Binary data ``(batch, ...)``.
        logits: Decoder logits, same shape.

    Returns:
        Tensor ``(batch,)``, in nats.
    """
    x, logits = ops.convert_to_tensor(x), ops.convert_to_tensor(logits)
    per_pixel = ops.softplus(logits) - ops.cast(x, logits.dtype) * logits
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=1)


def bernoulli_nll_from_logits():
    """Exercise 6: the function the student writes.

    Returns:
        :func:`bernoulli_nll_from_logits_solution`.

    Example:

    >>> nll = bernoulli_nll_from_logits()
    >>> round(float(nll(np.zeros((1, 1), "float32"), np.full((1, 1), 50.0, "float32"))[0]), 3)
    50.0
    """
    return bernoulli_nll_from_logits_solution
