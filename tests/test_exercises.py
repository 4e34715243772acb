"""Tests of the exercise checks (``vae_keras.exercises``) and their worked solutions.

For every check of notebooks 00-06: ``None`` returns False without raising;
the worked solution (``solutions/`` at the repository root, not in the installed package) passes; each typical
mistake, computed here by its own buggy code, fails; the right value in the
wrong shape fails. The checks compute their expected values by routes
independent of the solutions (quadrature against closed forms, matrix
forms against element-wise ones), so these tests can fail.
"""

import doctest
import importlib
import inspect
import math

import keras
import numpy as np
import pytest
from keras import ops

from vae_keras.exercises import _check, nb00, nb01, nb02, nb03, nb04, nb05, nb06
import solutions as solutions_package
from solutions import nb03 as sol03
from solutions import nb04 as sol04

MODULES = {name: importlib.import_module(f"vae_keras.exercises.{name}") for name in
           ("nb00", "nb01", "nb02", "nb03", "nb04", "nb05", "nb06")}
SOLUTIONS = {name: importlib.import_module(f"solutions.{name}")
             for name in MODULES}


def _np(value):
    return np.asarray(ops.convert_to_numpy(value), dtype="float64")


def _kl_terms(mean, var):
    """Per-dimension KL(N(mean, var) || N(0, 1)) (the correct one, for building mistakes)."""
    return 0.5 * (var + mean**2 - 1.0 - np.log(var))


def _log_normal(x, mean, std):
    return -0.5 * math.log(2 * math.pi * std**2) - 0.5 * ((x - mean) / std) ** 2


def _normal_pdf(x, mean, std):
    return math.exp(_log_normal(x, mean, std))


# ---------------------------------------------------------------- mistakes
# Each entry: check name -> {mistake id: zero-argument function returning the wrong answer}.

def _nb00_mistakes():
    m, v = nb00.KL_Z_MEAN, nb00.KL_Z_LOG_VAR
    return {
        "check_uninformative_decoder_loss": {
            "bits_not_nats": lambda: 784 * math.log2(2.0),
            "one_pixel_only": lambda: math.log(2.0),
            "positive_log_likelihood": lambda: 784 * math.log(0.5),
        },
        "check_encoder_parameters": {
            "no_biases": lambda: 784 * 256 + 2 * 256 * 2,
            "one_head_only": lambda: 784 * 256 + 256 + 256 * 2 + 2,
        },
        "check_kl_value": {
            "reverse_direction": lambda: float(np.sum(0.5 * v + (1 + m**2) / (2 * np.exp(v))
                                                      - 0.5)),
            "mu_instead_of_mu_squared": lambda: float(0.5 * np.sum(np.exp(v) + m - 1 - v)),
            "log_var_read_as_log_std": lambda: float(np.sum(_kl_terms(m, np.exp(2 * v)))),
            "mean_over_dimensions": lambda: float(np.mean(_kl_terms(m, np.exp(v)))),
            "seed003_sign_and_mu": lambda: float(np.sum(0.5 * (1 + v - m - np.exp(v)))),
        },
    }


def _nb01_mistakes():
    h, (m0, m1), (s0, s1) = nb01.HEIGHT, nb01.GROUP_MEANS, nb01.GROUP_STDS

    def posterior(p0, p1):
        return p1 / (p0 + p1)

    var = nb01.W**2 + nb01.S**2
    return {
        "check_posterior_group": {
            "posterior_of_group_0": lambda: posterior(_normal_pdf(h, m1, s1),
                                                      _normal_pdf(h, m0, s0)),
            "unnormalised_likelihood": lambda: _normal_pdf(h, m1, s1),
            "dropped_1_over_sigma": lambda: posterior(math.exp(-0.5 * ((h - m0) / s0) ** 2),
                                                      math.exp(-0.5 * ((h - m1) / s1) ** 2)),
        },
        "check_log_marginal_1d": {
            "added_standard_deviations": lambda: _log_normal(nb01.X, nb01.B, nb01.W + nb01.S),
            "variance_used_as_std": lambda: _log_normal(nb01.X, nb01.B, var),
            "forgot_the_noise": lambda: _log_normal(nb01.X, nb01.B, nb01.W),
            "forgot_the_bias": lambda: _log_normal(nb01.X, 0.0, math.sqrt(var)),
        },
        "check_naive_estimate_k1": {
            "log_likelihood_at_mean_z": lambda: _log_normal(nb01.X, nb01.B, nb01.S),
            "log_marginal_instead": lambda: _log_normal(nb01.X, nb01.B, math.sqrt(var)),
        },
    }


