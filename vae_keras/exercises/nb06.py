"""Answer checks for ``notebooks/06_conditional_vae.ipynb`` (conditional VAEs).

Each check computes its expected value itself, by a route independent of
the worked solutions in :mod:`solutions.nb06`
(quadrature of the KL's defining expectation, the matrix form of the
Gaussian KL, an identity-matrix lookup for one-hot codes), prints
"correct" or "not yet", and returns a bool. ``None`` means "not answered yet".

Example:

>>> from vae_keras.exercises import nb06
>>> nb06.check_lecture_alpha(None)
Exercise 1 (alpha for a chosen beta): not answered yet.
False
"""

import math

import numpy as np

from vae_keras.exercises._check import (
    call_student,
    compare,
    gaussian_expectation,
    not_answered,
    report,
    shape_mismatch,
    verdict,
)

# Exercise 1: the lecture's loss ||x - f||^2 + alpha KL for a Gaussian decoder
# whose noise has standard deviation DECODER_STD; which alpha trains a
# beta-VAE with beta = TARGET_BETA?
DECODER_STD = 0.2
TARGET_BETA = 4.0

# Exercise 2: the first dense layer of a conditional decoder with a 2-D z and
# a one-hot label of 10 classes. Its input is the concatenation [z, c], so
# the kernel has 2 + 10 rows; the layer computes relu([z, c] @ KERNEL + BIAS).
LATENT_DIM = 2
NUM_CLASSES = 10
_rng = np.random.default_rng(6)
FIRST_LAYER_KERNEL = np.round(_rng.normal(size=(LATENT_DIM + NUM_CLASSES, 4)), 2)
FIRST_LAYER_BIAS = np.round(_rng.normal(size=4), 2)
LABEL = 3
del _rng

# Exercise 3: given the condition, the missing part of a digit is one of two
# binary completions with probability 1/2 each; they differ in this many
# pixels and agree everywhere else.
DIFFERING_PIXELS = 20

# Exercise 4: a posterior q(z | x, c) and a learned conditional prior p(z | c),
# both diagonal Gaussians in a 3-D latent space.
Q_MEAN = np.array([0.5, -1.0, 0.2])
Q_LOG_VAR = np.array([-1.0, -0.5, 0.0])
PRIOR_MEAN = np.array([0.3, -0.8, 0.0])
PRIOR_LOG_VAR = np.array([0.2, 0.0, -0.3])

# Exercise 5: latent codes and integer labels to turn into the decoder input
# [z, one_hot(label)]; label 9 does not occur, so num_classes cannot be
# guessed from the labels.
CONDITION_Z = np.array([[0.5, -1.2], [1.5, 0.3], [-0.7, 0.8], [0.0, 2.1], [-1.4, -0.6]],
                       dtype="float32")
CONDITION_LABELS = np.array([3, 0, 7, 3, 1])
CONDITION_NUM_CLASSES = 10

# Exercise 6: a batch of posteriors and prior-network outputs for the
# student's KL function (rows are examples, columns latent dimensions).
FUNCTION_Q_MEAN = np.array([[0.5, -1.0, 0.2], [1.2, 0.4, -0.6], [0.0, 0.0, 0.0]], dtype="float32")
FUNCTION_Q_LOG_VAR = np.array([[-1.0, -0.5, 0.0], [0.3, -1.5, 0.8], [0.0, 0.0, 0.0]],
                              dtype="float32")
FUNCTION_PRIOR_MEAN = np.array([[0.3, -0.8, 0.0], [-0.5, 1.0, 0.2], [0.0, 0.0, 0.0]],
                               dtype="float32")
FUNCTION_PRIOR_LOG_VAR = np.array([[0.2, 0.0, -0.3], [-0.4, 0.6, 0.1], [0.0, 0.0, 0.0]],
                                  dtype="float32")


