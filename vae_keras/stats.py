"""The course's statistics: means with standard errors, and comparisons.

A sentence such as "A is better than B" needs a number beside it:

- On one trained model, per-example scores (e.g. ``log p(x)`` of each test
  image) have a mean and a standard error, :func:`mean_se`. This is
  *evaluation* noise only: which test images were drawn.
- Two models scored on the *same* examples are compared by the paired
  difference, :func:`paired_difference`: ``mean(a - b)`` with the standard
  error of the per-example differences. Pairing cancels what the examples
  share (some images are hard for every model), so it is far tighter than
  two separate error bars.
- Whether a *method* beats another is a question about training: train
  each with a few seeds and compare one score per seed,
  :func:`compare_seeds` (Welch's t test and the Mann-Whitney rank test).

Plain Python and numpy on arrays of scores after evaluation; no scipy. The
Student-t distribution comes from the regularised incomplete beta function
(continued fraction evaluated by the modified Lentz method, as in Numerical
Recipes' ``betai`` / ``betacf``).
"""

import itertools
import math
from typing import NamedTuple

import numpy as np

# The exact Mann-Whitney p-value enumerates every way of splitting the ranks
# between the two arms; above this many splits (9 vs 10 seeds is 92378) it
# uses the normal approximation, which is accurate by then.
MAX_EXACT_SPLITS = 100_000
_CF_MAX_ITERATIONS = 10_000
_CF_TOLERANCE = 1e-15
_CF_TINY = 1e-300


class Estimate(NamedTuple):
    """A mean, its standard error and the number of values behind them."""

    mean: float
    se: float
    n: int

    def format(self, decimals=2):
        """``"mean ± se"`` with ``decimals`` digits after the point."""
        d = _check_decimals(decimals)
        return f"{self.mean:.{d}f} ± {self.se:.{d}f}"

    def __str__(self):
        return self.format()

    def __format__(self, spec):
        # f"{estimate:.3f}" applies the spec to both numbers.
        return str(self) if not spec else f"{self.mean:{spec}} ± {self.se:{spec}}"


class SeedComparison(NamedTuple):
    """Method ``a`` against method ``b`` over training seeds (see :func:`compare_seeds`)."""

    difference: float
    se: float
    t: float
    df: float
    p_welch: float
    u: float
    p_rank: float
    rank_method: str
    n_a: int
    n_b: int

    def format(self, decimals=2):
        """One line: the difference ± SE, then both tests."""
        d = _check_decimals(decimals)
        return (f"a - b = {self.difference:.{d}f} ± {self.se:.{d}f} "
                f"({self.n_a} vs {self.n_b} seeds); Welch t = {self.t:.2f}, "
                f"df = {self.df:.1f}, p = {self.p_welch:.2g}; Mann-Whitney "
                f"U = {self.u:g}, p = {self.p_rank:.2g} ({self.rank_method})")

    def __str__(self):
        return self.format()


# --- the three comparisons ---------------------------------------------------


def mean_se(values):
    """Mean and standard error of the mean (``ddof=1``) of per-example scores.

    Args:
        values: 1-D array-like of at least 2 finite real numbers, one score
            per example (e.g. the output of :func:`vae_keras.log_likelihood`).

    Returns:
        :class:`Estimate` ``(mean, se, n)`` with ``se = std(values, ddof=1)
        / sqrt(n)``; ``str()`` gives ``"mean ± se"`` (2 decimals), and
        ``.format(decimals)`` or ``f"{estimate:.1f}"`` other precisions.

    Raises:
        ValueError: If ``values`` is not 1-D, not real numbers (booleans,
            strings, complex), holds NaN or inf, or has fewer than 2 values.

    Example:

    >>> estimate = mean_se([1.0, 2.0, 3.0, 4.0])
    >>> print(estimate)
    2.50 ± 0.65
    >>> estimate.n, f"{estimate:.3f}"
    (4, '2.500 ± 0.645')
    """
    return _mean_se(_as_scores(values, "values"))


def paired_difference(a, b):
    """Mean of ``a - b`` over the same examples, with its standard error.

    The standard error is that of the per-example differences, so the
    variation that both scores share cancels.

    Args:
        a: 1-D array-like of per-example scores of the first model.
        b: The second model's scores on the same examples in the same order;
            same shape as ``a``.

    Returns:
        :class:`Estimate` of ``mean(a - b)``; positive when ``a`` scores
        higher.

    Raises:
        ValueError: If ``a`` or ``b`` is not a 1-D array of at least 2 finite
            real numbers, or their shapes differ.

    Example:

    >>> print(paired_difference([3.0, 5.0, 4.0], [1.0, 2.0, 3.0]))
    2.00 ± 0.58
    """
    a, b = _as_scores(a, "a"), _as_scores(b, "b")
    if a.shape != b.shape:
        raise ValueError(
            "`a` and `b` must hold one score each for the same examples, so "
            f"the same shape; received shapes {a.shape} and {b.shape}."
        )
    return _mean_se(a - b)