def _kl_1d(mq, sq, mp, sp):
    return math.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5


def _nb02_mistakes():
    m, s, w, b, x = nb02.Q_MEAN, nb02.Q_STD, nb02.W, nb02.B, nb02.X
    kl = _kl_1d(m, s, 0.0, 1.0)
    const = -0.5 * math.log(2 * math.pi)
    post_var = 1.0 / (1.0 + w**2)
    post_mean = w * (x - b) * post_var
    gram = nb02.MEAN_FIELD_WEIGHTS.T @ nb02.MEAN_FIELD_WEIGHTS
    return {
        "check_kl_to_prior": {
            "reverse_direction": lambda: _kl_1d(0.0, 1.0, nb02.KL_MEAN, nb02.KL_STD),
            "mu_instead_of_mu_squared": lambda: 0.5 * (s**2 + m - 1 - math.log(s**2)),
            "std_instead_of_variance": lambda: -0.5 * (1 + math.log(s) - m**2 - s),
            "negative_sign": lambda: -kl,
        },
        "check_elbo_1d": {
            "dropped_spread_term": lambda: const - 0.5 * (x - w * m - b) ** 2 - kl,
            "std_in_spread_term": lambda: const - 0.5 * ((x - w * m - b) ** 2 + w**2 * s) - kl,
            "added_the_kl": lambda: const - 0.5 * ((x - w * m - b) ** 2 + w**2 * s**2) + kl,
        },
        "check_gap_1d": {
            "kl_posterior_to_q": lambda: _kl_1d(post_mean, math.sqrt(post_var), m, s),
            "posterior_variance_as_std": lambda: _kl_1d(m, s, post_mean, post_var),
            "kl_to_the_prior": lambda: kl,
            "posterior_mean_without_noise": lambda: _kl_1d(m, s, (x - b) / w, math.sqrt(post_var)),
        },
        "check_mean_field_variances": {
            "posterior_marginal_variances": lambda: np.diag(np.linalg.inv(np.eye(2) + gram)),
            "forgot_the_prior_precision": lambda: 1.0 / np.diag(gram),
        },
    }


def _layer_variant(call):
    class Variant(sol03.LogStdSampling):
        pass

    Variant.call = call
    return Variant


def _eps(layer, z_mean, shape=None):
    return keras.random.normal(ops.shape(z_mean) if shape is None else shape, dtype=z_mean.dtype,
                               seed=layer.seed_generator)


