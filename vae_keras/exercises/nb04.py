"""Answer checks for ``notebooks/04_kl_loss_and_first_vae.ipynb``.

Each check computes the expected value itself, by a route independent of
the worked solutions in :mod:`solutions.nb04`
(quadrature of the KL's defining expectation, the matrix form of the
Gaussian KL, ``logaddexp`` in float64), prints "correct" or "not yet", and
returns a bool. ``None`` means "not answered yet". Hints point to the idea
(a section of the notebook, a property to use), never to the formula or
the code, also after a wrong answer.

Example:

>>> from vae_keras.exercises import nb04
>>> nb04.check_kl(None)
Exercise 1 (KL to the prior): not answered yet.
False
"""

import numpy as np

from vae_keras.exercises._check import (
    call_student,
    compare,
    gaussian_expectation,
    not_answered,
    report,
    verdict,
)

# Exercise 1: q = N(KL_MU, diag(KL_SIGMA**2)), KL(q || N(0, I)) summed over dims.
# None of these (mu, sigma) pairs is in the notebook's tables; mu has a
# negative entry and sigma != 1, so every lecture slip changes the number.
KL_MU = np.array([0.8, -1.2, 0.3])
KL_SIGMA = np.array([0.4, 1.5, 0.9])

# Exercise 2: the direction Marchioro's notes write, KL(N(0, 1) || N(REVERSE_MU, REVERSE_SIGMA**2)).
REVERSE_MU = -0.7
REVERSE_SIGMA = 1.6

# Exercise 3: Keras' binary_crossentropy on flattened images (a mean over all
# pixel values) plus the KL averaged (not summed) over latent dimensions.
BETA_IMAGE_SHAPE = (32, 32, 3)
BETA_LATENT_DIM = 64

# Exercise 4: loss = mean squared error over VARIANCE_PIXELS pixels
# + VARIANCE_KL_WEIGHT * KL (summed over latent dimensions).
VARIANCE_PIXELS = 784
VARIANCE_KL_WEIGHT = 0.01

# Exercise 5: a batch of encoder outputs for the student's KL function; the
# last row is the prior itself (KL = 0).
FUNCTION_Z_MEAN = np.array([[0.8, -1.2, 0.3],
                            [2.0, 0.5, -0.4],
                            [-0.3, 0.0, 1.1],
                            [0.0, 0.0, 0.0]], dtype="float32")
FUNCTION_Z_LOG_VAR = np.array([[-1.8, 0.8, -0.2],
                               [0.5, -2.5, 1.0],
                               [-0.7, 0.3, 0.0],
                               [0.0, 0.0, 0.0]], dtype="float32")

# Exercise 6: binary images (batch of 3, 2 x 3 pixels) and decoder logits,
# some saturated (|logit| = 30 or 50, right or confidently wrong), where
# log(sigmoid(l)) overflows and clipped probabilities cap the loss.
LOGITS_X = np.array([[[1, 0, 1], [0, 1, 0]],
                     [[0, 0, 1], [1, 1, 0]],
                     [[1, 1, 0], [0, 0, 1]]], dtype="float32")[..., None]
LOGITS = np.array([[[30.0, 30.0, -50.0], [-2.0, 0.5, 1.5]],
                   [[-30.0, 50.0, 3.0], [-50.0, 0.0, -1.0]],
                   [[4.0, -3.0, -30.0], [50.0, 2.5, -0.8]]], dtype="float32")[..., None]


