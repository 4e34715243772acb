"""Answer checks for notebook 00 (quickstart)."""

import math

import numpy as np

from vae_keras.exercises._check import report


def check_uninformative_decoder_loss(answer):
    """Exercise 1: Bernoulli NLL of one 28x28 image under p = 0.5 per pixel."""
    expected = 28 * 28 * math.log(2.0)
    return report("Exercise 1", answer, expected, rtol=1e-3,
                  hint="each pixel costs -log 0.5 nats, whatever its value")


def check_encoder_parameters(answer):
    """Exercise 2: parameters of mlp_encoder((28, 28, 1), 2, hidden_units=(256,))."""
    from vae_keras.architectures import mlp_encoder

    expected = mlp_encoder((28, 28, 1), 2, hidden_units=(256,)).count_params()
    return report("Exercise 2", answer, expected, rtol=0, atol=0.5,
                  hint="784 inputs -> 256 hidden units -> two heads of 2 units")


def check_kl_value(answer):
    """Exercise 3: KL(N([1, 0], I) || N(0, I))."""
    z_mean, z_log_var = np.array([1.0, 0.0]), np.zeros(2)
    expected = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var))
    return report("Exercise 3", answer, expected, rtol=1e-4,
                  hint="use -0.5 * sum(1 + log var - mean^2 - var)")