def _nb03_mistakes():
    mu, sigma, n = nb03.SCORE_MU, nb03.SCORE_SIGMA, nb03.SCORE_N
    closed = math.exp(nb03.EXP_MU + nb03.EXP_SIGMA**2 / 2)

    def moment(k):
        return 0.0 if k % 2 else float(np.prod(np.arange(k - 1, 0, -2))) if k else 1.0

    def second_moment(power_of_sigma):  # E[(z^2 (z - mu) / sigma^p)^2]
        return sum(math.comb(4, k) * mu ** (4 - k) * sigma**k * moment(k + 2) for k in range(5)) \
            * sigma**2 / sigma ** (2 * power_of_sigma)

    one_draw = second_moment(2) - (2 * mu) ** 2

    def raising(*args):
        raise ValueError("student bug")

    return {
        "check_log_std_sampling": {
            "read_as_log_variance": lambda: (lambda m, s, e: m + np.exp(0.5 * s) * e),
            "variance_times_eps": lambda: (lambda m, s, e: m + np.exp(2 * s) * e),
            "forgot_return": lambda: (lambda m, s, e: None),
            "raises": lambda: raising,
            "result_not_function": lambda: nb03.LOG_STD_Z_MEAN,
        },
        "check_exp_gradient": {
            "swapped_order": lambda: np.array([nb03.EXP_SIGMA * closed, closed]),
            "forgot_eps_factor": lambda: np.array([closed, closed]),
            "derivative_in_variance": lambda: np.array([closed, closed / 2]),
            "derivative_in_log_sigma": lambda: np.array([closed, nb03.EXP_SIGMA**2 * closed]),
            "no_variance_correction": lambda: (math.exp(nb03.EXP_MU)
                                               * np.array([1.0, nb03.EXP_SIGMA])),
        },
        "check_score_variance": {
            "one_draw_variance": lambda: one_draw,
            "forgot_to_subtract_mean": lambda: second_moment(2) / n,
            "reparameterised_variance": lambda: 4 * sigma**2 / n,
            "score_divided_by_sigma": lambda: (second_moment(1) - (2 * mu * sigma) ** 2) / n,
            "variance_of_the_sum": lambda: n * one_draw,
        },
        "check_wrong_std_variance": {
            "intended_variance": lambda: math.exp(nb03.WRONG_STD_Z_LOG_VAR),
            "intended_std": lambda: math.exp(0.5 * nb03.WRONG_STD_Z_LOG_VAR),
        },
        "check_log_std_layer": {
            "read_as_log_variance": lambda: _layer_variant(
                lambda self, inputs: inputs[0] + ops.exp(0.5 * inputs[1]) * _eps(self, inputs[0])),
            "integer_seed_same_noise": lambda: _layer_variant(
                lambda self, inputs: inputs[0] + ops.exp(inputs[1]) * keras.random.normal(
                    ops.shape(inputs[0]), dtype=inputs[0].dtype, seed=3)),
            "one_noise_per_row": lambda: _layer_variant(
                lambda self, inputs: inputs[0] + ops.exp(inputs[1]) * _eps(
                    self, inputs[0], (ops.shape(inputs[0])[0], 1))),
            "stop_gradient": lambda: _layer_variant(
                lambda self, inputs: ops.stop_gradient(
                    inputs[0] + ops.exp(inputs[1]) * _eps(self, inputs[0]))),
            "mean_only": lambda: _layer_variant(lambda self, inputs: inputs[0] + 0.0 * inputs[1]),
            "not_a_layer": lambda: sol03.sample_log_std,
        },
    }