def _kl_to_standard_normal_by_quadrature(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) per dimension, as E_q[log q - log p]."""
    mu, sigma = np.asarray(mu, "float64"), np.asarray(sigma, "float64")
    return gaussian_expectation(
        lambda z: -np.log(sigma) - 0.5 * ((z - mu) / sigma) ** 2 + 0.5 * z**2, mu, sigma)


def _kl_matrix_form(z_mean, z_log_var):
    """Per row: 0.5 (tr S + m^T m - k - log det S), S = diag(exp(z_log_var)) as a full matrix."""
    kls = []
    for mean, log_var in zip(np.asarray(z_mean, "float64"), np.asarray(z_log_var, "float64")):
        covariance = np.diag(np.exp(log_var))
        _, log_det = np.linalg.slogdet(covariance)
        kls.append(0.5 * (np.trace(covariance) + mean @ mean - len(mean) - log_det))
    return np.array(kls)


def check_kl(answer):
    """Exercise 1: KL(N(KL_MU, diag(KL_SIGMA^2)) || N(0, I)) in nats.

    Args:
        answer: A number (the KL summed over the three dimensions), or None.

    Returns:
        True when it matches to 0.1 %.

    Example:

    >>> check_kl([0.4, 0.5, 0.1])  # doctest: +ELLIPSIS
    Exercise 1 (KL to the prior): not yet: expected a single number, received an array ...
    False
    """
    expected = float(np.sum(_kl_to_standard_normal_by_quadrature(KL_MU, KL_SIGMA)))
    mu, var = KL_MU, KL_SIGMA**2
    mistakes = [
        (0.5 * np.sum(var + mu - 1.0 - np.log(var)),
         "the term with the mean is off (Marchioro's slip): redo E_q[z^2] in section 1"),
        (0.5 * np.sum(KL_SIGMA + mu**2 - 1.0 - np.log(KL_SIGMA)),
         "KL_SIGMA holds standard deviations, and the closed form is written with variances"),
        (np.sum(np.log(KL_SIGMA) + (1.0 + mu**2) / (2.0 * var) - 0.5),
         "that is KL(p || q), the reverse direction"),
        (expected / len(mu), "the KL of a factorised Gaussian adds over the dimensions"),
        (-0.5 * np.sum(1.0 + KL_SIGMA - mu**2 - np.exp(KL_SIGMA)),
         "kl_divergence takes log-variances, not standard deviations"),
    ]
    return report("Exercise 1 (KL to the prior)", answer, expected, rtol=1e-3, mistakes=mistakes,
                  hint="use the closed form of section 1 one dimension at a time, with variances")


def check_reverse_kl(answer):
    """Exercise 2: KL(N(0, 1) || N(REVERSE_MU, REVERSE_SIGMA^2)) in nats.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches E_{N(0,1)}[log N(z; 0, 1) - log N(z; mu, sigma^2)]
        (quadrature) to 0.1 %.

    Example:

    >>> check_reverse_kl(None)
    Exercise 2 (the reverse KL): not answered yet.
    False
    """
    mu, sigma = REVERSE_MU, REVERSE_SIGMA
    expected = gaussian_expectation(
        lambda z: np.log(sigma) - 0.5 * z**2 + 0.5 * ((z - mu) / sigma) ** 2, 0.0, 1.0)
    mistakes = [
        (float(_kl_to_standard_normal_by_quadrature(mu, sigma)),
         "that is KL(q || p), the direction of the ELBO; this exercise asks for KL(N(0, 1) || q)"),
        (np.log(sigma) + (1.0 + mu) / (2.0 * sigma**2) - 0.5,
         "the term with the mean is off: expand the square in the exponent and take its "
         "expectation under N(0, 1)"),
        (2.0 * np.log(sigma) + (1.0 + mu**2) / (2.0 * sigma**2) - 0.5,
         "the normalising constants are off: compare those of N(0, 1) and N(mu, sigma^2)"),
        (np.log(sigma) + (1.0 + mu**2) / (2.0 * sigma) - 0.5,
         "the quadratic term is off: look again at what divides the square in a Gaussian's "
         "exponent"),
    ]
    return report("Exercise 2 (the reverse KL)", answer, expected, rtol=1e-3, mistakes=mistakes,
                  hint="the expectation is now under N(0, 1), and the log-ratio "
                       "is log N(0, 1) - log N(mu, sigma^2)")


def check_effective_beta(answer):
    """Exercise 3: the effective beta of mean-over-pixels BCE + mean-over-latents KL.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals (number of pixel values) / (number of latent dimensions)
        to 0.01 %.

    Example:

    >>> check_effective_beta(None)
    Exercise 3 (effective beta): not answered yet.
    False
    """
    values = int(np.prod(BETA_IMAGE_SHAPE))
    expected = values / BETA_LATENT_DIM
    mistakes = [(values, "the KL is averaged over the latent dimensions too"),
                (BETA_IMAGE_SHAPE[0] * BETA_IMAGE_SHAPE[1] / BETA_LATENT_DIM,
                 "the mean runs over every value of the flattened image, colour channels included"),
                (1.0 / expected, "that is 1 / beta: beta multiplies the KL once the reconstruction "
                                 "is the summed NLL")]
    return report("Exercise 3 (effective beta)", answer, expected, rtol=1e-4, mistakes=mistakes,
                  hint="as in section 2: find the factor that turns the reconstruction term "
                       "into the summed NLL, and read off the KL's weight after that rescaling")


def check_decoder_variance(answer):
    """Exercise 4: the decoder variance for which MSE + w * KL is the (scaled) -ELBO.

    Args:
        answer: The variance sigma^2 of the Gaussian decoder, or None.

    Returns:
        True when ``VARIANCE_PIXELS * VARIANCE_KL_WEIGHT / 2`` is given.

    Example:

    >>> check_decoder_variance(None)
    Exercise 4 (decoder variance): not answered yet.
    False
    """
    # MSE + w KL = SSE / D + w KL = w * (SSE / (D w) + KL), and the -ELBO of a
    # Gaussian decoder with variance s2 is SSE / (2 s2) + KL + const.
    expected = VARIANCE_PIXELS * VARIANCE_KL_WEIGHT / 2.0
    mistakes = [(2.0 * expected, "off by a factor 2: check the factor in front of the squared "
                                 "error in a Gaussian log-density"),
                (VARIANCE_PIXELS / 2.0, "the KL weight w changes the answer too"),
                (np.sqrt(expected),
                 "that is a standard deviation: the exercise asks for the variance")]
    return report("Exercise 4 (decoder variance)", answer, expected, rtol=1e-4, mistakes=mistakes,
                  hint="rescale the loss until the KL has weight 1, then match its "
                       "reconstruction term with the Gaussian NLL of variance sigma^2 (section 2)")


def check_kl_function(kl_fn):
    """Exercise 5: a function ``kl_fn(z_mean, z_log_var)`` -> KL to N(0, I) per example.

    Args:
        kl_fn: Callable taking two arrays ``(batch, latent_dim)`` and returning
            the KL of each row, shape ``(batch,)`` (NumPy or a backend tensor);
            or None.

    Returns:
        True when it matches the matrix form
        ``0.5 (tr S + m^T m - k - log det S)`` on ``FUNCTION_Z_MEAN``,
        ``FUNCTION_Z_LOG_VAR`` to 1e-5.

    Example:

    >>> check_kl_function(lambda m, v: np.sum(np.exp(v) + m**2 - 1 - v, axis=1))
    Exercise 5 (the KL as a function): not yet: the factor 0.5 is missing.
    False
    """
    name = "Exercise 5 (the KL as a function)"
    if kl_fn is None:
        return not_answered(name)
    ok, answer = call_student(name, kl_fn, FUNCTION_Z_MEAN, FUNCTION_Z_LOG_VAR)
    if not ok:
        return False
    expected = _kl_matrix_form(FUNCTION_Z_MEAN, FUNCTION_Z_LOG_VAR)
    mean, log_var = FUNCTION_Z_MEAN.astype("float64"), FUNCTION_Z_LOG_VAR.astype("float64")
    mistakes = [
        (2.0 * expected, "the factor 0.5 is missing"),
        (expected / mean.shape[1], "sum over the latent dimensions (axis=-1), do not average"),
        (0.5 * np.sum(np.exp(log_var) + mean - 1.0 - log_var, axis=1),
         "the term with the mean is off (Marchioro's slip): redo E_q[z^2] in section 1"),
        (0.5 * np.sum(np.exp(2.0 * log_var) + mean**2 - 1.0 - 2.0 * log_var, axis=1),
         "that reads z_log_var as a log-standard deviation; it is a log-variance"),
        (np.sum(0.5 * log_var + (1.0 + mean**2) / (2.0 * np.exp(log_var)) - 0.5, axis=1),
         "that is KL(N(0, I) || q), the reverse direction"),
    ]
    shape_hint = ("one KL per example: sum over the latent axis only, shape (batch,)")
    reason = compare(answer, expected, rtol=1e-5, atol=1e-5)
    if reason is not None and reason.startswith("expected"):
        return verdict(name, False, f"{reason}; {shape_hint}")
    return report(name, answer, expected, rtol=1e-5, atol=1e-5, mistakes=mistakes,
                  hint="the closed form of section 1, written with log-variances, one KL "
                       "per row")


def check_bernoulli_nll_from_logits(nll_fn):
    """Exercise 6: ``nll_fn(x, logits)`` -> Bernoulli NLL per example, exact for any logit.

    Evaluated on ``LOGITS_X`` and ``LOGITS`` (float32), which hold saturated
    logits of +-30 and +-50: the exact NLL of a confidently wrong pixel is
    about |logit| nats; ``log(sigmoid(l))`` gives inf or nan there, and
    probabilities clipped to ``[1e-7, 1 - 1e-7]`` cap it near 16 nats.

    Args:
        nll_fn: Callable taking ``x`` and ``logits`` of shape
            ``(batch, height, width, 1)`` and returning ``(batch,)``; or None.

    Returns:
        True when it matches ``sum(logaddexp(0, l) - x l)`` (float64) to 1e-5.

    Example:

    >>> def naive(x, logits):
    ...     p = 1 / (1 + np.exp(-logits))
    ...     return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
    >>> check_bernoulli_nll_from_logits(naive)  # doctest: +ELLIPSIS
    Exercise 6 (Bernoulli NLL from logits): not yet: your values hold inf or nan...
    False
    """
    name = "Exercise 6 (Bernoulli NLL from logits)"
    if nll_fn is None:
        return not_answered(name)
    with np.errstate(all="ignore"):  # a naive formula may overflow: that is what is tested
        ok, answer = call_student(name, nll_fn, LOGITS_X, LOGITS)
    if not ok:
        return False
    x, logits = LOGITS_X.astype("float64"), LOGITS.astype("float64")
    per_pixel = np.logaddexp(0.0, logits) - x * logits      # softplus(l) - x l, in float64
    expected = per_pixel.reshape(len(x), -1).sum(axis=1)
    reason = compare(answer, expected, rtol=1e-5, atol=1e-4)
    if reason is not None and reason.startswith("expected"):
        return verdict(name, False, f"{reason}; sum over every non-batch axis, one NLL per example")
    if reason == "the answer holds inf or nan":
        return verdict(name, False, "your values hold inf or nan: in float32 the sigmoid rounds "
                                    "to 0 or 1 for large |l|; write the NLL so that it never takes "
                                    "the log of a rounded probability (section 2, logits)")
    p = np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-7, 1.0 - 1e-7)
    clipped = -(x * np.log(p) + (1.0 - x) * np.log(1.0 - p))
    mistakes = [(clipped.reshape(len(x), -1).sum(axis=1),
                 "clipping the probabilities caps a confidently wrong pixel near 16 nats, "
                 "whatever its logit: work with the logits themselves"),
                (expected / per_pixel[0].size, "sum over the pixels, do not average"),
                ((np.logaddexp(0.0, logits) + x * logits).reshape(len(x), -1).sum(axis=1),
                 "a sign is off: check your answer on one pixel with a small logit against "
                 "the definition")]
    return report(name, answer, expected, rtol=1e-5, atol=1e-4, mistakes=mistakes,
                  hint="express log sigmoid(l) and log(1 - sigmoid(l)) through a function of the "
                       "logit that is stable for every l (section 2, logits)")
