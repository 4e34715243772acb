"""Answer checks for ``notebooks/04_kl_loss_and_first_vae.ipynb``.

Each check computes the expected value itself from the closed forms derived
in the notebook, prints "correct" or "not yet", and returns a bool. ``None``
means "not answered yet".

Example:

>>> from vae_keras.exercises import nb04
>>> nb04.check_kl(None)
Exercise 1 (KL to the prior): not answered yet.
False
"""

import numpy as np

from vae_keras.exercises._check import report

# Exercise 1: q = N(KL_MU, diag(KL_SIGMA**2)), KL(q || N(0, I)) summed over dims.
KL_MU = np.array([1.0, -0.5, 0.0])
KL_SIGMA = np.array([0.5, 1.0, 2.0])

# Exercise 2: the direction seed 003 writes, KL(N(0, 1) || N(REVERSE_MU, REVERSE_SIGMA**2)).
REVERSE_MU = 1.0
REVERSE_SIGMA = 0.5

# Exercise 3: Keras' binary_crossentropy (mean over pixels) plus the KL
# averaged (not summed) over latent dimensions.
BETA_IMAGE_SHAPE = (28, 28, 1)
BETA_LATENT_DIM = 16

# Exercise 4: loss = mean squared error over VARIANCE_PIXELS pixels
# + VARIANCE_KL_WEIGHT * KL (summed over latent dimensions).
VARIANCE_PIXELS = 784
VARIANCE_KL_WEIGHT = 0.01


def _kl_to_standard_normal(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) per dimension, in nats."""
    variance = np.square(sigma)
    return 0.5 * (variance + np.square(mu) - 1.0 - np.log(variance))


def check_kl(answer):
    """Exercise 1: KL(N(KL_MU, diag(KL_SIGMA^2)) || N(0, I)) in nats.

    Args:
        answer: A number (the KL summed over the three dimensions), or None.

    Returns:
        True when it matches the closed form.
    """
    expected = float(np.sum(_kl_to_standard_normal(KL_MU, KL_SIGMA)))
    return report("Exercise 1 (KL to the prior)", answer, expected, rtol=1e-3,
                  hint="per dimension 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2), then sum")


def check_reverse_kl(answer):
    """Exercise 2: KL(N(0, 1) || N(REVERSE_MU, REVERSE_SIGMA^2)) in nats.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches the closed form of the reverse direction.
    """
    mu, sigma = REVERSE_MU, REVERSE_SIGMA
    # KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
    expected = np.log(sigma) + (1.0 + mu**2) / (2.0 * sigma**2) - 0.5
    return report("Exercise 2 (the reverse KL)", answer, expected, rtol=1e-3,
                  hint="the expectation is now under N(0, 1), and the log-ratio "
                       "is log N(0, 1) - log N(mu, sigma^2)")


def check_effective_beta(answer):
    """Exercise 3: the effective beta of mean-over-pixels BCE + mean-over-latents KL.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals (number of pixels) / (number of latent dimensions).
    """
    pixels = int(np.prod(BETA_IMAGE_SHAPE))
    expected = pixels / BETA_LATENT_DIM
    return report("Exercise 3 (effective beta)", answer, expected, rtol=1e-6,
                  hint="multiply the loss by the number of pixels so that the "
                       "reconstruction term becomes the summed NLL")


def check_decoder_variance(answer):
    """Exercise 4: the decoder variance for which MSE + w * KL is the (scaled) -ELBO.

    Args:
        answer: The variance sigma^2 of the Gaussian decoder, or None.

    Returns:
        True when ``VARIANCE_PIXELS * VARIANCE_KL_WEIGHT / 2`` is given.
    """
    # MSE + w KL = SSE / D + w KL = w * (SSE / (D w) + KL), and the -ELBO of a
    # Gaussian decoder with variance s2 is SSE / (2 s2) + KL + const.
    expected = VARIANCE_PIXELS * VARIANCE_KL_WEIGHT / 2.0
    return report("Exercise 4 (decoder variance)", answer, expected, rtol=1e-6,
                  hint="divide the loss by the KL weight and match SSE / (2 sigma^2)")