def _kl_by_quadrature(q_mean, q_log_var, p_mean, p_log_var):
    """KL(q || p) for diagonal Gaussians summed over the last axis, as E_q[log q - log p]."""
    q_mean, q_std = np.asarray(q_mean, "float64"), np.exp(0.5 * np.asarray(q_log_var, "float64"))
    p_mean, p_std = np.asarray(p_mean, "float64"), np.exp(0.5 * np.asarray(p_log_var, "float64"))

    def log_ratio(z):
        return (np.log(p_std / q_std) - 0.5 * ((z - q_mean) / q_std) ** 2
                + 0.5 * ((z - p_mean) / p_std) ** 2)

    return np.sum(gaussian_expectation(log_ratio, q_mean, q_std), axis=-1)


def _kl_matrix_form(q_mean, q_log_var, p_mean, p_log_var):
    """Per row: 0.5 (tr(P^-1 Q) + d^T P^-1 d - k + log det P - log det Q), full matrices."""
    kls = []
    arrays = (np.asarray(a, "float64") for a in (q_mean, q_log_var, p_mean, p_log_var))
    for mq, vq, mp, vp in zip(*arrays):
        q_cov, p_cov = np.diag(np.exp(vq)), np.diag(np.exp(vp))
        p_inv = np.linalg.inv(p_cov)
        diff = mp - mq
        kls.append(0.5 * (np.trace(p_inv @ q_cov) + diff @ p_inv @ diff - len(mq)
                          + np.linalg.slogdet(p_cov)[1] - np.linalg.slogdet(q_cov)[1]))
    return np.array(kls)


def check_lecture_alpha(answer):
    """Exercise 1: the alpha for which ||x - f||^2 + alpha KL is a beta-VAE with beta = TARGET_BETA.

    The decoder's noise has standard deviation ``DECODER_STD``.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``2 * DECODER_STD**2 * TARGET_BETA``.

    Example:

    >>> check_lecture_alpha(None)
    Exercise 1 (alpha for a chosen beta): not answered yet.
    False
    """
    variance = DECODER_STD**2
    # ||x - f||^2 + alpha KL = 2 sigma^2 (||x - f||^2 / (2 sigma^2) + alpha / (2 sigma^2) KL)
    expected = TARGET_BETA * 2.0 * variance
    mistakes = [(2.0 * DECODER_STD * TARGET_BETA,
                 f"{DECODER_STD} is the standard deviation: the NLL divides by the variance "
                 "sigma^2"),
                (TARGET_BETA * variance,
                 "the Gaussian NLL is ||x - f||^2 / (2 sigma^2): mind the 2"),
                (2.0 * variance, "that alpha gives beta = 1; the exercise asks for beta = "
                                 f"{TARGET_BETA:g}"),
                (TARGET_BETA / (2.0 * variance),
                 "that turns the relation the wrong way: beta = alpha / (2 sigma^2)")]
    return report("Exercise 1 (alpha for a chosen beta)", answer, expected, rtol=1e-4,
                  mistakes=mistakes,
                  hint="divide the loss by 2 sigma^2: beta = alpha / (2 sigma^2), solve for alpha")


def check_label_bias(answer):
    """Exercise 2: the bias vector the one-hot label LABEL adds to the layer.

    Args:
        answer: The 4 numbers ``b_eff`` with ``relu([z, c] W + b) = relu(z W_z + b_eff)``,
            or None.

    Returns:
        True when it equals ``FIRST_LAYER_BIAS`` plus the kernel row of class ``LABEL``.

    Example:

    >>> check_label_bias(None)
    Exercise 2 (the label as a bias): not answered yet.
    False
    """
    expected = FIRST_LAYER_BIAS + np.eye(NUM_CLASSES)[LABEL] @ FIRST_LAYER_KERNEL[LATENT_DIM:]
    mistakes = [(FIRST_LAYER_KERNEL[LATENT_DIM + LABEL], "add the layer's own bias b too"),
                (FIRST_LAYER_BIAS + FIRST_LAYER_KERNEL[LABEL],
                 "rows 0 and 1 meet z; class k is row 2 + k"),
                (FIRST_LAYER_BIAS + FIRST_LAYER_KERNEL[LATENT_DIM + LABEL - 1],
                 "classes are numbered from 0: class k is row 2 + k"),
                (FIRST_LAYER_BIAS + FIRST_LAYER_KERNEL[LATENT_DIM + LABEL + 1],
                 "classes are numbered from 0: class k is row 2 + k")]
    return report("Exercise 2 (the label as a bias)", answer, expected, rtol=0, atol=1e-6,
                  mistakes=mistakes,
                  hint="[z, c] @ W = z @ W[:2] + c @ W[2:]; a one-hot c picks one row")


