"""Answer checks for ``notebooks/03_sampling_layer.ipynb``.

Each check computes the expected value itself (closed forms, or exact
Gauss-Hermite quadrature for Gaussian expectations of polynomials), prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb03
>>> nb03.check_score_variance(None)
Exercise 3 (score-function variance): not answered yet.
False
"""

import numpy as np

from vae_keras.exercises._check import report

# Exercise 1: inputs on which a student's log-std sampler is evaluated.
LOG_STD_Z_MEAN = np.array([[0.0, 1.0, -2.0], [0.5, -0.5, 3.0]], dtype="float32")
LOG_STD_Z_LOG_STD = np.array([[0.0, -1.0, 0.7], [1.2, -2.0, 0.3]], dtype="float32")
LOG_STD_EPSILON = np.array([[1.0, -0.5, 2.0], [-1.5, 0.25, 0.8]], dtype="float32")

# Exercise 2: z ~ N(EXP_MU, EXP_SIGMA^2), f(z) = exp(z).
EXP_MU = 0.5
EXP_SIGMA = 0.8

# Exercise 3: z ~ N(SCORE_MU, SCORE_SIGMA^2), f(z) = z^2, averaged over SCORE_N draws.
SCORE_MU = 1.0
SCORE_SIGMA = 1.0
SCORE_N = 10

# Exercise 4: the variance of z when the code uses exp(z_log_var) as the std.
WRONG_STD_Z_LOG_VAR = 1.5


def _gaussian_expectation(function, mu, sigma, degree=40):
    """E[function(z)] for z ~ N(mu, sigma^2); exact for polynomials of degree < 2*degree."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(degree)
    return float(np.sum(weights * function(mu + sigma * nodes)) / np.sqrt(2.0 * np.pi))


def check_log_std_sampling(sample_fn):
    """Exercise 1: a sampler for a Gaussian parameterised by its log-std.

    Args:
        sample_fn: Callable ``sample_fn(z_mean, z_log_std, epsilon) -> z``
            (arrays of equal shape), or None.

    Returns:
        True when ``z`` equals ``z_mean + exp(z_log_std) * epsilon``.
    """
    name = "Exercise 1 (log-std sampling)"
    if sample_fn is None:
        return report(name, None, None)
    expected = LOG_STD_Z_MEAN + np.exp(LOG_STD_Z_LOG_STD) * LOG_STD_EPSILON
    try:
        answer = np.asarray(sample_fn(LOG_STD_Z_MEAN, LOG_STD_Z_LOG_STD, LOG_STD_EPSILON))
    except Exception as error:  # a student's bug: report it, do not crash
        print(f"{name}: not yet: calling your function raised {type(error).__name__}: {error}.")
        return False
    if answer.shape != expected.shape:
        print(f"{name}: not yet: expected shape {expected.shape}, received {answer.shape}.")
        return False
    return report(name, answer, expected, rtol=1e-5,
                  hint="the standard deviation is exp(log-std), with no factor 0.5")


def check_exp_gradient(answer):
    """Exercise 2: gradient of E[exp(z)], z ~ N(EXP_MU, EXP_SIGMA^2).

    Args:
        answer: ``(d/d mu, d/d sigma)``: exact, or a Monte Carlo estimate
            from >= 100,000 reparameterised draws (2% tolerance), or None.

    Returns:
        True when both derivatives match the closed form.
    """
    mean = np.exp(EXP_MU + 0.5 * EXP_SIGMA**2)  # E[exp(z)], the log-normal mean
    expected = np.array([mean, EXP_SIGMA * mean])
    return report("Exercise 2 (gradient of E[exp(z)])", answer, expected, rtol=2e-2,
                  hint="differentiate exp(mu + sigma * eps) in mu and in sigma, then average")


def check_score_variance(answer):
    """Exercise 3: variance of the SCORE_N-sample score-function estimator.

    The estimator of d/d mu E[z^2] averages ``z^2 (z - mu) / sigma^2`` over
    ``SCORE_N`` independent draws of ``z ~ N(SCORE_MU, SCORE_SIGMA^2)``.

    Args:
        answer: Its variance (a number), or None. 5% tolerance, so a large
            Monte Carlo estimate also passes.

    Returns:
        True when the answer matches the exact variance.
    """
    def single(z):
        return z**2 * (z - SCORE_MU) / SCORE_SIGMA**2

    second_moment = _gaussian_expectation(lambda z: single(z) ** 2, SCORE_MU, SCORE_SIGMA)
    first_moment = _gaussian_expectation(single, SCORE_MU, SCORE_SIGMA)
    expected = (second_moment - first_moment**2) / SCORE_N
    return report("Exercise 3 (score-function variance)", answer, expected, rtol=5e-2,
                  hint="expand z = mu + sigma * eps and use E[eps^2k] = (2k - 1)!!; "
                       "the average of n draws has 1/n of one draw's variance")


def check_wrong_std_variance(answer):
    """Exercise 4: Var(z) when ``exp(z_log_var)`` is (wrongly) used as the std.

    Args:
        answer: The variance of ``z = z_mean + exp(z_log_var) * eps`` for
            ``z_log_var = WRONG_STD_Z_LOG_VAR``, or None.

    Returns:
        True when it matches ``exp(2 * z_log_var)``.
    """
    expected = np.exp(2.0 * WRONG_STD_Z_LOG_VAR)
    return report("Exercise 4 (the missing factor 0.5)", answer, expected, rtol=1e-3,
                  hint="Var(a * eps) = a^2 for eps ~ N(0, 1)")