def _nb04_mistakes():
    mu, sigma = nb04.KL_MU, nb04.KL_SIGMA
    rm, rs = nb04.REVERSE_MU, nb04.REVERSE_SIGMA
    values = int(np.prod(nb04.BETA_IMAGE_SHAPE))

    def kl_fn(variant):
        def fn(m, v):
            m, v = np.asarray(m, "float64"), np.asarray(v, "float64")
            return {"sum_over_batch": lambda: np.sum(-0.5 * (1 + v - m**2 - np.exp(v))),
                    "per_dimension": lambda: -0.5 * (1 + v - m**2 - np.exp(v)),
                    "mean_over_dims": lambda: np.mean(-0.5 * (1 + v - m**2 - np.exp(v)), axis=1),
                    "reverse_direction": lambda: np.sum(
                        0.5 * v + (1 + m**2) / (2 * np.exp(v)) - 0.5, axis=1),
                    "mu_not_squared": lambda: np.sum(-0.5 * (1 + v - m - np.exp(v)), axis=1),
                    "no_half": lambda: np.sum(-(1 + v - m**2 - np.exp(v)), axis=1),
                    "log_var_as_log_std": lambda: np.sum(_kl_terms(m, np.exp(2 * v)), axis=1),
                    }[variant]()
        return fn

    def sigmoid32(logits):
        return 1.0 / (1.0 + np.exp(-np.asarray(logits, "float32")))

    def nll_fn(variant):
        def fn(x, logits):
            with np.errstate(all="ignore"):
                if variant == "naive_log_sigmoid":
                    p = sigmoid32(logits)
                    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
                if variant == "naive_float64":
                    p = 1.0 / (1.0 + np.exp(-np.asarray(logits, "float64")))
                    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
                if variant == "clipped_probabilities":  # what a BCE on probabilities does
                    p = np.clip(sigmoid32(logits), 1e-7, 1 - 1e-7)
                    return -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=(1, 2, 3))
                per_pixel = np.logaddexp(0, np.asarray(logits, "float64")) - x * logits
                if variant == "mean_over_pixels":
                    return per_pixel.mean(axis=(1, 2, 3))
                if variant == "sum_last_axis_only":
                    return per_pixel.sum(axis=-1)
                if variant == "sign_error":
                    wrong = np.logaddexp(0, np.asarray(logits, "float64")) + x * logits
                    return wrong.sum(axis=(1, 2, 3))
            raise AssertionError(variant)
        return fn

    return {
        "check_kl": {
            "mu_not_squared": lambda: float(np.sum(0.5 * (sigma**2 + mu - 1 - np.log(sigma**2)))),
            "std_instead_of_variance": lambda: float(np.sum(
                -0.5 * (1 + np.log(sigma) - mu**2 - sigma))),
            "reverse_direction": lambda: float(np.sum(
                np.log(sigma) + (1 + mu**2) / (2 * sigma**2) - 0.5)),
            "mean_over_dims": lambda: float(np.mean(_kl_terms(mu, sigma**2))),
            "kl_divergence_given_sigma": lambda: float(_np(
                sol04.kl_per_example(mu[None], sigma[None]))[0]),
            "kl_divergence_given_log_sigma": lambda: float(_np(
                sol04.kl_per_example(mu[None], np.log(sigma)[None]))[0]),
        },
        "check_reverse_kl": {
            "forward_direction": lambda: float(_kl_terms(rm, rs**2)),
            "mu_not_squared": lambda: math.log(rs) + (1 + rm) / (2 * rs**2) - 0.5,
            "log_variance_term": lambda: math.log(rs**2) + (1 + rm**2) / (2 * rs**2) - 0.5,
            "divided_by_sigma": lambda: math.log(rs) + (1 + rm**2) / (2 * rs) - 0.5,
            "seed003_formula": lambda: 0.5 * (1 + math.log(rs**2) - rm - rs**2),
        },
        "check_effective_beta": {
            "forgot_kl_mean": lambda: float(values),
            "forgot_colour_channels": lambda: 32 * 32 / nb04.BETA_LATENT_DIM,
            "inverse": lambda: nb04.BETA_LATENT_DIM / values,
            "notebook_value_for_d_2": lambda: 784 / 2,
        },
        "check_decoder_variance": {
            "forgot_the_half": lambda: nb04.VARIANCE_PIXELS * nb04.VARIANCE_KL_WEIGHT,
            "ignored_the_weight": lambda: nb04.VARIANCE_PIXELS / 2,
            "standard_deviation": lambda: math.sqrt(
                nb04.VARIANCE_PIXELS * nb04.VARIANCE_KL_WEIGHT / 2),
            "forgot_the_pixels": lambda: nb04.VARIANCE_KL_WEIGHT / 2,
        },
        "check_kl_function": {name: (lambda name=name: kl_fn(name)) for name in (
            "sum_over_batch", "per_dimension", "mean_over_dims", "reverse_direction",
            "mu_not_squared", "no_half", "log_var_as_log_std")},
        "check_bernoulli_nll_from_logits": {name: (lambda name=name: nll_fn(name)) for name in (
            "naive_log_sigmoid", "naive_float64", "clipped_probabilities", "mean_over_pixels",
            "sum_last_axis_only", "sign_error")},
    }


