"""Tests for vae_keras.stats against independent references.

* Hand-worked examples that need no scipy: small paired and Welch cases with
  round numbers, exact Mann-Whitney p-values from counting splits by hand
  (3 vs 3 completely separated: 2 of the 20 splits are as extreme, p = 0.1),
  the tie-corrected normal approximation written out, and closed forms of
  the Student-t CDF (df=1 Cauchy, df=2, df=4, df -> inf normal).
* scipy (skipped when it is not installed): ``scipy.stats.sem``,
  ``ttest_rel``, ``ttest_ind(equal_var=False)``, ``mannwhitneyu`` with
  ``method="exact"`` / ``"asymptotic"``, ``t.cdf`` and
  ``scipy.special.betainc``.
* Error paths, determinism, and that the module itself never imports scipy.
"""

import ast
import doctest
import math

import numpy as np
import pytest

from vae_keras import stats
from vae_keras.stats import (
    Estimate,
    SeedComparison,
    compare_seeds,
    mean_se,
    paired_difference,
    student_t_cdf,
)

T_GRID = (-40.0, -7.5, -3.0, -1.0, -0.25, 0.0, 0.1, 0.8, 2.0, 5.0, 30.0)


def rng_scores(seed, n, loc=0.0):
    return np.random.default_rng(seed).normal(loc, 1.0, size=n)


# --- mean_se and paired_difference: hand references ---------------------------


def test_mean_se_by_hand():
    estimate = mean_se([1.0, 2.0, 3.0, 4.0])
    # var(ddof=1) = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3; se = sqrt(5/3) / 2.
    assert estimate == Estimate(2.5, math.sqrt(5.0 / 3.0) / 2.0, 4)
    assert str(estimate) == "2.50 ± 0.65"
    assert estimate.format(3) == "2.500 ± 0.645"
    assert estimate.format(0) == "2 ± 1"
    assert f"{estimate:.1f}" == "2.5 ± 0.6"
    assert f"{estimate}" == "2.50 ± 0.65"


def test_mean_se_constant_values_have_zero_se():
    assert mean_se([7, 7, 7]) == Estimate(7.0, 0.0, 3)


def test_mean_se_returns_plain_python_numbers():
    estimate = mean_se(np.arange(5, dtype=np.float32))
    assert type(estimate.mean) is float and type(estimate.se) is float
    assert type(estimate.n) is int


def test_paired_difference_by_hand():
    # Differences 2, 3, 1: mean 2, sd 1, se 1 / sqrt(3).
    result = paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0])
    assert result.mean == pytest.approx(2.0, abs=1e-15)
    assert result.se == pytest.approx(1.0 / math.sqrt(3.0), rel=1e-15)
    assert result.n == 3
    assert str(result) == "2.00 ± 0.58"


def test_paired_difference_is_mean_se_of_differences_and_antisymmetric():
    a, b = rng_scores(0, 50), rng_scores(1, 50)
    assert paired_difference(a, b) == mean_se(a - b)
    flipped = paired_difference(b, a)
    assert flipped.mean == pytest.approx(-paired_difference(a, b).mean, abs=1e-15)
    assert flipped.se == paired_difference(a, b).se


def test_pairing_cancels_what_the_examples_share():
    # Example difficulty shared by both models dominates each score; the
    # paired SE sees only the small per-example disagreement.
    rng = np.random.default_rng(0)
    difficulty = rng.normal(0.0, 10.0, size=200)
    a = difficulty + 1.0 + rng.normal(0.0, 0.1, size=200)
    b = difficulty + rng.normal(0.0, 0.1, size=200)
    paired = paired_difference(a, b)
    unpaired_se = math.hypot(mean_se(a).se, mean_se(b).se)
    assert paired.mean == pytest.approx(1.0, abs=0.05)
    assert paired.se < unpaired_se / 50


# --- compare_seeds: hand references -------------------------------------------


