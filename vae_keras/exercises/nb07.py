"""Answer checks for ``notebooks/07_evaluating_and_pitfalls.ipynb`` (evaluation and pitfalls).

Each check computes its expected value itself (the continuous Bernoulli's
integral by quadrature, the importance-weighted bound by a shifted
log-sum-exp written out in float64, the free-bits objective with explicit
loops), prints "correct" or "not yet", and returns a bool. ``None`` means
"not answered yet".

Example:

>>> from vae_keras.exercises import nb07
>>> nb07.check_bits_per_dim(None)
Exercise 1 (nats to bits per dimension): not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import (
    call_student,
    compare,
    not_answered,
    report,
    shape_mismatch,
    verdict,
)

# Exercise 1: a published negative log-likelihood in nats per image, for
# images with BITS_DIMS pixels; convert it to bits per dimension.
BITS_NLL_NATS = 86.76
BITS_DIMS = 784

# Exercise 2: a student's importance-weighted bound, run on log-weights
# (rows: examples, columns: K importance samples). The values sit near
# -900 nats, as for real images, where exp() underflows to 0 in float64,
# so a log of a mean of exp() fails; the second row has one dominant sample.
_rng = np.random.default_rng(7)
IW_LOG_WEIGHTS = np.round(-900.0 + 3.0 * _rng.normal(size=(4, 6)), 3)
IW_LOG_WEIGHTS[1, 2] += 12.0
IW_SMALL_LOG_WEIGHTS = np.round(_rng.normal(size=(3, 5)), 3)  # moderate values: a second test case

# Exercise 3: a decoder outputs the Bernoulli parameter CB_LAMBDA for one
# grey-level pixel; integrate exp(-BCE(x; lambda)) over x in [0, 1].
CB_LAMBDA = 0.9

# Exercise 4: a batch of posteriors (rows: examples, columns: latent
# dimensions) and a free-bits threshold in nats per dimension. Some
# dimensions are above the threshold on some examples and below on others,
# so where the max is taken matters.
FREE_BITS_Z_MEAN = np.array([[1.2, 0.05, -0.3, 0.0],
                             [-0.8, -0.02, 0.9, 0.1],
                             [0.4, 0.01, -1.5, -0.1]], dtype="float32")
FREE_BITS_Z_LOG_VAR = np.array([[-1.0, -0.01, -0.2, 0.0],
                                [-0.6, 0.02, -0.9, -0.05],
                                [-1.4, 0.0, -0.1, 0.05]], dtype="float32")
FREE_BITS_LAMBDA = 0.25
del _rng

# Exercise 5: three numbers for one image, in nats: an estimate of log p(x)
# (importance-weighted bound, large K), the ELBO of the best Gaussian q fitted
# to this image alone, and the ELBO of the encoder's q.
GAPS_LOG_PX = -95.3
GAPS_OPTIMISED_ELBO = -98.1
GAPS_ENCODER_ELBO = -103.6


def check_bits_per_dim(answer):
    """Exercise 1: ``BITS_NLL_NATS`` nats per image in bits per dimension.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``BITS_NLL_NATS / (BITS_DIMS * ln 2)`` to 0.1 %.

    Example:

    >>> check_bits_per_dim(None)
    Exercise 1 (nats to bits per dimension): not answered yet.
    False
    """
    expected = BITS_NLL_NATS / BITS_DIMS / math.log(2.0)
    mistakes = [(BITS_NLL_NATS / BITS_DIMS, "that is nats per dimension: divide by ln 2 to get bits"),
                (BITS_NLL_NATS / math.log(2.0), "that is bits per image: divide by the number of pixels"),
                (BITS_NLL_NATS * math.log(2.0) / BITS_DIMS,
                 "one bit is ln 2 nats, so nats / ln 2 = bits (divide, do not multiply)"),
                (BITS_NLL_NATS / BITS_DIMS / math.log(10.0), "bits use base 2, not base 10")]
    return report("Exercise 1 (nats to bits per dimension)", answer, expected, rtol=1e-3,
                  mistakes=mistakes, hint="bits/dim = nats / (D ln 2)")


def _iw_bound_reference(log_weights):
    """``log (1/K) sum_k exp(log w_k)`` per row, via a shifted log-sum-exp in float64."""
    log_weights = np.asarray(log_weights, "float64")
    top = log_weights.max(axis=1, keepdims=True)
    return top[:, 0] + np.log(np.mean(np.exp(log_weights - top), axis=1))


def check_iw_bound_function(bound_fn):
    """Exercise 2: ``bound_fn(log_weights)`` -> importance-weighted bound per row.

    ``log_weights`` has shape ``(n, K)``; the answer must be
    ``log (1/K) sum_k exp(log_weights[:, k])``, shape ``(n,)``, computed
    stably (the weights of ``IW_LOG_WEIGHTS`` underflow if exponentiated
    directly).

    Args:
        bound_fn: Callable on a float64 array ``(n, K)``; or None.

    Returns:
        True when it matches on ``IW_LOG_WEIGHTS`` and on
        ``IW_SMALL_LOG_WEIGHTS`` to 1e-6.

    Example:

    >>> check_iw_bound_function(None)
    Exercise 2 (the importance-weighted bound): not answered yet.
    False
    """
    name = "Exercise 2 (the importance-weighted bound)"
    if bound_fn is None:
        return not_answered(name)
    for case, log_weights in (("log-weights near -900", IW_LOG_WEIGHTS),
                              ("log-weights near 0", IW_SMALL_LOG_WEIGHTS)):
        with np.errstate(all="ignore"):  # a naive exp/log is one of the mistakes tested
            ok, answer = call_student(name, bound_fn, log_weights.copy())
        if not ok:
            return False
        expected = _iw_bound_reference(log_weights)
        reason = shape_mismatch(answer, expected.shape)
        if reason is not None:
            return verdict(name, False, f"{reason}; one bound per example (reduce over axis 1, the K samples)")
        reason = compare(answer, expected, rtol=1e-6, atol=1e-6)
        if reason is None:
            continue
        if reason == "the answer holds inf or nan":
            return verdict(f"{name}, {case}", False,
                           "-inf or nan: exp() of large negative log-weights underflows to 0; subtract "
                           "the row maximum first (log-sum-exp)")
        mistakes = [(log_weights.mean(axis=1), "that is the average log-weight, the ELBO estimate: "
                                               "take the log of the average weight instead"),
                    (expected + math.log(log_weights.shape[1]), "that is log-sum-exp without the "
                                                                "- log K: average the weights, do not sum them"),
                    (log_weights.max(axis=1), "that is the largest log-weight only")]
        return report(f"{name}, {case}", answer, expected, rtol=1e-6, atol=1e-6, mistakes=mistakes,
                      hint="max_k + log(mean_k exp(log w_k - max_k)), per row")
    return verdict(name, True)


def check_bce_integral(answer):
    """Exercise 3: ``integral_0^1 exp(-BCE(x; CB_LAMBDA)) dx`` (is BCE a density on [0, 1]?).

    Args:
        answer: A number, or None.

    Returns:
        True when it matches the integral (by Gauss-Legendre quadrature) to 0.1 %.

    Example:

    >>> check_bce_integral(None)
    Exercise 3 (integral of exp(-BCE) over grey levels): not answered yet.
    False
    """
    lam = CB_LAMBDA
    nodes, weights = np.polynomial.legendre.leggauss(60)
    x = 0.5 * (nodes + 1.0)
    expected = float(0.5 * np.sum(weights * lam**x * (1.0 - lam) ** (1.0 - x)))
    log_c = math.log(2.0 * math.atanh(1.0 - 2.0 * lam) / (1.0 - 2.0 * lam))
    mistakes = [(1.0, "1 is what a density would give (and what the two values x = 0 and x = 1 of a "
                      "discrete Bernoulli sum to); over all grey levels exp(-BCE) integrates to "
                      "something else: compute it"),
                (math.exp(log_c), "that is the normaliser C(lambda) = 1 / integral, not the integral"),
                (0.5 * (lam + (1.0 - lam)), "that is the trapezoid rule with the two end points; "
                                            "the integrand is not linear in x: integrate "
                                            "lambda^x (1 - lambda)^(1 - x) exactly"),
                (log_c, "that is log C(lambda); the question asks for the integral itself")]
    return report("Exercise 3 (integral of exp(-BCE) over grey levels)", answer, expected, rtol=1e-3,
                  mistakes=mistakes,
                  hint="integrate lambda^x (1 - lambda)^(1 - x) from 0 to 1 (an exponential in x)")


def _kl_per_dim(z_mean, z_log_var):
    z_mean = np.asarray(z_mean, "float64")
    z_log_var = np.asarray(z_log_var, "float64")
    return 0.5 * (np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var)


def _free_bits_reference(z_mean, z_log_var, lam):
    kl = _kl_per_dim(z_mean, z_log_var)
    total = 0.0
    for i in range(kl.shape[1]):  # dimension by dimension: the batch mean, then the floor
        total += max(lam, float(np.mean(kl[:, i])))
    return total


def check_free_bits_kl(kl_fn):
    """Exercise 4: ``kl_fn(z_mean, z_log_var, free_bits)`` -> the free-bits KL term of the loss.

    The term is ``sum_i max(free_bits, mean over the batch of KL_i)``, one
    number for the batch, with ``KL_i`` the KL of latent dimension ``i`` to
    ``N(0, 1)``.

    Args:
        kl_fn: Callable on float32 arrays ``(batch, latent_dim)`` and a float; or None.

    Returns:
        True when it matches on ``FREE_BITS_Z_MEAN``, ``FREE_BITS_Z_LOG_VAR``
        with ``FREE_BITS_LAMBDA`` and with threshold 0 (the plain KL) to 1e-4.

    Example:

    >>> check_free_bits_kl(None)
    Exercise 4 (the free-bits KL term): not answered yet.
    False
    """
    name = "Exercise 4 (the free-bits KL term)"
    if kl_fn is None:
        return not_answered(name)
    m, v = FREE_BITS_Z_MEAN, FREE_BITS_Z_LOG_VAR
    kl = _kl_per_dim(m, v)
    for lam in (FREE_BITS_LAMBDA, 0.0):
        ok, answer = call_student(name, kl_fn, m.copy(), v.copy(), lam)
        if not ok:
            return False
        expected = _free_bits_reference(m, v, lam)
        reason = shape_mismatch(answer, ())
        if reason is not None:
            return verdict(name, False, f"{reason}; one number for the whole batch")
        if compare(answer, expected, rtol=1e-4, atol=1e-4) is None:
            continue
        d = kl.shape[1]
        mistakes = [(float(np.sum(np.mean(np.maximum(lam, kl), axis=0))),
                     "take the batch mean of each dimension's KL first, then the max with lambda "
                     "(a max per example lets single examples dodge the floor)"),
                    (float(max(lam * d, np.mean(np.sum(kl, axis=1)))),
                     "the floor is per latent dimension, not on the total KL"),
                    (float(max(lam, np.mean(np.sum(kl, axis=1)))),
                     "the floor applies to each dimension separately: sum_i max(lambda, KL_i)"),
                    (float(np.sum(np.minimum(lam, np.mean(kl, axis=0)))),
                     "max, not min: below lambda nats a dimension costs a constant lambda"),
                    (float(np.sum(np.maximum(lam, np.sum(kl, axis=0)))),
                     "average the KL over the batch (mean over axis 0), do not sum it")]
        return report(f"{name} (lambda = {lam:g})", answer, expected, rtol=1e-4, atol=1e-4,
                      mistakes=mistakes, hint="KL per example and dimension; mean over the batch; "
                                              "max with lambda; sum over dimensions")
    return verdict(name, True)


def check_gaps(answer):
    """Exercise 5: ``[approximation gap, amortisation gap]`` in nats from the three numbers.

    Args:
        answer: A sequence of two numbers, or None.

    Returns:
        True when it equals ``[GAPS_LOG_PX - GAPS_OPTIMISED_ELBO,
        GAPS_OPTIMISED_ELBO - GAPS_ENCODER_ELBO]``.

    Example:

    >>> check_gaps(None)
    Exercise 5 (approximation and amortisation gaps): not answered yet.
    False
    """
    approximation = GAPS_LOG_PX - GAPS_OPTIMISED_ELBO
    amortisation = GAPS_OPTIMISED_ELBO - GAPS_ENCODER_ELBO
    expected = np.array([approximation, amortisation])
    total = GAPS_LOG_PX - GAPS_ENCODER_ELBO
    mistakes = [(expected[::-1], "the order is [approximation, amortisation]"),
                (-expected, "the gaps are positive: the bound with the better q is the larger number"),
                (np.array([total, amortisation]), "the approximation gap is measured from the "
                                                  "OPTIMISED q: log p(x) - ELBO(q*)"),
                (np.array([approximation, total]), "the amortisation gap is ELBO(q*) - ELBO(encoder), "
                                                   "not log p(x) - ELBO(encoder)")]
    return report("Exercise 5 (approximation and amortisation gaps)", answer, expected, rtol=1e-4,
                  atol=1e-6, mistakes=mistakes,
                  hint="approximation = log p(x) - ELBO(q*); amortisation = ELBO(q*) - ELBO(encoder)")