def compare_seeds(a, b):
    """Compares two methods by one score per training seed.

    Two tests of "the methods score the same", both two-sided:

    - Welch's t test: ``t = (mean(a) - mean(b)) / se`` with
      ``se = sqrt(var(a) / n_a + var(b) / n_b)``, the Welch-Satterthwaite
      degrees of freedom and the Student-t distribution. Unequal variances
      and sizes are fine; it assumes roughly normal scores.
    - The Mann-Whitney U test, which uses only the order of the scores.
      ``u`` counts the pairs where ``a`` beats ``b`` (ties count one half).
      Without ties and with at most ``MAX_EXACT_SPLITS`` ways to split the
      ranks (3 to 9 seeds per arm), the p-value is exact, by enumerating
      every split; otherwise it is the normal approximation with the tie
      correction of the variance and a continuity correction of 0.5.

    With 3 seeds per arm the smallest possible rank p-value is 0.1: the rank
    test cannot reach 0.05 with so few seeds, however far apart they are.

    Args:
        a: 1-D array-like, one score per seed of method ``a`` (at least 2).
        b: Same for method ``b``; the lengths may differ.

    Returns:
        :class:`SeedComparison` with ``difference`` (``mean(a) - mean(b)``),
        its Welch ``se``, ``t``, ``df``, ``p_welch``, ``u`` (for ``a``),
        ``p_rank``, ``rank_method`` (``"exact"`` or ``"normal"``), ``n_a``
        and ``n_b``. ``str()`` gives a one-line summary.

    Raises:
        ValueError: If ``a`` or ``b`` is not a 1-D array of at least 2 finite
            real numbers, or both have zero spread (the t statistic is then
            undefined).

    Example:

    >>> result = compare_seeds([0.0, 2.0], [4.0, 6.0])
    >>> round(result.t, 4), result.df, round(result.p_welch, 4)
    (-2.8284, 2.0, 0.1056)
    >>> result = compare_seeds([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    >>> result.u, round(result.p_rank, 6), result.rank_method
    (0.0, 0.1, 'exact')
    """
    a, b = _as_scores(a, "a", "seed"), _as_scores(b, "b", "seed")
    difference, se, t, df = _welch(a, b)
    p_welch = _betainc(df / 2.0, 0.5, df / (df + t * t))
    u, p_rank, rank_method = _mann_whitney(a, b)
    return SeedComparison(difference, se, t, df, p_welch, u, p_rank,
                          rank_method, a.size, b.size)


def student_t_cdf(t, df):
    """``P(T <= t)`` for Student's t distribution with ``df`` degrees of freedom.

    Uses ``P(|T| > |t|) = I_x(df / 2, 1 / 2)`` with ``x = df / (df + t^2)``,
    ``I`` the regularised incomplete beta function.

    Args:
        t: Real number (``±inf`` allowed).
        df: Positive finite real number, not necessarily an integer.

    Returns:
        Python float in ``[0, 1]``.

    Raises:
        ValueError: If ``t`` is NaN or not a real number, or ``df`` is not a
            positive finite real number.

    Example:

    >>> student_t_cdf(0.0, 5)
    0.5
    >>> round(student_t_cdf(1.0, 1), 6)  # Cauchy: 0.5 + atan(1) / pi
    0.75
    """
    t = _check_real(t, "t")
    df = _check_real(df, "df")
    if not (math.isfinite(df) and df > 0):
        raise ValueError(f"`df` must be a positive finite number; received {df!r}.")
    if math.isnan(t):
        raise ValueError("`t` must be a number, not NaN.")
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t)) if math.isfinite(t) else 0.0
    return 1.0 - tail if t > 0 else tail


# --- helpers ------------------------------------------------------------------


def _mean_se(values):
    n = values.size
    return Estimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(n)), n)


def _welch(a, b):
    """(mean(a) - mean(b), se, t, Welch-Satterthwaite df)."""
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if var_a + var_b == 0:
        raise ValueError(
            "`a` and `b` both have zero spread (every seed scores the same), "
            f"so Welch's t is undefined; received {a.tolist()} and {b.tolist()}."
        )
    difference = float(a.mean() - b.mean())
    se = math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1))
    return difference, se, difference / se, float(df)