def test_welch_by_hand_df_2():
    # Means 1 and 5, variances 2 and 2: se = sqrt(2/2 + 2/2) = sqrt(2),
    # t = -4 / sqrt(2), df = (1 + 1)^2 / (1/1 + 1/1) = 2, and with the df=2
    # closed form P(|T| > |t|) = 1 - |t| / sqrt(2 + t^2) = 1 - sqrt(8/10).
    result = compare_seeds([0.0, 2.0], [4.0, 6.0])
    assert result.difference == -4.0
    assert result.se == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert result.t == pytest.approx(-2.0 * math.sqrt(2.0), rel=1e-15)
    assert result.df == pytest.approx(2.0, rel=1e-15)
    assert result.p_welch == pytest.approx(1.0 - math.sqrt(0.8), rel=1e-12)
    assert (result.n_a, result.n_b) == (2, 2)


def test_welch_by_hand_df_4():
    # Variances 1 and 1 over 3 seeds: se = sqrt(2/3), df = (2/3)^2 / (2 (1/3)^2 / 2) = 4.
    result = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    t = -3.0 / math.sqrt(2.0 / 3.0)
    assert result.t == pytest.approx(t, rel=1e-14)
    assert result.df == pytest.approx(4.0, rel=1e-14)
    s = 1.0 + t * t / 4.0  # df=4: F(t) = 1/2 + 3/8 t/sqrt(s) (1 - t^2 / (12 s))
    cdf = 0.5 + 0.375 * t / math.sqrt(s) * (1.0 - t * t / (12.0 * s))
    assert result.p_welch == pytest.approx(2.0 * cdf, rel=1e-12)


def test_welch_with_one_constant_arm():
    # var(a) = 0: se = sd(b) / sqrt(3) = 1 / sqrt(3), df = n_b - 1 = 2.
    result = compare_seeds([1.0, 1.0, 1.0], [2.0, 3.0, 4.0])
    t = -2.0 * math.sqrt(3.0)
    assert result.t == pytest.approx(t, rel=1e-14)
    assert result.df == pytest.approx(2.0, rel=1e-14)
    assert result.p_welch == pytest.approx(1.0 - abs(t) / math.sqrt(2.0 + t * t), rel=1e-12)


def test_equal_arms_give_p_one():
    result = compare_seeds([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    assert result.t == 0.0 and result.p_welch == 1.0
    assert result.u == 4.5 and result.p_rank == 1.0


@pytest.mark.parametrize("a, b, u, p", [
    # 3 vs 3 completely separated: U = 0, P(U <= 0) = 1/20, two-sided 2/20.
    ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], 0.0, 2 / 20),
    ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0], 9.0, 2 / 20),
    # One swap: U = 1; U counts for 3 vs 3 are 1,1,2,3,3,3,3,2,1,1, so P(U <= 1) = 2/20.
    ([1.0, 2.0, 4.0], [3.0, 5.0, 6.0], 1.0, 4 / 20),
    # 2 vs 2 separated: 1 of C(4, 2) = 6 splits each way.
    ([0.1, 0.2], [0.3, 0.4], 0.0, 2 / 6),
    # 5 vs 5 separated: 2 of C(10, 5) = 252; 3 vs 5: 2 of C(8, 3) = 56.
    ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0.0, 2 / 252),
    ([10.0, 11.0, 12.0], [1.0, 2.0, 3.0, 4.0, 5.0], 15.0, 2 / 56),
])
def test_exact_mann_whitney_by_hand(a, b, u, p):
    result = compare_seeds(a, b)
    assert result.rank_method == "exact"
    assert result.u == u
    assert result.p_rank == pytest.approx(p, rel=1e-15)


def test_three_seeds_per_arm_cannot_reach_five_percent():
    assert compare_seeds([1.0, 2.0, 3.0], [100.0, 200.0, 300.0]).p_rank == pytest.approx(0.1)


def test_normal_mann_whitney_with_ties_by_hand():
    # Pooled 1, 2, 2, 2, 3, 4: midranks 1, 3, 3, 3, 5, 6; R_a = 7, U = 7 - 6 = 1
    # (= 0 wins + 2 ties * 1/2). Tie term 3^3 - 3 = 24:
    # sd^2 = 3*3/12 * (7 - 24 / (6*5)) = 4.65; z = (|1 - 4.5| - 0.5) / sd.
    result = compare_seeds([1.0, 2.0, 2.0], [2.0, 3.0, 4.0])
    assert result.rank_method == "normal"
    assert result.u == 1.0
    z = 3.0 / math.sqrt(4.65)
    assert result.p_rank == pytest.approx(math.erfc(z / math.sqrt(2.0)), rel=1e-14)


