"""Tests of the answer checks of notebook 07 (``vae_keras.exercises.nb07``).

For every check: ``None`` returns False without raising; the right answer,
computed here by its own route, passes; each typical mistake, computed here
by its own buggy code, fails; the right answer in the wrong shape fails.
"""

import doctest
import inspect
import math

import numpy as np
import pytest

from vae_keras.exercises import nb07


# ------------------------------------------------------------ right answers

def bits_per_dim():
    return nb07.BITS_NLL_NATS / (nb07.BITS_DIMS * math.log(2.0))


def iw_bound(log_weights):
    log_weights = np.asarray(log_weights, "float64")
    k = log_weights.shape[1]
    top = np.max(log_weights, axis=1)
    return top + np.log(np.sum(np.exp(log_weights - top[:, None]), axis=1)) - np.log(k)


def bce_integral():
    lam = nb07.CB_LAMBDA
    # closed form: integral of lam^x (1 - lam)^(1 - x) = (2 lam - 1) / (log lam - log(1 - lam))
    return (2.0 * lam - 1.0) / (math.log(lam) - math.log(1.0 - lam))


def _kl(z_mean, z_log_var):
    z_mean = np.asarray(z_mean, "float64")
    z_log_var = np.asarray(z_log_var, "float64")
    return -0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var))


def free_bits_kl(z_mean, z_log_var, free_bits):
    return float(np.sum(np.maximum(free_bits, _kl(z_mean, z_log_var).mean(axis=0))))


def gaps():
    return [nb07.GAPS_LOG_PX - nb07.GAPS_OPTIMISED_ELBO,
            nb07.GAPS_OPTIMISED_ELBO - nb07.GAPS_ENCODER_ELBO]


RIGHT = {
    "check_bits_per_dim": bits_per_dim(),
    "check_iw_bound_function": iw_bound,
    "check_bce_integral": bce_integral(),
    "check_free_bits_kl": free_bits_kl,
    "check_gaps": gaps(),
}

# ------------------------------------------------------------ typical mistakes


def _naive_iw(log_weights):
    return np.log(np.mean(np.exp(np.asarray(log_weights, "float64")), axis=1))


MISTAKES = {
    "check_bits_per_dim": {
        "nats_per_dim": nb07.BITS_NLL_NATS / nb07.BITS_DIMS,
        "bits_per_image": nb07.BITS_NLL_NATS / math.log(2.0),
        "multiplied_by_ln2": nb07.BITS_NLL_NATS * math.log(2.0) / nb07.BITS_DIMS,
        "log10": nb07.BITS_NLL_NATS / nb07.BITS_DIMS / math.log(10.0),
    },
    "check_iw_bound_function": {
        "elbo_mean_of_logs": lambda lw: np.mean(lw, axis=1),
        "naive_log_mean_exp": _naive_iw,
        "no_minus_log_k": lambda lw: iw_bound(lw) + math.log(lw.shape[1]),
        "max_only": lambda lw: np.max(lw, axis=1),
        "wrong_axis": lambda lw: iw_bound(np.asarray(lw).T),
        "mean_over_examples": lambda lw: float(np.mean(iw_bound(lw))),
    },
    "check_bce_integral": {
        "assumed_normalised": 1.0,
        "normaliser_instead": 1.0 / bce_integral(),
        "trapezoid_two_points": 0.5,
        "log_normaliser": -math.log(bce_integral()),
        "bernoulli_mass_at_one": nb07.CB_LAMBDA,
    },
    "check_free_bits_kl": {
        "max_per_example": lambda m, v, lam: float(np.sum(np.mean(np.maximum(lam, _kl(m, v)), axis=0))),
        "floor_on_total": lambda m, v, lam: float(max(lam * m.shape[1], np.mean(np.sum(_kl(m, v), axis=1)))),
        "min_instead_of_max": lambda m, v, lam: float(np.sum(np.minimum(lam, _kl(m, v).mean(axis=0)))),
        "sum_over_batch": lambda m, v, lam: float(np.sum(np.maximum(lam, _kl(m, v).sum(axis=0)))),
        "ignores_free_bits": lambda m, v, lam: float(np.sum(_kl(m, v).mean(axis=0))),
        "per_example_vector": lambda m, v, lam: np.sum(np.maximum(lam, _kl(m, v)), axis=1),
    },
    "check_gaps": {
        "swapped": gaps()[::-1],
        "negative": [-g for g in gaps()],
        "total_as_approximation": [nb07.GAPS_LOG_PX - nb07.GAPS_ENCODER_ELBO, gaps()[1]],
        "total_as_amortisation": [gaps()[0], nb07.GAPS_LOG_PX - nb07.GAPS_ENCODER_ELBO],
        "only_one_number": sum(gaps()),
    },
}

