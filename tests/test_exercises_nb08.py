"""Tests of the answer checks of notebook 08 (``vae_keras.exercises.nb08``).

For every check: ``None`` returns False without raising; the right answer,
computed here by its own (vectorised) code, passes; each typical mistake,
computed here by its own buggy code, fails; the right value in the wrong shape
fails; a crash or a non-numeric answer fails without raising.
"""

import doctest
import math

import numpy as np
import pytest

from vae_keras.exercises import nb08

# ------------------------------------------------------------ right answers


def _average_ranks(values):
    """Ranks 1..n with ties sharing the average of the ranks they occupy."""
    values = np.asarray(values, "float64")
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def right_auroc(scores, is_anomaly):
    is_anomaly = np.asarray(is_anomaly, bool)
    ranks = _average_ranks(scores)
    n1, n0 = is_anomaly.sum(), (~is_anomaly).sum()
    return float((ranks[is_anomaly].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def right_missing_log_likelihood(x, probs, missing):
    terms = x * np.log(probs) + (1 - x) * np.log(1 - probs)
    return np.sum(np.where(missing, terms, 0.0), axis=1)


def _background_log_p(image):
    mu = nb08.BACKGROUND_MEANS
    return float(np.sum(image * np.log(mu) + (1 - image) * np.log(1 - mu)))


RIGHT_LIKELIHOOD_RATIO = nb08.LR_LOG_P_MODEL - _background_log_p(nb08.LR_IMAGE)
RIGHT_STANDARD_ERROR = math.sqrt(nb08.ACCURACY * (1 - nb08.ACCURACY) / nb08.N_TEST)

# ------------------------------------------------------------ typical mistakes


def _ordinal_ranks(values):
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(1, len(values) + 1)
    return ranks


def _auroc_with(ranks_fn):
    def auroc(scores, is_anomaly):
        ranks, n1 = ranks_fn(scores), is_anomaly.sum()
        return (ranks[is_anomaly].sum() - n1 * (n1 + 1) / 2) / (n1 * (~is_anomaly).sum())
    return auroc


def _raises(*args):
    raise ValueError("student bug")


AUROC_MISTAKES = {
    "reversed_orientation": lambda s, a: 1.0 - right_auroc(s, a),
    "ordinal_ranks_stable": _auroc_with(_ordinal_ranks),
    "ordinal_ranks_ties_reversed": _auroc_with(lambda s: _ordinal_ranks(np.asarray(s)[::-1])[::-1]),
    "ties_count_zero": lambda s, a: np.mean([x > y for x in s[a] for y in s[~a]]),
    "ties_count_one": lambda s, a: np.mean([x >= y for x in s[a] for y in s[~a]]),
    "labels_swapped": lambda s, a: right_auroc(s, ~a),
    "divided_by_n_squared": lambda s, a: (_average_ranks(s)[a].sum() - a.sum() * (a.sum() + 1) / 2)
    / len(s) ** 2,
    "forgot_rank_offset": lambda s, a: _average_ranks(s)[a].sum() / (a.sum() * (~a).sum()),
    "returns_array": lambda s, a: np.array([right_auroc(s, a)]),
    "returns_none": lambda s, a: None,
    "raises": _raises,
    "returns_text": lambda s, a: "0.8",
}

MISSING_MISTAKES = {
    "all_pixels": lambda x, p, m: right_missing_log_likelihood(x, p, np.ones_like(m)),
    "observed_pixels": lambda x, p, m: right_missing_log_likelihood(x, p, ~m),
    "negative_log_likelihood": lambda x, p, m: -right_missing_log_likelihood(x, p, m),
    "bits": lambda x, p, m: right_missing_log_likelihood(x, p, m) / math.log(2),
    "mean_over_hidden_pixels": lambda x, p, m: (right_missing_log_likelihood(x, p, m)
                                                / m.sum(axis=1)),
    "forgot_off_pixels": lambda x, p, m: np.sum(np.where(m, x * np.log(p), 0.0), axis=1),
    "mean_over_images": lambda x, p, m: float(right_missing_log_likelihood(x, p, m).mean()),
    "column_vector": lambda x, p, m: right_missing_log_likelihood(x, p, m)[:, None],
    "probability_not_log": lambda x, p, m: np.prod(np.where(m, np.where(x == 1, p, 1 - p), 1.0),
                                                   axis=1),
    "returns_none": lambda x, p, m: None,
    "raises": _raises,
}

LIKELIHOOD_RATIO_MISTAKES = {
    "reversed": -RIGHT_LIKELIHOOD_RATIO,
    "forgot_off_pixels": (nb08.LR_LOG_P_MODEL
                          - float(np.sum(nb08.LR_IMAGE * np.log(nb08.BACKGROUND_MEANS)))),
    "background_in_bits": nb08.LR_LOG_P_MODEL - _background_log_p(nb08.LR_IMAGE) / math.log(2),
    "blank_image_background": nb08.LR_LOG_P_MODEL - _background_log_p(np.zeros_like(nb08.LR_IMAGE)),
    "ratio_not_log": math.exp(RIGHT_LIKELIHOOD_RATIO),
    "model_only": nb08.LR_LOG_P_MODEL,
    "background_only": _background_log_p(nb08.LR_IMAGE),
    "text": "3.2",
}

STANDARD_ERROR_MISTAKES = {
    "variance": nb08.ACCURACY * (1 - nb08.ACCURACY) / nb08.N_TEST,
    "no_sqrt_n": math.sqrt(nb08.ACCURACY * (1 - nb08.ACCURACY)),
    "wrong_variance": math.sqrt(nb08.ACCURACY / nb08.N_TEST),
    "percent": 100 * RIGHT_STANDARD_ERROR,
    "error_rate_not_se": 1 - nb08.ACCURACY,
    "text": "0.0086",
}

def right_fill(x, missing, probs, uniforms):
    return np.where(missing, (uniforms < probs).astype("float64"), x)


FILL_MISTAKES = {
    "overwrote_observed": lambda x, m, p, u: (u < p).astype("float64"),
    "wrong_inequality": lambda x, m, p, u: np.where(m, (u > p).astype("float64"), x),
    "mask_inverted": lambda x, m, p, u: np.where(~m, (u < p).astype("float64"), x),
    "probabilities_not_samples": lambda x, m, p, u: np.where(m, p, x),
    "rounded_probabilities": lambda x, m, p, u: np.where(m, (p > 0.5).astype("float64"), x),
    "zeros_in_hidden": lambda x, m, p, u: np.where(m, 0.0, x),
    "flattened": lambda x, m, p, u: right_fill(x, m, p, u).reshape(-1),
    "returns_none": lambda x, m, p, u: None,
    "raises": _raises,
}

CHECKS = {
    "check_auroc": (lambda: right_auroc, AUROC_MISTAKES,
                    lambda: (lambda s, a: [right_auroc(s, a)])),
    "check_missing_log_likelihood": (lambda: right_missing_log_likelihood, MISSING_MISTAKES,
                                     lambda: (lambda x, p, m:
                                              right_missing_log_likelihood(x, p, m)[None])),
    "check_likelihood_ratio": (lambda: RIGHT_LIKELIHOOD_RATIO, LIKELIHOOD_RATIO_MISTAKES,
                               lambda: [RIGHT_LIKELIHOOD_RATIO]),
    "check_accuracy_standard_error": (lambda: RIGHT_STANDARD_ERROR, STANDARD_ERROR_MISTAKES,
                                      lambda: np.array([RIGHT_STANDARD_ERROR] * 2)),
    "check_fill_missing": (lambda: right_fill, FILL_MISTAKES,
                           lambda: (lambda x, m, p, u: right_fill(x, m, p, u)[:, :, None])),
}

MISTAKE_CASES = [(name, mistake) for name, (_, mistakes, _) in CHECKS.items()
                 for mistake in mistakes]


def test_every_public_check_is_tested():
    public = {name for name in dir(nb08) if name.startswith("check_")}
    assert public == set(CHECKS)
    assert len(public) >= 3


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_none_is_not_answered(name, capsys):
    assert getattr(nb08, name)(None) is False
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_right_answer_passes(name, capsys):
    right, _, _ = CHECKS[name]
    assert getattr(nb08, name)(right()) is True
    assert capsys.readouterr().out.strip().endswith("correct.")


@pytest.mark.parametrize("name, mistake", MISTAKE_CASES)
def test_typical_mistake_fails(name, mistake, capsys):
    _, mistakes, _ = CHECKS[name]
    assert getattr(nb08, name)(mistakes[mistake]) is False
    assert "not yet" in capsys.readouterr().out


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_right_value_in_wrong_shape_fails(name, capsys):
    _, _, wrong_shape = CHECKS[name]
    assert getattr(nb08, name)(wrong_shape()) is False
    assert "shape" in capsys.readouterr().out


def test_typical_mistakes_differ_from_the_right_answers():
    """The inputs are chosen so that each wrong formula gives a different value."""
    s, a = nb08.AUROC_SCORES, nb08.AUROC_IS_ANOMALY
    right = right_auroc(s, a)
    for mistake in ("reversed_orientation", "ordinal_ranks_stable", "ties_count_zero",
                    "ties_count_one", "labels_swapped", "divided_by_n_squared",
                    "forgot_rank_offset"):
        assert abs(float(AUROC_MISTAKES[mistake](s, a)) - right) > 1e-3, mistake
    # An odd number of tied anomalous-normal pairs: no tie-breaking order gives the right value.
    tied_pairs = sum(x == y for x in s[a] for y in s[~a])
    assert tied_pairs % 2 == 1
    x, p, m = nb08.IMPUTE_X, nb08.IMPUTE_PROBS, nb08.IMPUTE_MISSING
    right_ll = right_missing_log_likelihood(x, p, m)
    for mistake in ("all_pixels", "observed_pixels", "negative_log_likelihood", "bits",
                    "mean_over_hidden_pixels", "forgot_off_pixels", "probability_not_log"):
        assert np.all(np.abs(MISSING_MISTAKES[mistake](x, p, m) - right_ll) > 1e-3), mistake
    args = (nb08.FILL_X, nb08.FILL_MISSING, nb08.FILL_PROBS, nb08.FILL_UNIFORMS)
    for mistake in ("overwrote_observed", "wrong_inequality", "mask_inverted",
                    "probabilities_not_samples", "rounded_probabilities", "zeros_in_hidden"):
        assert not np.allclose(FILL_MISTAKES[mistake](*args), right_fill(*args)), mistake
    for mistakes, right_value in ((LIKELIHOOD_RATIO_MISTAKES, RIGHT_LIKELIHOOD_RATIO),
                                  (STANDARD_ERROR_MISTAKES, RIGHT_STANDARD_ERROR)):
        for mistake, value in mistakes.items():
            if not isinstance(value, str):
                assert abs(value - right_value) > 1e-3 * abs(right_value), mistake


def test_auroc_check_does_not_depend_on_mutating_inputs(capsys):
    def mutating(scores, is_anomaly):
        value = right_auroc(scores, is_anomaly)
        scores[:] = 0.0
        return value

    assert nb08.check_auroc(mutating) is True
    assert nb08.check_auroc(right_auroc) is True  # the module's arrays are unchanged


def test_known_mistakes_get_their_hints(capsys):
    nb08.check_auroc(AUROC_MISTAKES["reversed_orientation"])
    assert "reversed score" in capsys.readouterr().out
    nb08.check_missing_log_likelihood(MISSING_MISTAKES["observed_pixels"])
    assert "observed" in capsys.readouterr().out
    nb08.check_likelihood_ratio(LIKELIHOOD_RATIO_MISTAKES["forgot_off_pixels"])
    assert "off" in capsys.readouterr().out
    nb08.check_accuracy_standard_error(STANDARD_ERROR_MISTAKES["variance"])
    assert "square root" in capsys.readouterr().out


def test_docstring_examples():
    failures, attempted = doctest.testmod(nb08, verbose=False)
    assert attempted > 0 and failures == 0