def _nb05_mistakes():
    table = nb05.JOINT_TABLE
    outer = table.sum(1, keepdims=True) * table.sum(0, keepdims=True)
    mi = float(np.sum(table * np.log(table / outer)))
    d = nb05.EFFECTIVE_BETA_LATENT_DIM
    mi_matrix, h = nb05.MI_MATRIX, np.log(nb05.FACTOR_CARDINALITIES)
    top = np.sort(mi_matrix, axis=0)

    def loss_fn(variant):
        def fn(x, p, m, v, beta):
            x, p, m, v = (np.asarray(a, "float64") for a in (x, p, m, v))
            bce = -(x * np.log(p) + (1 - x) * np.log(1 - p))
            kl = -0.5 * (1 + v - m**2 - np.exp(v))
            recon, rate = bce.sum(axis=(1, 2, 3)), kl.sum(axis=1)
            return {"mean_over_pixels": lambda: bce.mean(axis=(1, 2, 3)) + beta * rate,
                    "kl_mean_over_dims": lambda: recon + beta * kl.mean(axis=1),
                    "beta_on_reconstruction": lambda: beta * recon + rate,
                    "ignores_beta": lambda: recon + rate,
                    "batch_mean": lambda: np.mean(recon + beta * rate),
                    "keras_bce_unflattened": lambda: (
                        _np(keras.losses.binary_crossentropy(x, p)) + beta * rate),
                    }[variant]()
        return fn

    def mi_fn(variant):
        def fn(a, b):
            _, ai = np.unique(a, return_inverse=True)
            _, bi = np.unique(b, return_inverse=True)
            counts = np.zeros((ai.max() + 1, bi.max() + 1))
            np.add.at(counts, (ai, bi), 1.0)
            joint = counts / counts.sum()
            outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
            seen = joint > 0
            with np.errstate(all="ignore"):
                return {"log2": lambda: np.sum(joint[seen] * np.log2(joint[seen] / outer[seen])),
                        "no_zero_cell_guard": lambda: np.sum(joint * np.log(joint / outer)),
                        "joint_entropy": lambda: -np.sum(joint[seen] * np.log(joint[seen])),
                        "counts_not_frequencies": lambda: np.sum(counts[seen] * np.log(
                            counts[seen] / (counts.sum(1, keepdims=True)
                                            * counts.sum(0, keepdims=True))[seen])),
                        }[variant]()
        return fn

    return {
        "check_mutual_information": {
            "bits": lambda: mi / math.log(2),
            "joint_entropy": lambda: float(-np.sum(table * np.log(table))),
            "uniform_marginals_assumed": lambda: float(np.sum(table * np.log(table * table.size))),
        },
        "check_effective_beta": {
            "nll_taken_as_sse": lambda: 1.0 / d,
            "forgot_kl_mean": lambda: 0.5,
            "inverse": lambda: 2.0 * d,
            "mse_formula": lambda: int(np.prod(nb05.EFFECTIVE_BETA_IMAGE_SHAPE)) / (2.0 * d),
            "notebook_04_value": lambda: 784 / 2,
        },
        "check_mig_from_matrix": {
            "not_normalised": lambda: float(np.mean(top[-1] - top[-2])),
            "entropies_in_bits": lambda: float(np.mean(
                (top[-1] - top[-2]) / np.log2(nb05.FACTOR_CARDINALITIES))),
            "largest_minus_smallest": lambda: float(np.mean((top[-1] - top[0]) / h)),
            "gaps_along_rows": lambda: float(np.mean(np.abs(np.diff(mi_matrix, axis=1)))),
        },
        "check_active_units": {
            "std_compared_with_threshold": lambda: int(np.sum(np.std(nb05.Z_MEANS, axis=0) > 0.01)),
            "counted_inactive_units": lambda: int(np.sum(np.var(nb05.Z_MEANS, axis=0) <= 0.01)),
            "variance_over_dimensions": lambda: int(np.sum(np.var(nb05.Z_MEANS, axis=1) > 0.01)),
        },
        "check_beta_vae_loss": {name: (lambda name=name: loss_fn(name)) for name in (
            "mean_over_pixels", "kl_mean_over_dims", "beta_on_reconstruction", "ignores_beta",
            "batch_mean", "keras_bce_unflattened")},
        "check_mutual_information_function": {name: (lambda name=name: mi_fn(name)) for name in (
            "log2", "no_zero_cell_guard", "joint_entropy", "counts_not_frequencies")},
    }