def _mann_whitney(a, b):
    """(U of a, two-sided p-value, "exact" or "normal")."""
    ranks = _midranks(np.concatenate([a, b]))
    u = float(ranks[: a.size].sum() - a.size * (a.size + 1) / 2)
    tied = np.unique(ranks).size < ranks.size
    if not tied and math.comb(a.size + b.size, a.size) <= MAX_EXACT_SPLITS:
        return u, _exact_u_p_value(u, a.size, b.size), "exact"
    return u, _normal_u_p_value(u, a.size, b.size, ranks), "normal"


def _midranks(values):
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size)
    sorted_values = values[order]
    start = 0
    for stop in range(1, values.size + 1):
        if stop == values.size or sorted_values[stop] != sorted_values[start]:
            ranks[order[start:stop]] = (start + 1 + stop) / 2.0
            start = stop
    return ranks


def _exact_u_p_value(u, n_a, n_b):
    """Two-sided p of U by counting all C(n_a + n_b, n_a) equally likely splits."""
    offset = n_a * (n_a - 1) // 2  # 0-based rank sum -> U
    us = np.fromiter((sum(split) - offset
                      for split in itertools.combinations(range(n_a + n_b), n_a)),
                     dtype=np.int64, count=math.comb(n_a + n_b, n_a))
    p_low, p_high = np.mean(us <= u), np.mean(us >= u)
    return min(1.0, 2.0 * float(min(p_low, p_high)))


def _normal_u_p_value(u, n_a, n_b, ranks):
    """Two-sided p of U: normal approximation, tie-corrected, continuity 0.5."""
    n = n_a + n_b
    _, tie_sizes = np.unique(ranks, return_counts=True)
    tie_term = float(np.sum(tie_sizes**3 - tie_sizes))
    sd = math.sqrt(n_a * n_b / 12.0 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (abs(u - n_a * n_b / 2.0) - 0.5) / sd
    return min(1.0, math.erfc(z / math.sqrt(2.0)))  # = 2 * P(Z > z)


def _betainc(a, b, x):
    """Regularised incomplete beta function I_x(a, b) for a, b > 0, 0 <= x <= 1."""
    if x <= 0.0 or x >= 1.0:
        return float(x >= 1.0)
    # x^a (1 - x)^b / B(a, b), in logs against overflow.
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    # The continued fraction converges fast for x below (a + 1) / (a + b + 2);
    # above it, use I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _betacf(a, b, x):
    """Continued fraction of I_x(a, b), by the modified Lentz method."""

    def guard(value):  # keeps Lentz's divisions away from zero
        return value if abs(value) > _CF_TINY else _CF_TINY

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    fraction = d
    for m in range(1, _CF_MAX_ITERATIONS + 1):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        for coefficient in (even, odd):
            d = 1.0 / guard(1.0 + coefficient * d)
            c = guard(1.0 + coefficient / c)
            fraction *= d * c
        if abs(d * c - 1.0) < _CF_TOLERANCE:
            return fraction
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}.")


def _as_scores(values, name, unit="example"):
    """``values`` as a float64 1-D array of at least 2 finite reals, else ValueError."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # e.g. ragged nested lists
        raise ValueError(
            f"`{name}` must be a 1-D array of numbers, one per {unit}; "
            f"received a {type(values).__name__} numpy cannot read ({error})."
        ) from None
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"`{name}` must hold real numbers (int or float), one per {unit}; "
            f"received a {type(values).__name__} of dtype {array.dtype}."
        )
    if array.ndim != 1:
        raise ValueError(
            f"`{name}` must be 1-D, one score per {unit}; received shape {array.shape}."
        )
    if array.size < 2:
        raise ValueError(
            f"`{name}` needs at least 2 scores (one per {unit}) for a standard "
            f"error; received {array.size}."
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(
            f"`{name}` must be finite; received NaN or inf at index "
            f"{bad[:5].tolist()} (value {array[bad[0]]!r})."
        )
    return array.astype(np.float64)


def _check_real(value, name):
    real = isinstance(value, (int, float, np.integer, np.floating))
    if isinstance(value, (bool, np.bool_)) or not real:
        raise ValueError(f"`{name}` must be a real number; received {value!r}.")
    return float(value)


def _check_decimals(decimals):
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or decimals < 0:
        raise ValueError(f"`decimals` must be an int >= 0; received {decimals!r}.")
    return int(decimals)
