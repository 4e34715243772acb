"""Answer checks for ``notebooks/03_sampling_layer.ipynb``.

Each check computes the expected value itself (closed forms, or
Gauss-Hermite quadrature for Gaussian expectations), independently of the
worked solutions in :mod:`solutions.nb03`, prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered
yet". Monte Carlo answers are judged with a tolerance sized from their
standard error, so a correct estimate passes (it fails about once in
96,000 runs: :func:`exp_false_rejection_rate`) and the typical wrong ones
do not. Hints point to the idea (a section of the notebook, a property to
use), never to the formula or the code, also after a wrong answer.

Example:

>>> from vae_keras.exercises import nb03
>>> nb03.check_score_variance(None)
Exercise 3 (score-function variance): not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import (
    call_student,
    gaussian_expectation,
    not_answered,
    report,
    shape_mismatch,
    to_array,
    value_and_gradients,
    verdict,
)

# Exercise 1: inputs on which a student's log-std sampler is evaluated.
LOG_STD_Z_MEAN = np.array([[0.0, 1.0, -2.0], [0.5, -0.5, 3.0]], dtype="float32")
LOG_STD_Z_LOG_STD = np.array([[0.0, -1.0, 0.7], [1.2, -2.0, 0.3]], dtype="float32")
LOG_STD_EPSILON = np.array([[1.0, -0.5, 2.0], [-1.5, 0.25, 0.8]], dtype="float32")

# Exercise 2: z ~ N(EXP_MU, EXP_SIGMA^2), f(z) = exp(z); the answer may be a
# Monte Carlo estimate from EXP_MIN_DRAWS draws or more. It is accepted within
# EXP_TOLERANCE_SE standard errors of such an estimate (per component), so a
# correct estimate fails about once in 96,000 runs: exp_false_rejection_rate()
# computes it (two strongly correlated components, 4.5 standard errors each).
EXP_MU = 0.5
EXP_SIGMA = 0.8
EXP_MIN_DRAWS = 100_000
EXP_TOLERANCE_SE = 4.5

# Exercise 3: z ~ N(SCORE_MU, SCORE_SIGMA^2), f(z) = z^2, averaged over SCORE_N
# draws. SCORE_MU != SCORE_MU^2 and SCORE_SIGMA != SCORE_SIGMA^2, so a score
# divided by sigma instead of sigma^2 gives a different number.
SCORE_MU = 1.5
SCORE_SIGMA = 0.8
SCORE_N = 20

# Exercise 4: the variance of z when the code uses exp(z_log_var) as the std.
WRONG_STD_Z_LOG_VAR = 1.5

# Exercise 5: a sampling LAYER for an encoder that outputs log-stds. Its
# output on LAYER_DRAWS rows of these parameters is compared with
# N(mean, exp(log_std)^2) within LAYER_TOLERANCE_SE standard errors.
LAYER_Z_MEAN = np.array([0.5, -1.0, 2.0], dtype="float32")
LAYER_Z_LOG_STD = np.array([-1.0, 0.0, 0.7], dtype="float32")
LAYER_DRAWS = 20_000
LAYER_TOLERANCE_SE = 5.0
LAYER_SEED = 0


def check_log_std_sampling(sample_fn):
    """Exercise 1: a sampler for a Gaussian parameterised by its log-std.

    Args:
        sample_fn: Callable ``sample_fn(z_mean, z_log_std, epsilon) -> z``
            (arrays of equal shape), or None.

    Returns:
        True when ``z`` equals ``z_mean + exp(z_log_std) * epsilon``.

    Example:

    >>> check_log_std_sampling(lambda m, s, e: m + np.exp(0.5 * s) * e)  # doctest: +ELLIPSIS
    Exercise 1 (log-std sampling): not yet: that treats the input as a log-variance, ...
    False
    """
    name = "Exercise 1 (log-std sampling)"
    if sample_fn is None:
        return not_answered(name)
    ok, answer = call_student(name, sample_fn, LOG_STD_Z_MEAN, LOG_STD_Z_LOG_STD, LOG_STD_EPSILON)
    if not ok:
        return False
    mean, log_std, eps = (a.astype("float64")
                          for a in (LOG_STD_Z_MEAN, LOG_STD_Z_LOG_STD, LOG_STD_EPSILON))
    expected = mean + np.sqrt(np.exp(2.0 * log_std)) * eps   # sigma = sqrt(variance)
    mistakes = [(mean + np.exp(0.5 * log_std) * eps,
                 "that treats the input as a log-variance, as vae_keras.Sampling does; this "
                 "encoder outputs the log of the standard deviation (section 2)"),
                (mean + np.exp(2.0 * log_std) * eps,
                 "that scales epsilon by the variance; the noise is scaled by the "
                 "standard deviation")]
    return report(name, answer, expected, rtol=1e-5, atol=1e-5, mistakes=mistakes,
                  hint="ask which quantity the input is the logarithm of, and which quantity "
                       "multiplies epsilon in the reparameterisation (section 3)")


def _exp_gradient_moments():
    """Exact gradient of E[exp(z)] and the variance of one reparameterised draw of it."""
    def per_draw(z):  # (d/dmu, d/dsigma) of exp(mu + sigma eps) = (exp(z), eps exp(z))
        return np.exp(z), (z - EXP_MU) / EXP_SIGMA * np.exp(z)

    def moment(power, k):
        return gaussian_expectation(lambda z: per_draw(z)[k] ** power, EXP_MU, EXP_SIGMA, degree=60)

    means = np.array([moment(1, k) for k in range(2)])
    second = np.array([moment(2, k) for k in range(2)])
    return means, second - means**2


def exp_false_rejection_rate():
    """How often ``check_exp_gradient`` rejects a correct ``EXP_MIN_DRAWS``-draw estimate.

    The two components of a reparameterised estimate are averages of
    ``EXP_MIN_DRAWS`` draws, so (central limit theorem) they are close to a
    bivariate normal around the exact gradient, with the per-draw variances
    and correlation computed here by quadrature. The check rejects when
    either component is more than ``EXP_TOLERANCE_SE`` standard errors off;
    the probability of that is ``1 - P(|Z1| <= k, |Z2| <= k)``, integrated
    over ``Z1`` on a fine grid. The components are strongly correlated, so
    this is close to the rate of one component alone.

    Returns:
        The probability (a float), under the normal approximation.

    Example:

    >>> round(1 / exp_false_rejection_rate(), -3)
    96000.0
    """
    def per_draw(z):
        return np.exp(z), (z - EXP_MU) / EXP_SIGMA * np.exp(z)

    def expectation(fn):
        return gaussian_expectation(fn, EXP_MU, EXP_SIGMA, degree=60)

    means, variances = _exp_gradient_moments()
    covariance = expectation(lambda z: per_draw(z)[0] * per_draw(z)[1]) - means[0] * means[1]
    rho = covariance / np.sqrt(variances[0] * variances[1])
    k = EXP_TOLERANCE_SE
    z1 = np.linspace(-k, k, 20_001)
    density = np.exp(-0.5 * z1**2) / np.sqrt(2.0 * np.pi)
    scale = np.sqrt(1.0 - rho**2)
    cdf = np.vectorize(lambda t: 0.5 * math.erfc(-t / math.sqrt(2.0)))
    inside = density * (cdf((k - rho * z1) / scale) - cdf((-k - rho * z1) / scale))
    both_inside = float(np.sum((inside[1:] + inside[:-1]) * np.diff(z1)) / 2.0)
    return 1.0 - both_inside


def check_exp_gradient(answer):
    """Exercise 2: gradient of E[exp(z)], z ~ N(EXP_MU, EXP_SIGMA^2).

    Args:
        answer: ``(d/d mu, d/d sigma)``: exact, or a reparameterised Monte
            Carlo estimate from at least ``EXP_MIN_DRAWS`` draws; or None.

    Returns:
        True when each component lies within ``EXP_TOLERANCE_SE`` standard
        errors (of an ``EXP_MIN_DRAWS``-draw estimate) of the exact value.

    Example:

    >>> check_exp_gradient(None)
    Exercise 2 (gradient of E[exp(z)]): not answered yet.
    False
    """
    expected, per_draw_variance = _exp_gradient_moments()
    tolerance = EXP_TOLERANCE_SE * np.sqrt(per_draw_variance / EXP_MIN_DRAWS)
    mistakes = [(expected[::-1], "the order is (d/d mu, d/d sigma)"),
                (np.array([expected[0], expected[0]]),
                 "the sigma component equals the mu component: for a fixed eps, z moves with "
                 "sigma at a different rate than with mu (the chain rule)"),
                (np.array([expected[0], expected[1] / (2 * EXP_SIGMA)]),
                 "that is the derivative in sigma^2: the exercise asks for d/d sigma"),
                (np.array([expected[0], EXP_SIGMA * expected[1]]),
                 "that is the derivative in log sigma: the exercise asks for d/d sigma")]
    return report("Exercise 2 (gradient of E[exp(z)])", answer, expected, rtol=0, atol=tolerance,
                  mistakes=mistakes,
                  hint=f"write z as a function of parameter-free noise (section 3), differentiate "
                       f"each draw, and average over at least {EXP_MIN_DRAWS:,} draws")


def check_score_variance(answer):
    """Exercise 3: variance of the SCORE_N-sample score-function estimator.

    The estimator of d/d mu E[z^2] averages ``z^2 (z - mu) / sigma^2`` over
    ``SCORE_N`` independent draws of ``z ~ N(SCORE_MU, SCORE_SIGMA^2)``.

    Args:
        answer: Its variance (a number), or None. 5% tolerance, so a large
            simulation (10^6 draws or more) also passes.

    Returns:
        True when the answer matches the exact variance.

    Example:

    >>> check_score_variance(None)
    Exercise 3 (score-function variance): not answered yet.
    False
    """
    def single(z):
        return z**2 * (z - SCORE_MU) / SCORE_SIGMA**2

    second_moment = gaussian_expectation(lambda z: single(z) ** 2, SCORE_MU, SCORE_SIGMA)
    first_moment = gaussian_expectation(single, SCORE_MU, SCORE_SIGMA)
    one_draw = second_moment - first_moment**2
    expected = one_draw / SCORE_N
    mistakes = [(one_draw, f"that is the variance of one draw; the estimator averages "
                           f"n = {SCORE_N} independent draws"),
                (second_moment / SCORE_N,
                 "that is a second moment, not a variance: the estimator's mean is not 0"),
                (4.0 * SCORE_SIGMA**2 / SCORE_N,
                 "that is the variance of the reparameterised estimator; the exercise asks for "
                 "the score function")]
    return report("Exercise 3 (score-function variance)", answer, expected, rtol=5e-2,
                  mistakes=mistakes,
                  hint="write one draw of the score-function estimator (section 5's table) as a "
                       "polynomial in eps, take its moments with the Gaussian moments given in "
                       "the exercise, then account for the averaging over n draws")


def check_wrong_std_variance(answer):
    """Exercise 4: Var(z) when ``exp(z_log_var)`` is (wrongly) used as the std.

    Args:
        answer: The variance of ``z = z_mean + exp(z_log_var) * eps`` for
            ``z_log_var = WRONG_STD_Z_LOG_VAR``, or None.

    Returns:
        True when it matches ``E[(exp(z_log_var) eps)^2]`` (quadrature).

    Example:

    >>> check_wrong_std_variance(None)
    Exercise 4 (the missing factor 0.5): not answered yet.
    False
    """
    scale = np.exp(WRONG_STD_Z_LOG_VAR)
    expected = gaussian_expectation(lambda eps: (scale * eps) ** 2, 0.0, 1.0)
    mistakes = [(scale, "that is the intended variance; the bug scales the noise by a "
                        "different number")]
    return report("Exercise 4 (the missing factor 0.5)", answer, expected, rtol=1e-3,
                  mistakes=mistakes,
                  hint="find the number the buggy line multiplies eps by, and ask how scaling a "
                       "standard normal changes its variance")


def _layer_instance(name, layer):
    """The layer to test: ``layer(seed=LAYER_SEED)`` for a class, else ``layer`` itself."""
    import keras

    if isinstance(layer, type):
        ok, layer = call_student(name, layer, seed=LAYER_SEED)
        if not ok:
            return None
    if not isinstance(layer, keras.layers.Layer):
        verdict(name, False,
                f"expected a keras.layers.Layer subclass, received {type(layer).__name__}")
        return None
    return layer


def _owns_seed_generator(layer):
    """Whether a layer keeps a ``keras.random.SeedGenerator`` (as an attribute or tracked)."""
    import keras

    def is_generator(value):
        return isinstance(value, keras.random.SeedGenerator)

    if getattr(layer, "_seed_generators", None):  # Keras tracks the generators a layer assigns
        return True
    for value in vars(layer).values():
        values = value.values() if isinstance(value, dict) else (
            value if isinstance(value, (list, tuple)) else [value])
        if any(is_generator(v) for v in values):
            return True
    return False


def check_log_std_layer(layer):
    """Exercise 5: a Keras layer ``[z_mean, z_log_std] -> z`` with its own SeedGenerator.

    Checks, in this order: that the layer keeps a
    ``keras.random.SeedGenerator``; the output shape; for a class, that two
    layers built with the same seed draw the same noise (the generator is
    made from ``seed`` and the draws use it, not Keras' global generator);
    the sample mean and variance of each coordinate over ``LAYER_DRAWS``
    rows (within ``LAYER_TOLERANCE_SE`` standard errors of ``z_mean`` and
    ``exp(z_log_std)^2``); that the coordinates are uncorrelated; that two
    calls draw different noise; and that gradients reach both inputs:
    ``dz/dz_mean = 1`` and ``dz/dz_log_std = z - z_mean``.

    Args:
        layer: The layer class (called as ``layer(seed=LAYER_SEED)``) or an
            instance; or None.

    Returns:
        True when every property holds.

    Example:

    >>> check_log_std_layer(None)
    Exercise 5 (a log-std sampling layer): not answered yet.
    False
    """
    import keras

    name = "Exercise 5 (a log-std sampling layer)"
    if layer is None:
        return not_answered(name)
    layer_class = layer if isinstance(layer, type) else None
    layer = _layer_instance(name, layer)
    if layer is None:
        return False
    if not _owns_seed_generator(layer):
        return verdict(name, False, "the layer keeps no keras.random.SeedGenerator of its own: "
                                    "the exercise asks __init__ to create one from `seed` "
                                    "(section 3, step 2 says why)")
    n, d = LAYER_DRAWS, len(LAYER_Z_MEAN)
    z_mean = np.tile(LAYER_Z_MEAN, (n, 1))
    z_log_std = np.tile(LAYER_Z_LOG_STD, (n, 1))
    ok, z = call_student(name, layer, [z_mean, z_log_std])
    if not ok:
        return False
    reason = shape_mismatch(z, (n, d))
    if reason is not None:
        return verdict(name, False, f"on inputs of shape {(n, d)}: {reason}")
    z = to_array(z)
    if not np.all(np.isfinite(z)):
        return verdict(name, False, "z holds inf or nan")
    if layer_class is not None:
        twin = _layer_instance(name, layer_class)
        if twin is None:
            return False
        ok, z_twin = call_student(name, twin, [z_mean, z_log_std])
        if not ok:
            return False
        if shape_mismatch(z_twin, (n, d)) is not None or not np.allclose(to_array(z_twin), z):
            return verdict(name, False, "two layers built with the same seed drew different "
                                        "noise: make the layer's SeedGenerator from `seed` and "
                                        "draw with it, not with Keras' global generator")
    std = np.exp(LAYER_Z_LOG_STD.astype("float64"))
    k = LAYER_TOLERANCE_SE
    if np.any(np.abs(z.mean(axis=0) - LAYER_Z_MEAN) > k * std / np.sqrt(n)):
        return verdict(name, False, "the sample mean is not z_mean: the noise should only "
                                    "spread z around the mean")
    if np.any(np.abs(z.var(axis=0, ddof=1) - std**2) > k * std**2 * np.sqrt(2.0 / (n - 1))):
        return verdict(name, False, "the spread is wrong: ask which quantity the exponential "
                                    "of a log-std is (exercise 1)")
    correlation = np.corrcoef(z, rowvar=False)[np.triu_indices(d, 1)]
    if np.any(np.abs(correlation) > k / np.sqrt(n)):
        return verdict(name, False, "the coordinates are correlated: each coordinate needs its "
                                    "own independent noise")
    small_mean, small_log_std = z_mean[:4], z_log_std[:4]
    first, second = (to_array(layer([small_mean, small_log_std])) for _ in range(2))
    if np.allclose(first, second):
        return verdict(name, False, "two calls gave the same z: draw with a "
                                    "keras.random.SeedGenerator kept by the layer, not with a "
                                    "fixed integer seed")

    def summed(m, s):
        out = layer([m, s])
        return keras.ops.sum(out), out

    try:
        z_small, (grad_mean, grad_log_std) = value_and_gradients(summed, small_mean, small_log_std)
    except NotImplementedError:
        print(f"{name}: (gradients not checked on the {keras.backend.backend()!r} backend)")
        return verdict(name, True)
    except Exception as error:  # e.g. NumPy inside call: the tensors cannot be traced
        return verdict(name, False, f"differentiating the layer raised {type(error).__name__}: "
                                    f"{error}; use keras.ops and keras.random only")
    if grad_mean is None or grad_log_std is None:
        return verdict(name, False, "no gradient reaches z_mean or z_log_std: compute z from "
                                    "the inputs with keras.ops, without NumPy or stop_gradient")
    expected_grad_log_std = z_small.astype("float64") - small_mean
    if not (np.allclose(grad_mean, 1.0, atol=1e-5)
            and np.allclose(grad_log_std, expected_grad_log_std, rtol=1e-4, atol=1e-5)):
        return verdict(name, False, "the gradients differ from the derivatives the exercise "
                                    "states")
    return verdict(name, True)