def test_rank_method_switches_to_normal_for_many_seeds():
    # 9 vs 10 seeds: C(19, 9) = 92378 splits, enumerated; 10 vs 10: 184756 > 100000.
    assert compare_seeds(rng_scores(0, 9), rng_scores(1, 10)).rank_method == "exact"
    assert compare_seeds(rng_scores(0, 10), rng_scores(1, 10)).rank_method == "normal"


def test_swapping_the_arms_mirrors_the_result():
    a, b = rng_scores(0, 4), rng_scores(1, 5, loc=0.5)
    forward, backward = compare_seeds(a, b), compare_seeds(b, a)
    assert backward.difference == pytest.approx(-forward.difference, abs=1e-15)
    assert backward.t == pytest.approx(-forward.t, abs=1e-15)
    assert backward.se == forward.se and backward.df == forward.df
    assert backward.p_welch == pytest.approx(forward.p_welch, rel=1e-12)
    assert backward.u == 4 * 5 - forward.u
    assert backward.p_rank == forward.p_rank


def test_seed_comparison_summary_line():
    result = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert isinstance(result, SeedComparison)
    assert str(result) == (
        "a - b = -3.00 ± 0.82 (3 vs 3 seeds); Welch t = -3.67, df = 4.0, "
        "p = 0.021; Mann-Whitney U = 0, p = 0.1 (exact)")
    assert result.format(1).startswith("a - b = -3.0 ± 0.8 ")


# --- Student-t CDF: closed forms ------------------------------------------------


@pytest.mark.parametrize("t", T_GRID)
def test_t_cdf_df1_is_cauchy(t):
    assert student_t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, rel=1e-12)


@pytest.mark.parametrize("t", T_GRID)
def test_t_cdf_df2_closed_form(t):
    assert student_t_cdf(t, 2.0) == pytest.approx(0.5 + t / (2.0 * math.sqrt(2.0 + t * t)),
                                                  rel=1e-11)


@pytest.mark.parametrize("df", (0.5, 1, 3.3, 20, 1e4))
def test_t_cdf_symmetry_centre_and_infinities(df):
    assert student_t_cdf(0.0, df) == 0.5
    assert student_t_cdf(math.inf, df) == 1.0 and student_t_cdf(-math.inf, df) == 0.0
    for t in T_GRID:
        assert student_t_cdf(-t, df) == pytest.approx(1.0 - student_t_cdf(t, df), abs=1e-14)
    values = [student_t_cdf(t, df) for t in T_GRID]
    assert values == sorted(values)


def test_t_cdf_tends_to_the_normal_cdf():
    for t in (-3.0, -1.0, 0.5, 2.0):
        normal = 0.5 * math.erfc(-t / math.sqrt(2.0))
        assert student_t_cdf(t, 1e6) == pytest.approx(normal, abs=1e-6)


def test_t_cdf_far_tail_is_tiny_but_positive():
    # df=1: 0.5 + atan(-1e8)/pi = 1/(pi * 1e8) to first order; no cancellation.
    assert student_t_cdf(-1e8, 1) == pytest.approx(1.0 / (math.pi * 1e8), rel=1e-9)
    assert 0.0 < student_t_cdf(-1e3, 30) < 1e-50


# --- scipy references -------------------------------------------------------------


@pytest.mark.parametrize("n", (2, 3, 10, 1000))
def test_mean_se_matches_scipy_sem(n):
    scipy_stats = pytest.importorskip("scipy.stats")
    values = rng_scores(n, n, loc=-90.0)
    estimate = mean_se(values)
    assert estimate.mean == pytest.approx(values.mean(), rel=1e-15)
    assert estimate.se == pytest.approx(scipy_stats.sem(values), rel=1e-12)


@pytest.mark.parametrize("n", (2, 5, 300))
def test_paired_difference_matches_scipy_ttest_rel(n):
    scipy_stats = pytest.importorskip("scipy.stats")
    a, b = rng_scores(10 + n, n), rng_scores(20 + n, n, loc=0.3)
    result = paired_difference(a, b)
    reference = scipy_stats.ttest_rel(a, b)
    assert result.mean / result.se == pytest.approx(reference.statistic, rel=1e-12)
    assert result.n - 1 == reference.df