def check_regressor_nll(answer):
    """Exercise 3a: expected NLL (nats) of the best deterministic per-pixel model.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``DIFFERING_PIXELS * log 2``.

    Example:

    >>> check_regressor_nll(None)
    Exercise 3a (regressor NLL): not answered yet.
    False
    """
    # The best factorised Bernoulli puts p = 1/2 on each differing pixel and
    # certainty on the others: log 2 nats per differing pixel.
    expected = DIFFERING_PIXELS * math.log(2.0)
    mistakes = [(DIFFERING_PIXELS, "that is in bits: use natural logarithms"),
                (math.log(2.0),
                 f"every one of the {DIFFERING_PIXELS} differing pixels costs log 2")]
    return report("Exercise 3a (regressor NLL)", answer, expected, mistakes=mistakes,
                  hint="the best p for a pixel that is 1 half of the time; sum over pixels")


def check_latent_model_nll(answer):
    """Exercise 3b: NLL (nats) of a latent-variable model that picks a completion.

    Args:
        answer: A number, or None.

    Returns:
        True when it equals ``log 2``.

    Example:

    >>> check_latent_model_nll(None)
    Exercise 3b (latent-variable NLL): not answered yet.
    False
    """
    # A binary latent choice with p = 1/2 and a decoder that reproduces each
    # completion exactly: p(x | c) = 1/2 for both completions.
    expected = math.log(2.0)
    mistakes = [(0.0, "z is not observed: p(x | c) sums over both values of z, each with "
                      "weight 1/2"),
                (1.0, "that is in bits: use natural logarithms")]
    return report("Exercise 3b (latent-variable NLL)", answer, expected, mistakes=mistakes,
                  hint="p(x | c) is a mixture of two sharp images with weights 1/2")


def check_conditional_prior_kl(answer):
    """Exercise 4: KL(q(z | x, c) || p(z | c)) in nats for diagonal Gaussians.

    Args:
        answer: A number, or None.

    Returns:
        True when it matches ``E_q[log q - log p]`` (quadrature) to 0.1 %.

    Example:

    >>> check_conditional_prior_kl([0.1, 0.2, 0.3])  # doctest: +ELLIPSIS
    Exercise 4 (KL to a conditional prior): not yet: expected a single number, received ...
    False
    """
    expected = float(_kl_by_quadrature(Q_MEAN, Q_LOG_VAR, PRIOR_MEAN, PRIOR_LOG_VAR))
    q_var, p_var = np.exp(Q_LOG_VAR), np.exp(PRIOR_LOG_VAR)
    mistakes = [(float(_kl_by_quadrature(PRIOR_MEAN, PRIOR_LOG_VAR, Q_MEAN, Q_LOG_VAR)),
                 "that is KL(p(z | c) || q), the reverse direction"),
                (float(_kl_by_quadrature(Q_MEAN, Q_LOG_VAR, 0.0 * Q_MEAN, 0.0 * Q_LOG_VAR)),
                 "that is the KL to N(0, I): use the learned prior's mean and variance"),
                (0.5 * np.sum(PRIOR_LOG_VAR - Q_LOG_VAR + q_var + (Q_MEAN - PRIOR_MEAN) ** 2 - 1.0),
                 "divide by the prior's variance s_p^2")]
    return report("Exercise 4 (KL to a conditional prior)", answer, expected, rtol=1e-3,
                  mistakes=mistakes,
                  hint="per dimension: "
                       "0.5 (log s_p^2 / s_q^2 + (s_q^2 + (m_q - m_p)^2) / s_p^2 - 1)")


