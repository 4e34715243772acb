"""Worked solutions for notebook 00 (quickstart); checks in :mod:`vae_keras.exercises.nb00`."""

import numpy as np

from vae_keras.exercises import nb00


def uninformative_decoder_loss():
    """Exercise 1: Bernoulli NLL of a binary image under p = 0.5 for every pixel.

    Each pixel costs ``-log 0.5 = log 2`` nats whatever its value, so any
    binary image gives the same total; computed here on a random one.

    Returns:
        The NLL in nats (a float).

    Example:

    >>> round(uninformative_decoder_loss(), 1)
    543.4
    """
    x = (np.random.default_rng(0).random(nb00.IMAGE_SHAPE) < 0.5).astype("float64")
    p = np.full(nb00.IMAGE_SHAPE, 0.5)
    return float(-np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p)))


def encoder_parameters():
    """Exercise 2: parameters of ``mlp_encoder((28, 28, 1), 2, hidden_units=(256,))``, by hand.

    A dense layer from ``n`` inputs to ``m`` outputs has ``n * m`` weights and
    ``m`` biases: flatten (784) -> hidden (256), then two heads of 2 units
    (``z_mean`` and ``z_log_var``) on the hidden layer.

    Returns:
        The number of trainable parameters (an int).

    Example:

    >>> encoder_parameters()
    201988
    """
    inputs = int(np.prod(nb00.IMAGE_SHAPE))
    total, width = 0, inputs
    for units in nb00.ENCODER_HIDDEN_UNITS:
        total += width * units + units
        width = units
    head = width * nb00.ENCODER_LATENT_DIM + nb00.ENCODER_LATENT_DIM
    return total + 2 * head


def kl_value():
    """Exercise 3: the KL term for one encoder output, with ``vae_keras.kl_divergence``.

    Returns:
        The KL in nats (a float).

    Example:

    >>> round(kl_value(), 4)
    1.5083
    """
    from keras import ops

    from vae_keras.models import kl_divergence

    z_mean = nb00.KL_Z_MEAN[None].astype("float32")          # a batch of one encoder output
    z_log_var = nb00.KL_Z_LOG_VAR[None].astype("float32")
    kl = kl_divergence(z_mean, z_log_var)
    return float(ops.convert_to_numpy(kl)[0])