CHECKS = sorted(name for name, _ in inspect.getmembers(nb07, inspect.isfunction)
                if name.startswith("check_"))
MISTAKE_CASES = [(check, mistake) for check, cases in MISTAKES.items() for mistake in cases]


def test_every_check_is_covered():
    assert len(CHECKS) >= 3
    assert set(CHECKS) == set(RIGHT) == set(MISTAKES)
    assert sum(callable(RIGHT[name]) for name in CHECKS) >= 1  # at least one coding exercise


def test_the_right_answers_are_right_by_another_route():
    lam = nb07.CB_LAMBDA
    x = np.linspace(0.0, 1.0, 200_001)
    values = lam**x * (1.0 - lam) ** (1.0 - x)
    trapezoid = float(np.sum(values[1:] + values[:-1]) * 0.5 * (x[1] - x[0]))
    assert math.isclose(bce_integral(), trapezoid, rel_tol=1e-8)
    small = nb07.IW_SMALL_LOG_WEIGHTS
    assert np.allclose(iw_bound(small), np.log(np.mean(np.exp(small), axis=1)))


@pytest.mark.parametrize("name", CHECKS)
def test_none_is_not_answered(name, capsys):
    assert getattr(nb07, name)(None) is False
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", CHECKS)
def test_right_answer_passes(name, capsys):
    assert getattr(nb07, name)(RIGHT[name]) is True, capsys.readouterr().out
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("name, mistake", MISTAKE_CASES, ids=[f"{c}-{m}" for c, m in MISTAKE_CASES])
def test_typical_mistake_fails(name, mistake, capsys):
    with np.errstate(all="ignore"):
        assert getattr(nb07, name)(MISTAKES[name][mistake]) is False
    assert "not yet" in capsys.readouterr().out


def _with_extra_axis(answer):
    if callable(answer):
        return lambda *args: np.asarray(answer(*args), dtype="float64")[None]
    return np.asarray(answer, dtype="float64")[None]


@pytest.mark.parametrize("name", CHECKS)
def test_right_value_in_wrong_shape_fails(name, capsys):
    assert getattr(nb07, name)(_with_extra_axis(RIGHT[name])) is False
    out = capsys.readouterr().out
    assert "not yet" in out and "expected" in out and "shape" in out, out


@pytest.mark.parametrize("name", [n for n in CHECKS if not callable(RIGHT[n])])
def test_non_numeric_answer_fails_without_raising(name, capsys):
    assert getattr(nb07, name)("0.16") is False
    assert "not yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", [n for n in CHECKS if callable(RIGHT[n])])
def test_crashing_or_silent_function_fails_without_raising(name, capsys):
    def crashes(*args):
        raise ZeroDivisionError("oops")

    assert getattr(nb07, name)(crashes) is False
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    assert getattr(nb07, name)(lambda *args: None) is False
    assert "returned None" in capsys.readouterr().out
    assert getattr(nb07, name)(3.0) is False  # not a function
    assert "not yet" in capsys.readouterr().out


def test_doctests():
    failures, _ = doctest.testmod(nb07, optionflags=doctest.ELLIPSIS)
    assert failures == 0
