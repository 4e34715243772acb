"""Worked solutions for notebook 06 (conditional VAEs).

The checks are in :mod:`vae_keras.exercises.nb06`.
"""

import math

import numpy as np
from keras import ops

from vae_keras.exercises import nb06


def lecture_alpha():
    """Exercise 1: ``alpha = 2 s2 beta``, from dividing the lecture's loss by ``2 s2``.

    ``||x - f||^2 + alpha KL = 2 s2 (NLL - const + alpha / (2 s2) KL)``, where
    ``s2`` is the decoder's variance, the square of its standard deviation.

    Returns:
        The alpha that trains a beta-VAE with ``beta = TARGET_BETA``.

    Example:

    >>> round(lecture_alpha(), 4)
    0.32
    """
    variance = nb06.DECODER_STD**2
    return 2.0 * variance * nb06.TARGET_BETA


def label_bias():
    """Exercise 2: the pre-activation at ``z = 0`` is exactly the effective bias ``b + W_c[label]``.

    Returns:
        The effective bias vector (4 numbers).

    Example:

    >>> label_bias().shape
    (4,)
    """
    c = np.zeros(nb06.NUM_CLASSES)
    c[nb06.LABEL] = 1.0
    layer_input = np.concatenate([np.zeros(nb06.LATENT_DIM), c])     # [z, c] with z = 0
    return layer_input @ nb06.FIRST_LAYER_KERNEL + nb06.FIRST_LAYER_BIAS


def _two_completions(num_pixels=100, seed=0):
    """Two binary images that agree except on DIFFERING_PIXELS pixels."""
    first = (np.random.default_rng(seed).random(num_pixels) < 0.5).astype("float64")
    second = first.copy()
    second[: nb06.DIFFERING_PIXELS] = 1.0 - second[: nb06.DIFFERING_PIXELS]
    return first, second


def _bernoulli_nll(x, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(x == 1, -np.log(p), -np.log(1.0 - p))   # 0 log 0 never evaluated
    return float(np.sum(terms))


def regressor_nll():
    """Exercise 3a: the best independent-pixel model predicts each pixel's frequency.

    On the pixels where the two completions agree it is certain (0 nats);
    where they differ it predicts 1/2 (log 2 nats for either completion).

    Returns:
        The expected NLL in nats over the two equally likely completions.

    Example:

    >>> round(regressor_nll(), 3)
    13.863
    """
    first, second = _two_completions()
    p = 0.5 * (first + second)                       # the conditional mean minimises expected BCE
    return 0.5 * (_bernoulli_nll(first, p) + _bernoulli_nll(second, p))


def latent_model_nll():
    """Exercise 3b: ``p(x | c) = sum_z p(z) p(x | z, c)``, two sharp decoders, ``p(z) = 1/2``.

    Returns:
        ``-log p(x | c)`` in nats (the same for both completions).

    Example:

    >>> round(latent_model_nll(), 4)
    0.6931
    """
    first, second = _two_completions()
    decoders = (first, second)                       # p(x | z, c) reproduces completion z exactly
    likelihood = sum(0.5 * math.exp(-_bernoulli_nll(first, d)) for d in decoders)
    return -math.log(likelihood)


def conditional_prior_kl():
    """Exercise 4: KL between diagonal Gaussians, per dimension
    ``0.5 (log s_p^2 / s_q^2 + (s_q^2 + (m_q - m_p)^2) / s_p^2 - 1)``, summed.

    Returns:
        The KL in nats.

    Example:

    >>> round(conditional_prior_kl(), 4)
    0.3922
    """
    q_var, p_var = np.exp(nb06.Q_LOG_VAR), np.exp(nb06.PRIOR_LOG_VAR)
    per_dim = 0.5 * (nb06.PRIOR_LOG_VAR - nb06.Q_LOG_VAR
                     + (q_var + (nb06.Q_MEAN - nb06.PRIOR_MEAN) ** 2) / p_var - 1.0)
    return float(np.sum(per_dim))


def decoder_input_solution(z, labels, num_classes):
    """``[z, one_hot(labels)]`` along the last axis: the conditional decoder's input.

    Args:
        z: Latent codes ``(batch, latent_dim)``.
        labels: Integer labels ``(batch,)``.
        num_classes: Number of classes (columns of the one-hot code).

    Returns:
        Tensor ``(batch, latent_dim + num_classes)``.
    """
    z = ops.convert_to_tensor(z)
    one_hot = ops.one_hot(ops.convert_to_tensor(labels), num_classes, dtype=z.dtype)
    return ops.concatenate([z, one_hot], axis=-1)


def decoder_input():
    """Exercise 5: the function the student writes.

    Returns:
        :func:`decoder_input_solution`.

    Example:

    >>> tuple(decoder_input()(np.zeros((2, 2), "float32"), np.array([0, 9]), 10).shape)
    (2, 12)
    """
    return decoder_input_solution


def conditional_prior_kl_per_example(q_mean, q_log_var, p_mean, p_log_var):
    """``KL(N(q_mean, e^q_log_var) || N(p_mean, e^p_log_var))`` per row, summed over latents.

    Args:
        q_mean: Posterior means ``(batch, latent_dim)``.
        q_log_var: Posterior log-variances, same shape.
        p_mean: Prior means, same shape.
        p_log_var: Prior log-variances, same shape.

    Returns:
        Tensor ``(batch,)``, in nats.
    """
    q_mean, q_log_var, p_mean, p_log_var = (ops.convert_to_tensor(t)
                                            for t in (q_mean, q_log_var, p_mean, p_log_var))
    per_dim = 0.5 * (p_log_var - q_log_var
                     + (ops.exp(q_log_var) + ops.square(q_mean - p_mean)) / ops.exp(p_log_var)
                     - 1.0)
    return ops.sum(per_dim, axis=-1)


def conditional_prior_kl_function():
    """Exercise 6: the function the student writes.

    Returns:
        :func:`conditional_prior_kl_per_example`.

    Example:

    >>> zeros = np.zeros((1, 2), "float32")
    >>> float(conditional_prior_kl_function()(zeros, zeros, zeros, zeros)[0])
    0.0
    """
    return conditional_prior_kl_per_example