@pytest.mark.parametrize("n_a, n_b, shift, scale_b", [
    (2, 2, 1.0, 1.0), (3, 3, 0.5, 1.0), (3, 5, 2.0, 4.0), (5, 4, -0.3, 0.2),
    (10, 30, 0.1, 3.0), (200, 150, 0.05, 1.0),
])
def test_welch_matches_scipy_ttest_ind(n_a, n_b, shift, scale_b):
    scipy_stats = pytest.importorskip("scipy.stats")
    a = rng_scores(n_a, n_a)
    b = shift + scale_b * rng_scores(100 + n_b, n_b)
    result = compare_seeds(a, b)
    reference = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert result.t == pytest.approx(reference.statistic, rel=1e-12)
    assert result.df == pytest.approx(reference.df, rel=1e-12)
    assert result.p_welch == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.difference == pytest.approx(a.mean() - b.mean(), rel=1e-12)


@pytest.mark.parametrize("n_a, n_b, shift", [
    (2, 2, 0.0), (3, 3, 1.0), (3, 4, 0.0), (4, 4, 2.0), (5, 5, 0.7), (4, 9, 1.0),
    (9, 10, 0.5),
])
def test_exact_rank_test_matches_scipy(n_a, n_b, shift):
    scipy_stats = pytest.importorskip("scipy.stats")
    a, b = rng_scores(n_a, n_a), rng_scores(50 + n_b, n_b, loc=shift)
    result = compare_seeds(a, b)
    reference = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method="exact")
    assert result.rank_method == "exact"
    assert result.u == reference.statistic
    assert result.p_rank == pytest.approx(reference.pvalue, rel=1e-12)


@pytest.mark.parametrize("a, b", [
    ([1.0, 2.0, 2.0], [2.0, 3.0, 4.0]),  # ties, small
    ([3.0, 3.0, 3.0, 1.0], [3.0, 2.0, 5.0, 5.0, 5.0]),  # several tie groups
    (np.round(rng_scores(1, 12), 1), np.round(rng_scores(2, 15, loc=0.4), 1)),
    (rng_scores(3, 10), rng_scores(4, 10, loc=1.0)),  # no ties, too many splits
    (rng_scores(5, 60), rng_scores(6, 40, loc=0.2)),
])
def test_normal_rank_test_matches_scipy_asymptotic(a, b):
    scipy_stats = pytest.importorskip("scipy.stats")
    result = compare_seeds(a, b)
    reference = scipy_stats.mannwhitneyu(a, b, alternative="two-sided",
                                         method="asymptotic", use_continuity=True)
    assert result.rank_method == "normal"
    assert result.u == reference.statistic
    assert result.p_rank == pytest.approx(reference.pvalue, rel=1e-12)


@pytest.mark.parametrize("df", (0.3, 1.0, 2.5, 4.0, 7.0, 30.0, 1e3, 1e4))
def test_t_cdf_matches_scipy(df):
    scipy_stats = pytest.importorskip("scipy.stats")
    for t in T_GRID + (-300.0,):
        assert student_t_cdf(t, df) == pytest.approx(scipy_stats.t.cdf(t, df), rel=1e-9)


def test_incomplete_beta_matches_scipy():
    special = pytest.importorskip("scipy.special")
    for a in (0.05, 0.5, 1.0, 2.5, 10.0, 150.0):
        for b in (0.5, 1.0, 3.0, 50.0):
            for x in np.linspace(0.0, 1.0, 21):
                assert stats._betainc(a, b, float(x)) == pytest.approx(
                    special.betainc(a, b, x), rel=1e-11, abs=1e-300)


# --- bad arguments ------------------------------------------------------------------

BAD_SCORES = [
    ([[1.0, 2.0], [3.0, 4.0]], r"1-D.*shape \(2, 2\)"),
    (5.0, r"1-D.*shape \(\)"),
    ([1.0], r"at least 2.*received 1"),
    ([], r"at least 2.*received 0"),
    (["1.0", "2.0"], r"real numbers.*dtype <U3"),
    ([True, False, True], r"real numbers.*dtype bool"),
    ([1 + 2j, 3.0], r"real numbers.*dtype complex128"),
    (None, r"real numbers.*NoneType of dtype object"),
    ([1.0, None, 2.0], r"real numbers.*dtype object"),
    ([[1.0, 2.0], [3.0]], r"numpy cannot read"),
    ([1.0, math.nan, 2.0], r"finite.*index \[1\]"),
    (np.array([1.0, 2.0, np.inf, -np.inf]), r"finite.*index \[2, 3\]"),
]