def _nb06_mistakes():
    s, beta = nb06.DECODER_STD, nb06.TARGET_BETA
    kernel, bias, label = nb06.FIRST_LAYER_KERNEL, nb06.FIRST_LAYER_BIAS, nb06.LABEL
    q_var, p_var = np.exp(nb06.Q_LOG_VAR), np.exp(nb06.PRIOR_LOG_VAR)
    diff2 = (nb06.Q_MEAN - nb06.PRIOR_MEAN) ** 2

    def input_fn(variant):
        def fn(z, labels, k):
            eye = np.eye(k, dtype="float32")
            return {"label_first": lambda: np.concatenate([eye[labels], z], axis=1),
                    "one_based_label": lambda: np.concatenate([z, eye[labels - 1]], axis=1),
                    "raw_label_column": lambda: np.concatenate([z, labels[:, None]], axis=1),
                    "classes_from_max_label": lambda: np.concatenate(
                        [z, np.eye(labels.max() + 1)[labels]], axis=1),
                    "concatenated_on_axis_0": lambda: np.concatenate([z, eye[labels]], axis=0),
                    }[variant]()
        return fn

    def kl_fn(variant):
        def fn(qm, qv, pm, pv):
            qm, qv, pm, pv = (np.asarray(a, "float64") for a in (qm, qv, pm, pv))
            right = 0.5 * (pv - qv + (np.exp(qv) + (qm - pm) ** 2) / np.exp(pv) - 1)
            return {"reverse_direction": lambda: np.sum(
                        0.5 * (qv - pv + (np.exp(pv) + (qm - pm) ** 2) / np.exp(qv) - 1), axis=1),
                    "ignores_the_prior": lambda: np.sum(
                        0.5 * (np.exp(qv) + qm**2 - 1 - qv), axis=1),
                    "sum_over_batch": lambda: np.sum(right),
                    "q_variance_in_denominator": lambda: np.sum(
                        0.5 * (pv - qv + (np.exp(qv) + (qm - pm) ** 2) / np.exp(qv) - 1), axis=1),
                    }[variant]()
        return fn

    return {
        "check_lecture_alpha": {
            "std_instead_of_variance": lambda: 2 * s * beta,
            "forgot_the_two": lambda: s**2 * beta,
            "alpha_for_beta_1": lambda: 2 * s**2,
            "inverted_relation": lambda: beta / (2 * s**2),
        },
        "check_label_bias": {
            "forgot_the_bias": lambda: kernel[2 + label],
            "row_without_z_offset": lambda: bias + kernel[label],
            "one_based_row": lambda: bias + kernel[2 + label - 1],
            "kernel_column": lambda: bias[0] + kernel[:, label],
        },
        "check_regressor_nll": {
            "bits": lambda: float(nb06.DIFFERING_PIXELS),
            "one_pixel": lambda: math.log(2),
            "half_the_pixels": lambda: nb06.DIFFERING_PIXELS / 2 * math.log(2),
        },
        "check_latent_model_nll": {
            "z_treated_as_known": lambda: 0.0,
            "bits": lambda: 1.0,
            "regressor_value": lambda: nb06.DIFFERING_PIXELS * math.log(2),
        },
        "check_conditional_prior_kl": {
            "reverse_direction": lambda: float(np.sum(0.5 * (nb06.Q_LOG_VAR - nb06.PRIOR_LOG_VAR
                                                             + (p_var + diff2) / q_var - 1))),
            "kl_to_standard_normal": lambda: float(np.sum(_kl_terms(nb06.Q_MEAN, q_var))),
            "mean_term_not_divided": lambda: float(np.sum(0.5 * (nb06.PRIOR_LOG_VAR - nb06.Q_LOG_VAR
                                                                 + q_var / p_var + diff2 - 1))),
        },
        "check_decoder_input": {name: (lambda name=name: input_fn(name)) for name in (
            "label_first", "one_based_label", "raw_label_column", "classes_from_max_label",
            "concatenated_on_axis_0")},
        "check_conditional_prior_kl_function": {name: (lambda name=name: kl_fn(name)) for name in (
            "reverse_direction", "ignores_the_prior", "sum_over_batch",
            "q_variance_in_denominator")},
    }