def check_decoder_input(input_fn):
    """Exercise 5: ``input_fn(z, labels, num_classes)`` -> the decoder input ``[z, one_hot]``.

    Args:
        input_fn: Callable taking ``z`` ``(batch, latent_dim)``, integer labels
            ``(batch,)`` and ``num_classes``, returning
            ``(batch, latent_dim + num_classes)``; or None.

    Returns:
        True when it matches on ``CONDITION_Z``, ``CONDITION_LABELS``,
        ``CONDITION_NUM_CLASSES``.

    Example:

    >>> check_decoder_input(lambda z, y, k: np.concatenate([z, y[:, None]], axis=1))
    ... # doctest: +ELLIPSIS
    Exercise 5 (the decoder input): not yet: expected an array of shape (5, 12), received ...
    False
    """
    name = "Exercise 5 (the decoder input)"
    if input_fn is None:
        return not_answered(name)
    ok, answer = call_student(name, input_fn, CONDITION_Z, CONDITION_LABELS.copy(),
                              CONDITION_NUM_CLASSES)
    if not ok:
        return False
    one_hot = np.eye(CONDITION_NUM_CLASSES)[CONDITION_LABELS]
    expected = np.concatenate([CONDITION_Z.astype("float64"), one_hot], axis=1)
    reason = shape_mismatch(answer, expected.shape)
    if reason is not None:
        return verdict(name, False, f"{reason}; append one column per class, a one-hot code of "
                                    "num_classes entries")
    mistakes = [(np.concatenate([one_hot, CONDITION_Z], axis=1),
                 "the decoder's kernel expects z first, then the label: [z, c]"),
                (np.concatenate([CONDITION_Z, np.eye(CONDITION_NUM_CLASSES)[CONDITION_LABELS - 1]],
                                axis=1),
                 "classes are numbered from 0: label k sets column k of the one-hot code")]
    return report(name, answer, expected, rtol=0, atol=1e-6, mistakes=mistakes,
                  hint="concatenate z and the one-hot label along the last axis")


def check_conditional_prior_kl_function(kl_fn):
    """Exercise 6: ``kl_fn(q_mean, q_log_var, p_mean, p_log_var)`` -> KL(q || p) per example.

    Run on the ``FUNCTION_*`` batch, and again with the standard normal as
    the prior, where it must agree with ``kl_divergence``.

    Args:
        kl_fn: Callable taking four arrays ``(batch, latent_dim)`` and
            returning ``(batch,)``; or None.

    Returns:
        True when both calls match the matrix form of the Gaussian KL to 1e-5.

    Example:

    >>> check_conditional_prior_kl_function(None)
    Exercise 6 (KL to a conditional prior, as a function): not answered yet.
    False
    """
    name = "Exercise 6 (KL to a conditional prior, as a function)"
    if kl_fn is None:
        return not_answered(name)
    zeros = np.zeros_like(FUNCTION_PRIOR_MEAN)
    cases = {"the learned prior": (FUNCTION_PRIOR_MEAN, FUNCTION_PRIOR_LOG_VAR),
             "the prior N(0, I)": (zeros, zeros)}
    for case, (p_mean, p_log_var) in cases.items():
        ok, answer = call_student(name, kl_fn, FUNCTION_Q_MEAN, FUNCTION_Q_LOG_VAR, p_mean,
                                  p_log_var)
        if not ok:
            return False
        expected = _kl_matrix_form(FUNCTION_Q_MEAN, FUNCTION_Q_LOG_VAR, p_mean, p_log_var)
        reason = shape_mismatch(answer, expected.shape)
        if reason is not None:
            return verdict(name, False,
                           f"{reason}; one KL per example: sum over the latent axis only")
        if compare(answer, expected, rtol=1e-5, atol=1e-5) is None:
            continue
        mistakes = [(_kl_matrix_form(p_mean, p_log_var, FUNCTION_Q_MEAN, FUNCTION_Q_LOG_VAR),
                     "that is KL(p || q), the reverse direction"),
                    (_kl_matrix_form(FUNCTION_Q_MEAN, FUNCTION_Q_LOG_VAR, zeros, zeros),
                     "the prior's mean and log-variance are inputs: use them")]
        return report(f"{name}, {case}", answer, expected, rtol=1e-5, atol=1e-5, mistakes=mistakes,
                      hint="0.5 * sum(p_log_var - q_log_var + (exp(q_log_var) "
                           "+ (q_mean - p_mean)^2) / exp(p_log_var) - 1, axis=-1)")
    return verdict(name, True)
