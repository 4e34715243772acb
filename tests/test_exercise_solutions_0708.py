"""Tests of the worked solutions of notebooks 07 and 08 (``solutions/`` at the repository root, not in the installed package).

Every check of ``vae_keras.exercises.nb07`` and ``nb08`` has a solution
named after it, and the check accepts it; a few small mistakes built from
the solutions (the answer slightly changed) are rejected, so the checks
are not accepting everything; the solutions' docstring examples run.
"""

import doctest
import inspect
import math

import numpy as np
import pytest
from keras import ops

from vae_keras.exercises import nb07, nb08
from solutions import nb07 as sol07
from solutions import nb08 as sol08

PAIRS = {"nb07": (nb07, sol07), "nb08": (nb08, sol08)}
CHECKS = [(module, name) for module, (checks, _) in PAIRS.items()
          for name, _ in inspect.getmembers(checks, inspect.isfunction) if name.startswith("check_")]
CODING = {"nb07": {"check_iw_bound_function", "check_free_bits_kl"},
          "nb08": {"check_auroc", "check_missing_log_likelihood", "check_fill_missing"}}


def _solution(module, name):
    return getattr(PAIRS[module][1], name[len("check_"):])()


def test_every_check_has_a_solution_and_no_solution_is_orphaned():
    assert len(CHECKS) == 10
    for module, (checks, solutions) in PAIRS.items():
        check_names = {n[len("check_"):] for n, _ in inspect.getmembers(checks, inspect.isfunction)
                       if n.startswith("check_")}
        public = {n for n, f in inspect.getmembers(solutions, inspect.isfunction)
                  if f.__module__ == solutions.__name__ and not n.startswith("_")
                  and not n.endswith("_solution")}
        assert public == check_names, module


@pytest.mark.parametrize("module, name", CHECKS, ids=[f"{m}.{n}" for m, n in CHECKS])
def test_worked_solution_passes(module, name, capsys):
    answer = _solution(module, name)
    assert callable(answer) == (name in CODING[module])
    assert getattr(PAIRS[module][0], name)(answer) is True, capsys.readouterr().out
    assert capsys.readouterr().out.strip().endswith("correct.")


# ------------------------------------------- small mistakes built from the solutions

def _naive_iw_bound(log_weights):          # the solution without the shift by the maximum
    with np.errstate(divide="ignore"):
        return np.log(np.mean(np.exp(np.asarray(log_weights, "float64")), axis=1))


def _free_bits_floor_per_example(z_mean, z_log_var, free_bits):   # max before the batch mean
    kl = -0.5 * (1.0 + z_log_var - z_mean**2 - np.exp(z_log_var))
    return float(np.sum(np.mean(np.maximum(free_bits, kl), axis=0)))


MISTAKES = {
    ("nb07", "check_bits_per_dim"): {
        "multiplied_by_ln2": lambda: sol07.bits_per_dim() * math.log(2.0) ** 2,
        "per_image": lambda: sol07.bits_per_dim() * nb07.BITS_DIMS,
    },
    ("nb07", "check_iw_bound_function"): {
        "no_max_shift": lambda: _naive_iw_bound,
        "sum_not_mean": lambda: (lambda lw: sol07.iw_bound_solution(lw)
                                 + math.log(np.shape(lw)[1])),
    },
    ("nb07", "check_free_bits_kl"): {
        "floor_per_example": lambda: _free_bits_floor_per_example,
    },
    ("nb07", "check_gaps"): {
        "swapped": lambda: sol07.gaps()[::-1],
    },
    ("nb08", "check_auroc"): {
        "reversed_score": lambda: (lambda s, a: sol08.auroc_solution(-s, a)),
    },
    ("nb08", "check_fill_missing"): {
        "mask_inverted": lambda: (lambda x, m, p, u: sol08.fill_missing_solution(x, ~m, p, u)),
        "resampled_everything": lambda: (lambda x, m, p, u: sol08.fill_missing_solution(
            x, np.ones_like(m), p, u)),
    },
    ("nb08", "check_missing_log_likelihood"): {
        "scored_observed_pixels": lambda: (lambda x, p, m: sol08.missing_log_likelihood_solution(
            x, p, ~m)),
    },
    ("nb08", "check_likelihood_ratio"): {
        "reversed": lambda: -sol08.likelihood_ratio(),
    },
}
MISTAKE_CASES = [(module, name, mistake) for (module, name), cases in MISTAKES.items()
                 for mistake in cases]


@pytest.mark.parametrize("module, name, mistake", MISTAKE_CASES,
                         ids=[f"{m}.{n}-{k}" for m, n, k in MISTAKE_CASES])
def test_small_mistake_built_from_the_solution_fails(module, name, mistake, capsys):
    wrong = MISTAKES[(module, name)][mistake]()
    with np.errstate(all="ignore"):
        assert getattr(PAIRS[module][0], name)(wrong) is False
    assert "not yet" in capsys.readouterr().out


def test_iw_bound_solution_is_stable_where_the_naive_one_underflows():
    with np.errstate(divide="ignore"):
        assert np.all(np.isneginf(_naive_iw_bound(nb07.IW_LOG_WEIGHTS)))
    bound = sol07.iw_bound_solution(nb07.IW_LOG_WEIGHTS)
    assert np.all(np.isfinite(bound))
    # between the average log-weight (the ELBO estimate) and the largest one
    assert np.all(bound >= nb07.IW_LOG_WEIGHTS.mean(axis=1))
    assert np.all(bound <= nb07.IW_LOG_WEIGHTS.max(axis=1))


def test_auroc_solution_matches_pair_counting_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=30).astype("float64")      # many ties
    is_anomaly = rng.random(30) < 0.4
    pairs = [(a > n) + 0.5 * (a == n) for a in scores[is_anomaly] for n in scores[~is_anomaly]]
    assert math.isclose(sol08.auroc_solution(scores, is_anomaly), float(np.mean(pairs)))


@pytest.mark.parametrize("module", [sol07, sol08], ids=["nb07", "nb08"])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