MISTAKES = {"nb00": _nb00_mistakes(), "nb01": _nb01_mistakes(), "nb02": _nb02_mistakes(),
            "nb03": _nb03_mistakes(), "nb04": _nb04_mistakes(), "nb05": _nb05_mistakes(),
            "nb06": _nb06_mistakes()}

CHECKS = [(module, name) for module, mod in MODULES.items()
          for name, _ in inspect.getmembers(mod, inspect.isfunction) if name.startswith("check_")]
CHECK_IDS = [f"{module}.{name}" for module, name in CHECKS]
MISTAKE_CASES = [(module, check, mistake) for module, checks in MISTAKES.items()
                 for check, mistakes in checks.items() for mistake in mistakes]


def _check_fn(module, name):
    return getattr(MODULES[module], name)


def _solution(module, name):
    return getattr(SOLUTIONS[module], name[len("check_"):])()


# ------------------------------------------------------------ completeness

def test_every_check_has_a_solution_and_mistakes():
    assert len(CHECKS) >= 30
    for module, name in CHECKS:
        assert hasattr(SOLUTIONS[module], name[len("check_"):]), \
            f"{module}.{name} has no worked solution"
        assert MISTAKES[module].get(name), f"{module}.{name} has no typical mistake under test"
    for module, checks in MISTAKES.items():
        for name in checks:
            assert hasattr(MODULES[module], name), \
                f"mistakes listed for a missing check {module}.{name}"


def test_coding_exercises_from_notebook_03_on():
    coding = {"nb03": ["check_log_std_sampling", "check_log_std_layer"],
              "nb04": ["check_kl_function", "check_bernoulli_nll_from_logits"],
              "nb05": ["check_beta_vae_loss", "check_mutual_information_function"],
              "nb06": ["check_decoder_input", "check_conditional_prior_kl_function"]}
    for module, names in coding.items():
        for name in names:
            assert callable(_solution(module, name)), f"{module}.{name} should take code"


# --------------------------------------------------------- the four cases

@pytest.mark.parametrize("module, name", CHECKS, ids=CHECK_IDS)
def test_none_is_not_answered(module, name, capsys):
    assert _check_fn(module, name)(None) is False
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("module, name", CHECKS, ids=CHECK_IDS)
def test_worked_solution_passes(module, name, capsys):
    assert _check_fn(module, name)(_solution(module, name)) is True, capsys.readouterr().out
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("module, name, mistake", MISTAKE_CASES,
                         ids=[f"{m}.{c}-{k}" for m, c, k in MISTAKE_CASES])
def test_typical_mistake_fails(module, name, mistake, capsys):
    wrong = MISTAKES[module][name][mistake]()
    assert _check_fn(module, name)(wrong) is False
    assert "not yet" in capsys.readouterr().out


def _with_extra_axis(answer):
    """The right answer in the wrong shape: one more leading axis (or a wrapped function/layer)."""
    if isinstance(answer, type):  # a layer class: z gets a trailing axis
        return _layer_variant(lambda self, inputs: ops.expand_dims(
            sol03.LogStdSampling.call(self, inputs), -1))
    if callable(answer):
        return lambda *args, **kwargs: _np(answer(*args, **kwargs))[None]
    return np.asarray(answer, dtype="float64")[None]


@pytest.mark.parametrize("module, name", CHECKS, ids=CHECK_IDS)
def test_right_value_in_wrong_shape_fails(module, name, capsys):
    assert _check_fn(module, name)(_with_extra_axis(_solution(module, name))) is False
    out = capsys.readouterr().out
    assert "not yet" in out and "expected" in out and "shape" in out, out


