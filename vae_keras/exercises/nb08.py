"""Answer checks for ``notebooks/08_use_cases.ipynb`` (anomaly detection, imputation,
semi-supervised learning).

Each check computes its expected value itself, by a route independent of the
notebook's helpers (the AUROC by counting every anomalous-normal pair instead
of by ranks; log-likelihoods with explicit loops over pixels), prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb08
>>> nb08.check_auroc(None)
Exercise 1 (AUROC by counting pairs): not answered yet.
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

# Exercise 1: anomaly scores (higher = more anomalous) and which examples are
# anomalous. Ties on purpose: an odd number of tied anomalous-normal pairs,
# so that no way of breaking ties (instead of averaging their ranks) gives
# the right answer.
AUROC_SCORES = np.array([0.3, 1.2, 0.8, 0.8, 2.0, 0.1, 1.2, 0.8, 1.5, 0.3, 0.9, 1.1])
AUROC_IS_ANOMALY = np.array([False, True, False, True, True, False, False, True, True, False,
                             False, False])
# A second case the function must also get right: a score with no ties.
AUROC_SCORES_2 = np.array([2.5, -1.0, 0.4, 3.1, 0.0, 1.7, -0.3])
AUROC_IS_ANOMALY_2 = np.array([True, False, False, True, True, False, False])

# Exercise 2: three tiny "images" of 8 binary pixels, a method's predicted
# probabilities for every pixel, and which pixels were hidden.
IMPUTE_X = np.array([[1, 0, 0, 1, 1, 0, 1, 0],
                     [0, 0, 1, 1, 0, 1, 0, 0],
                     [1, 1, 0, 0, 0, 0, 1, 1]], dtype="float64")
IMPUTE_PROBS = np.array([[0.9, 0.2, 0.1, 0.6, 0.7, 0.3, 0.8, 0.05],
                         [0.2, 0.1, 0.7, 0.4, 0.3, 0.9, 0.15, 0.2],
                         [0.6, 0.5, 0.2, 0.35, 0.1, 0.25, 0.95, 0.7]])
IMPUTE_MISSING = np.array([[True, True, False, False, True, False, True, False],
                           [False, True, True, True, False, False, False, True],
                           [True, False, False, True, True, True, False, False]])

# Exercise 5: one resampling step of an imputation chain: images, which pixels
# are hidden, the decoder's probabilities and the uniform draws to use.
FILL_X = np.array([[1, 0, 1, 1, 0, 0],
                   [0, 1, 1, 0, 0, 1]], dtype="float64")
FILL_MISSING = np.array([[False, True, True, False, True, False],
                         [True, False, True, True, False, True]])
FILL_PROBS = np.array([[0.9, 0.7, 0.2, 0.6, 0.35, 0.1],
                       [0.8, 0.3, 0.45, 0.5, 0.6, 0.05]])
FILL_UNIFORMS = np.array([[0.5, 0.4, 0.1, 0.9, 0.6, 0.3],
                          [0.3, 0.2, 0.7, 0.2, 0.1, 0.8]])

# Exercise 3: an independent-pixel Bernoulli background model with these
# pixel means, an image of 6 binary pixels and the VAE's log p(x) of it.
BACKGROUND_MEANS = np.array([0.05, 0.4, 0.7, 0.2, 0.1, 0.55])
LR_IMAGE = np.array([0, 1, 1, 0, 0, 0], dtype="float64")
LR_LOG_P_MODEL = -1.9

# Exercise 4: a classifier's accuracy on a test set of N_TEST images.
ACCURACY = 0.82
N_TEST = 2000


def _auroc_by_pairs(scores, is_anomaly):
    """P(score of an anomaly > score of a normal example), ties counting 1/2."""
    scores = np.asarray(scores, "float64")
    is_anomaly = np.asarray(is_anomaly, bool)
    total = 0.0
    for a in scores[is_anomaly]:
        for n in scores[~is_anomaly]:
            total += 1.0 if a > n else 0.5 if a == n else 0.0
    return total / (is_anomaly.sum() * (~is_anomaly).sum())


def _auroc_mistakes(scores, is_anomaly):
    """The values that typical wrong AUROC formulas give on one case."""
    scores = np.asarray(scores, "float64")
    is_anomaly = np.asarray(is_anomaly, bool)
    n1, n0 = int(is_anomaly.sum()), int((~is_anomaly).sum())
    anomalous, normal = scores[is_anomaly], scores[~is_anomaly]
    ordinal = np.empty(len(scores))
    ordinal[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    strict = np.mean([a > n for a in anomalous for n in normal])
    loose = np.mean([a >= n for a in anomalous for n in normal])
    right = _auroc_by_pairs(scores, is_anomaly)
    return [
        (1.0 - right,
         "that is the AUROC of the reversed score: higher scores should mean anomalous"),
        ((ordinal[is_anomaly].sum() - n1 * (n1 + 1) / 2) / (n0 * n1),
         "tied scores must share the average of their ranks"),
        (strict, "a tie between an anomaly and a normal example counts 1/2, not 0"),
        (loose, "a tie between an anomaly and a normal example counts 1/2, not 1"),
        ((ordinal[is_anomaly].sum() - n1 * (n1 + 1) / 2) / (n0 + n1) ** 2,
         "divide by the number of anomalous-normal pairs, n1 * n0"),
    ]


def check_auroc(auroc_fn):
    """Exercise 1: ``auroc_fn(scores, is_anomaly)`` -> the AUROC, e.g. by counting pairs.

    Any correct method passes (pair counting, the rank formula). The function
    is called on ``AUROC_SCORES`` / ``AUROC_IS_ANOMALY`` (with ties) and on
    ``AUROC_SCORES_2`` / ``AUROC_IS_ANOMALY_2``; both results must match the
    pair-counting definition (ties count 1/2) to 1e-9.

    Args:
        auroc_fn: Callable taking a float array of scores ``(n,)`` (higher =
            more anomalous) and a boolean array ``(n,)`` and returning one
            number; or None.

    Returns:
        True when both cases are right.

    Example:

    >>> check_auroc(None)
    Exercise 1 (AUROC by counting pairs): not answered yet.
    False
    """
    name = "Exercise 1 (AUROC by counting pairs)"
    if auroc_fn is None:
        return not_answered(name)
    cases = ((AUROC_SCORES, AUROC_IS_ANOMALY), (AUROC_SCORES_2, AUROC_IS_ANOMALY_2))
    for scores, is_anomaly in cases:
        ok, answer = call_student(name, auroc_fn, scores.copy(), is_anomaly.copy())
        if not ok:
            return False
        expected = _auroc_by_pairs(scores, is_anomaly)
        if compare(answer, expected, rtol=0, atol=1e-9) is None:
            continue
        return report(name, answer, expected, rtol=0, atol=1e-9,
                      mistakes=_auroc_mistakes(scores, is_anomaly),
                      hint="over all (anomaly, normal) pairs: 1 when the anomaly scores higher, "
                           "1/2 on a tie, 0 otherwise; divide by the number of pairs n1 n0")
    return verdict(name, True)


def _missing_log_likelihood_by_loops(x, probs, missing):
    out = np.zeros(len(x))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if missing[i, j]:
                p = probs[i, j]
                out[i] += math.log(p) if x[i, j] == 1 else math.log(1.0 - p)
    return out


def check_missing_log_likelihood(log_likelihood_fn):
    """Exercise 2: ``log_likelihood_fn(x, probs, missing)`` -> nats per image on the hidden pixels.

    Called on ``IMPUTE_X``, ``IMPUTE_PROBS``, ``IMPUTE_MISSING``.

    Args:
        log_likelihood_fn: Callable taking binary images ``(n, d)``, predicted
            probabilities ``(n, d)`` and a boolean mask ``(n, d)`` (True =
            hidden) and returning ``(n,)`` Bernoulli log-likelihoods (<= 0) of
            the true hidden pixels; or None.

    Returns:
        True when it matches a pixel-by-pixel loop to 1e-6.

    Example:

    >>> check_missing_log_likelihood(None)
    Exercise 2 (log-likelihood of the hidden pixels): not answered yet.
    False
    """
    name = "Exercise 2 (log-likelihood of the hidden pixels)"
    if log_likelihood_fn is None:
        return not_answered(name)
    ok, answer = call_student(name, log_likelihood_fn, IMPUTE_X.copy(), IMPUTE_PROBS.copy(),
                              IMPUTE_MISSING.copy())
    if not ok:
        return False
    expected = _missing_log_likelihood_by_loops(IMPUTE_X, IMPUTE_PROBS, IMPUTE_MISSING)
    reason = shape_mismatch(answer, expected.shape)
    if reason is not None:
        return verdict(name, False, f"{reason}; one number per image: sum over that image's hidden "
                                    "pixels only")
    everywhere = np.ones_like(IMPUTE_MISSING)
    mistakes = [(_missing_log_likelihood_by_loops(IMPUTE_X, IMPUTE_PROBS, everywhere),
                 "score only the hidden pixels: the observed ones are given, not predicted"),
                (_missing_log_likelihood_by_loops(IMPUTE_X, IMPUTE_PROBS, ~IMPUTE_MISSING),
                 "True in `missing` marks a hidden pixel: you scored the observed ones"),
                (-expected,
                 "that is the negative log-likelihood: a log-likelihood of binary pixels is <= 0"),
                (expected / math.log(2.0), "that is in bits: use natural logarithms"),
                (expected / IMPUTE_MISSING.sum(axis=1),
                 "sum over the hidden pixels (nats per image), do not average")]
    return report(name, answer, expected, rtol=1e-6, atol=1e-9, mistakes=mistakes,
                  hint="sum over hidden pixels of x log p + (1 - x) log(1 - p)")


def check_likelihood_ratio(answer):
    """Exercise 3: the likelihood-ratio score ``log p_VAE(x) - log p_background(x)`` in nats.

    The background is the independent-pixel Bernoulli with means
    ``BACKGROUND_MEANS``; the image is ``LR_IMAGE``; ``log p_VAE(x)`` is
    ``LR_LOG_P_MODEL``.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches to 1e-4 (relative).

    Example:

    >>> check_likelihood_ratio(None)
    Exercise 3 (likelihood ratio): not answered yet.
    False
    """
    background = 0.0
    for x_i, mu_i in zip(LR_IMAGE, BACKGROUND_MEANS):
        background += math.log(mu_i if x_i == 1 else 1.0 - mu_i)
    expected = LR_LOG_P_MODEL - background
    on_terms = float(np.sum(LR_IMAGE * np.log(BACKGROUND_MEANS)))
    mistakes = [(-expected, "the score is log p_VAE(x) - log p_background(x), not the reverse"),
                (LR_LOG_P_MODEL - on_terms,
                 "the background also assigns probability 1 - mu to every pixel that is off"),
                (LR_LOG_P_MODEL - background / math.log(2.0),
                 "use natural logarithms for both models (the VAE's log p is in nats)"),
                (LR_LOG_P_MODEL - float(np.sum(np.log(1.0 - BACKGROUND_MEANS))),
                 "that is the blank image's background log-likelihood: use the image's own pixels"),
                (math.exp(LR_LOG_P_MODEL) / math.exp(background),
                 "report the log of the ratio, in nats")]
    return report("Exercise 3 (likelihood ratio)", answer, expected, rtol=1e-4, mistakes=mistakes,
                  hint="log p_background(x) = sum_i [x_i log mu_i + (1 - x_i) log(1 - mu_i)]")


def check_accuracy_standard_error(answer):
    """Exercise 4: the standard error of an accuracy ``ACCURACY`` measured on ``N_TEST`` images.

    Args:
        answer: A number (a fraction, not a percentage), or None.

    Returns:
        True when it equals ``sqrt(a (1 - a) / n)`` to 0.1 %.

    Example:

    >>> check_accuracy_standard_error(None)
    Exercise 4 (standard error of an accuracy): not answered yet.
    False
    """
    variance_of_one = ACCURACY * (1.0 - ACCURACY)  # Bernoulli variance of one image's 0/1 outcome
    expected = math.sqrt(variance_of_one / N_TEST)
    mistakes = [(variance_of_one / N_TEST, "that is the variance: take its square root"),
                (math.sqrt(variance_of_one),
                 "that is the standard deviation of one image's outcome: divide by sqrt(n)"),
                (math.sqrt(ACCURACY / N_TEST), "the variance of a 0/1 outcome is a (1 - a)"),
                (100.0 * expected, "give a fraction, as the accuracy is, not a percentage")]
    return report("Exercise 4 (standard error of an accuracy)", answer, expected, rtol=1e-3,
                  mistakes=mistakes, hint="each image is a 0/1 outcome with variance a (1 - a)")


def check_fill_missing(fill_fn):
    """Exercise 5: ``fill_fn(x, missing, probs, uniforms)`` -> the images after one resampling step.

    Called on ``FILL_X``, ``FILL_MISSING``, ``FILL_PROBS``, ``FILL_UNIFORMS``:
    a hidden pixel becomes 1 when its uniform draw is below its probability
    (so it is 1 with that probability), else 0; an observed pixel keeps its
    value.

    Args:
        fill_fn: Callable taking binary images ``(n, d)``, a boolean mask
            ``(n, d)`` (True = hidden), probabilities ``(n, d)`` and uniform
            draws ``(n, d)`` and returning ``(n, d)`` binary images; or None.

    Returns:
        True when every pixel is right.

    Example:

    >>> check_fill_missing(lambda x, missing, probs, u: np.where(missing, 0.0, x))
    Exercise 5 (one imputation step): not yet: np.where(missing, uniforms < probs, x).
    False
    """
    name = "Exercise 5 (one imputation step)"
    if fill_fn is None:
        return not_answered(name)
    ok, answer = call_student(name, fill_fn, FILL_X.copy(), FILL_MISSING.copy(), FILL_PROBS.copy(),
                              FILL_UNIFORMS.copy())
    if not ok:
        return False
    expected = np.zeros_like(FILL_X)
    for i in range(FILL_X.shape[0]):
        for j in range(FILL_X.shape[1]):
            if FILL_MISSING[i, j]:
                expected[i, j] = 1.0 if FILL_UNIFORMS[i, j] < FILL_PROBS[i, j] else 0.0
            else:
                expected[i, j] = FILL_X[i, j]
    sampled = (FILL_UNIFORMS < FILL_PROBS).astype("float64")
    mistakes = [(sampled, "observed pixels must keep their values: resample only the hidden ones"),
                (np.where(FILL_MISSING, FILL_UNIFORMS > FILL_PROBS, FILL_X),
                 "a pixel should be 1 with probability p: when the uniform draw is below p"),
                (np.where(FILL_MISSING, FILL_X, sampled),
                 "True in `missing` marks a hidden pixel: you resampled the observed ones"),
                (np.where(FILL_MISSING, FILL_PROBS, FILL_X),
                 "return binary pixels: a hidden pixel is 1 when its uniform draw is below p"),
                (np.where(FILL_MISSING, FILL_PROBS > 0.5, FILL_X),
                 "sample the pixel (compare with the uniform draw), do not round the probability")]
    return report(name, answer, expected, rtol=0, atol=1e-9, mistakes=mistakes,
                  hint="np.where(missing, uniforms < probs, x)")


__all__ = ["check_auroc", "check_missing_log_likelihood", "check_likelihood_ratio",
           "check_accuracy_standard_error", "check_fill_missing"]