@pytest.mark.parametrize("values, message", BAD_SCORES)
def test_mean_se_refuses(values, message):
    with pytest.raises(ValueError, match=r"`values`.*" + message):
        mean_se(values)


@pytest.mark.parametrize("values, message", BAD_SCORES)
def test_paired_difference_refuses_either_argument(values, message):
    with pytest.raises(ValueError, match=r"`a`.*" + message):
        paired_difference(values, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`b`.*" + message):
        paired_difference([1.0, 2.0], values)


@pytest.mark.parametrize("values, message", BAD_SCORES)
def test_compare_seeds_refuses_either_argument(values, message):
    with pytest.raises(ValueError, match=r"`a`.*" + message):
        compare_seeds(values, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`b`.*" + message):
        compare_seeds([1.0, 2.0], values)


def test_paired_difference_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"`a` and `b`.*same shape.*\(3,\) and \(4,\)"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0])


def test_compare_seeds_refuses_two_constant_arms():
    with pytest.raises(ValueError, match=r"`a` and `b` both have zero spread.*\[1.0, 1.0\]"):
        compare_seeds([1.0, 1.0], [2.0, 2.0, 2.0])


@pytest.mark.parametrize("t, df, message", [
    (1.0, 0, r"`df` must be a positive finite number; received 0.0"),
    (1.0, -2.0, r"`df` must be a positive finite number"),
    (1.0, math.inf, r"`df` must be a positive finite number; received inf"),
    (1.0, math.nan, r"`df` must be a positive finite number; received nan"),
    (1.0, "3", r"`df` must be a real number; received '3'"),
    (1.0, True, r"`df` must be a real number; received True"),
    (math.nan, 3, r"`t` must be a number, not NaN"),
    ("1", 3, r"`t` must be a real number; received '1'"),
    (None, 3, r"`t` must be a real number; received None"),
    (np.array([1.0, 2.0]), 3, r"`t` must be a real number"),
])
def test_student_t_cdf_refuses(t, df, message):
    with pytest.raises(ValueError, match=message):
        student_t_cdf(t, df)


@pytest.mark.parametrize("decimals", (-1, 1.5, True, "2", None))
def test_format_refuses_bad_decimals(decimals):
    with pytest.raises(ValueError, match=r"`decimals` must be an int >= 0"):
        mean_se([1.0, 2.0]).format(decimals)
    with pytest.raises(ValueError, match=r"`decimals` must be an int >= 0"):
        compare_seeds([1.0, 2.0], [3.0, 5.0]).format(decimals)


# --- accepted inputs, determinism, the module itself -------------------------------


def test_ints_lists_tuples_and_float32_give_the_same_answer():
    reference = compare_seeds(np.array([1.0, 4.0, 2.0]), np.array([5.0, 3.0, 6.0, 7.0]))
    assert compare_seeds([1, 4, 2], (5, 3, 6, 7)) == reference
    assert compare_seeds(np.array([1, 4, 2], dtype=np.uint8),
                         np.array([5, 3, 6, 7], dtype=np.float32)) == reference
    assert mean_se((1, 2, 4)) == mean_se(np.array([1.0, 2.0, 4.0]))


def test_results_are_deterministic_and_inputs_untouched():
    a, b = rng_scores(7, 5), rng_scores(8, 4)
    a_copy, b_copy = a.copy(), b.copy()
    assert compare_seeds(a, b) == compare_seeds(a, b)
    assert paired_difference(a[:4], b) == paired_difference(a[:4], b)
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(b, b_copy)


def test_order_of_seeds_within_an_arm_does_not_matter():
    a, b = rng_scores(9, 5), rng_scores(10, 5, loc=1.0)
    result, shuffled = compare_seeds(a, b), compare_seeds(a[::-1], np.roll(b, 2))
    for got, want in zip(shuffled, result):
        if isinstance(want, str):
            assert got == want
        else:
            assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_module_does_not_import_scipy():
    tree = ast.parse(open(stats.__file__, encoding="utf-8").read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"itertools", "math", "typing", "numpy"}


def test_docstring_examples_run():
    result = doctest.testmod(stats, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0
