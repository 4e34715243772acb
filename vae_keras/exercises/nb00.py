"""Answer checks for ``notebooks/00_quickstart.ipynb``.

Each check computes the expected value itself, by a route independent of
the worked solutions in :mod:`solutions.nb00`, prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb00
>>> nb00.check_kl_value(None)
Exercise 3: not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import gaussian_expectation, report

# Exercise 1: a decoder that outputs 0.5 for each of the 28 x 28 pixels.
IMAGE_SHAPE = (28, 28, 1)

# Exercise 2: the encoder whose parameters are counted.
ENCODER_HIDDEN_UNITS = (256,)
ENCODER_LATENT_DIM = 2

# Exercise 3: one encoder output. Chosen so that mu != mu^2 and
# log var != 0: the reverse KL, mu for mu^2 and log-std-for-log-var slips
# all give different numbers.
KL_Z_MEAN = np.array([1.5, -0.5])
KL_Z_LOG_VAR = np.array([-1.0, 0.5])


def _kl_by_quadrature(z_mean, z_log_var):
    """KL(N(m, e^v) || N(0, 1)) summed over dims, as E_q[log q - log p] by quadrature."""
    std = np.exp(0.5 * np.asarray(z_log_var, "float64"))
    mean = np.asarray(z_mean, "float64")

    def log_ratio(z):  # log N(z; m, s^2) - log N(z; 0, 1)
        return -np.log(std) - 0.5 * ((z - mean) / std) ** 2 + 0.5 * z**2

    return float(np.sum(gaussian_expectation(log_ratio, mean, std)))


def check_uninformative_decoder_loss(answer):
    """Exercise 1: Bernoulli NLL of one 28 x 28 binary image under p = 0.5 per pixel.

    Args:
        answer: A number in nats, or None.

    Returns:
        True when it equals ``784 log 2`` to 0.1 %.

    Example:

    >>> check_uninformative_decoder_loss(784)
    Exercise 1: not yet: that is in bits: the course measures in nats (natural logarithms).
    False
    """
    pixels = int(np.prod(IMAGE_SHAPE))
    expected = pixels * math.log(2.0)
    mistakes = [(pixels, "that is in bits: the course measures in nats (natural logarithms)"),
                (math.log(2.0), "that is one pixel: the loss sums over all 784 pixels"),
                (-expected, "a loss is a NEGATIVE log-likelihood: it is positive")]
    return report("Exercise 1", answer, expected, rtol=1e-3, mistakes=mistakes,
                  hint="each pixel costs -log 0.5 nats, whatever its value")


def check_encoder_parameters(answer):
    """Exercise 2: trainable parameters of ``mlp_encoder((28, 28, 1), 2, hidden_units=(256,))``.

    Args:
        answer: An integer, or None.

    Returns:
        True when it equals the model's ``count_params()`` exactly.

    Example:

    >>> check_encoder_parameters(None)
    Exercise 2: not answered yet.
    False
    """
    if answer is None:
        return report("Exercise 2", None, None)
    from vae_keras.architectures import mlp_encoder

    expected = mlp_encoder(IMAGE_SHAPE, ENCODER_LATENT_DIM,
                           hidden_units=ENCODER_HIDDEN_UNITS).count_params()
    return report("Exercise 2", answer, expected, rtol=0, atol=0.5,
                  hint="784 inputs -> 256 hidden units -> two heads (z_mean, z_log_var) "
                       "of 2 units; every dense layer has one bias per output")


def check_kl_value(answer):
    """Exercise 3: KL(N(KL_Z_MEAN, diag(exp(KL_Z_LOG_VAR))) || N(0, I)), summed over dims.

    Args:
        answer: A number in nats, or None.

    Returns:
        True when it matches to 0.1 %.

    Example:

    >>> check_kl_value([1.0, 0.5])
    Exercise 3: not yet: expected a single number, received an array of shape (2,).
    False
    """
    expected = _kl_by_quadrature(KL_Z_MEAN, KL_Z_LOG_VAR)
    mean, log_var = KL_Z_MEAN, KL_Z_LOG_VAR
    mistakes = [
        (np.sum(0.5 * log_var + (1.0 + mean**2) / (2.0 * np.exp(log_var)) - 0.5),
         "that is KL(N(0, I) || q), the reverse direction: the loss needs KL(q || N(0, I))"),
        (0.5 * np.sum(np.exp(2.0 * log_var) + mean**2 - 1.0 - 2.0 * log_var),
         "z_log_var is the log of the VARIANCE: the variance is exp(z_log_var)"),
        (0.5 * np.sum(np.exp(log_var) + mean - 1.0 - log_var),
         "the mean enters squared: z_mean^2, not z_mean"),
        (expected / len(mean), "sum over the latent dimensions, do not average"),
    ]
    return report("Exercise 3", answer, expected, rtol=1e-3, mistakes=mistakes,
                  hint="use -0.5 * sum(1 + z_log_var - z_mean^2 - exp(z_log_var)), "
                       "summed over the two dimensions")