CODING_CHECKS = ("check_log_std_sampling", "check_log_std_layer", "check_kl_function",
                 "check_bernoulli_nll_from_logits", "check_beta_vae_loss",
                 "check_mutual_information_function", "check_decoder_input",
                 "check_conditional_prior_kl_function")
NUMERIC_CHECKS = [(m, n) for m, n in CHECKS if n not in CODING_CHECKS]


@pytest.mark.parametrize("module, name", NUMERIC_CHECKS,
                         ids=[f"{m}.{n}" for m, n in NUMERIC_CHECKS])
def test_non_numeric_answer_fails_without_raising(module, name, capsys):
    assert _check_fn(module, name)("0.5") is False
    assert "not yet" in capsys.readouterr().out


# ------------------------------------------------------------ the helpers

def test_report_refuses_broadcasting_a_number_over_an_array(capsys):
    assert _check.report("E", 0.5, np.full(3, 0.5)) is False
    assert "expected an array of shape (3,), received a single number" in capsys.readouterr().out
    assert _check.report("E", np.full(3, 0.5), 0.5) is False
    assert "expected a single number, received an array of shape (3,)" in capsys.readouterr().out


def test_report_rejects_nan_and_text_and_accepts_backend_tensors(capsys):
    assert _check.report("E", float("nan"), 1.0) is False
    assert _check.report("E", "1.0", 1.0) is False
    tensor = ops.convert_to_tensor(np.array([1.0, 2.0]))
    assert _check.report("E", tensor, np.array([1.0, 2.0])) is True
    assert _check.report("E", np.float32(0.5), 0.5) is True


def test_report_names_the_known_mistake(capsys):
    assert nb00.check_uninformative_decoder_loss(784) is False
    assert "bits" in capsys.readouterr().out
    forward = MISTAKES["nb04"]["check_reverse_kl"]["forward_direction"]()
    assert nb04.check_reverse_kl(forward) is False
    assert "direction" in capsys.readouterr().out


def test_call_student_reports_a_crash_without_raising(capsys):
    assert nb04.check_kl_function(lambda m, v: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_gaussian_expectation_is_exact_for_polynomials():
    assert np.isclose(_check.gaussian_expectation(lambda z: z**4, 1.0, 2.0), 1 + 6 * 4 + 3 * 16)


def test_value_and_gradients_on_this_backend():
    aux, (grad,) = _check.value_and_gradients(lambda x: (ops.sum(x**2), x * 1.0),
                                              np.array([1.0, -2.0], "float32"))
    assert np.allclose(grad, [2.0, -4.0]) and np.allclose(aux, [1.0, -2.0])


# ----------------------------------- Monte Carlo tolerance of notebook 03, Ex. 2

def test_exp_gradient_tolerance_is_at_least_four_standard_errors():
    rng = np.random.default_rng(123)
    eps = rng.standard_normal(2_000_000)
    f = np.exp(nb03.EXP_MU + nb03.EXP_SIGMA * eps)
    per_draw_std = np.array([f.std(), (eps * f).std()])        # measured, not from the check
    standard_error = per_draw_std / math.sqrt(nb03.EXP_MIN_DRAWS)
    expected, variance = nb03._exp_gradient_moments()
    tolerance = nb03.EXP_TOLERANCE_SE * np.sqrt(variance / nb03.EXP_MIN_DRAWS)
    assert np.all(tolerance >= 4.0 * standard_error)
    assert np.all(tolerance <= 6.0 * standard_error)           # and not so loose that mistakes pass


def test_exp_gradient_accepts_correct_monte_carlo_answers():
    for seed in range(20):
        assert nb03.check_exp_gradient(sol03.exp_gradient(seed=seed)), seed


# ------------------------------------------------------------------ doctests

@pytest.mark.parametrize("module", [_check, solutions_package, *MODULES.values(),
                                    *SOLUTIONS.values()],
                         ids=lambda m: m.__name__.replace("vae_keras.exercises.", ""))
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
