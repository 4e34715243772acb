"""Tests for vae_keras.quality against closed forms and brute-force loops."""

import doctest
import math

import numpy as np
import pytest

from vae_keras import quality
from vae_keras.quality import feature_classifier, frechet_distance, precision_recall


def exact_sample(mean, cov, n, seed):
    """n points whose sample mean and covariance (ddof=1) are exactly mean and cov."""
    z = np.random.default_rng(seed).normal(size=(n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # identity covariance
    return z @ np.linalg.cholesky(cov).T + mean


def w2_squared_2d(mean_a, cov_a, mean_b, cov_b):
    """Closed form for 2x2: tr (A B)^{1/2} = sqrt(tr(AB) + 2 sqrt(det A det B))."""
    root_trace = math.sqrt(np.trace(cov_a @ cov_b)
                           + 2.0 * math.sqrt(np.linalg.det(cov_a) * np.linalg.det(cov_b)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
                 - 2.0 * root_trace)


def test_frechet_distance_of_two_gaussians_in_closed_form():
    mean_a, cov_a = np.array([0.0, 1.0]), np.array([[2.0, 0.6], [0.6, 1.0]])
    mean_b, cov_b = np.array([1.5, -0.5]), np.array([[0.5, -0.2], [-0.2, 3.0]])
    a, b = exact_sample(mean_a, cov_a, 50, 0), exact_sample(mean_b, cov_b, 70, 1)
    assert frechet_distance(a, b) == pytest.approx(w2_squared_2d(mean_a, cov_a, mean_b, cov_b),
                                                   rel=1e-9)


def test_frechet_distance_of_diagonal_gaussians_is_means_plus_stds():
    a = exact_sample(np.zeros(3), np.diag([1.0, 4.0, 0.25]), 40, 2)
    b = exact_sample(np.array([1.0, -1.0, 0.0]), np.diag([0.25, 9.0, 0.25]), 40, 3)
    expected = 2.0 + (1.0 - 0.5) ** 2 + (2.0 - 3.0) ** 2 + 0.0
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_zero_for_identical_sets_and_grows_with_a_shift():
    a = np.random.default_rng(0).normal(size=(500, 8))
    assert frechet_distance(a, a) < 1e-8
    shifts = [frechet_distance(a, a + s) for s in (0.0, 0.5, 1.0, 2.0)]
    assert shifts == sorted(shifts)
    assert shifts[-1] == pytest.approx(8 * 4.0, rel=1e-9)  # ||shift||^2, covariances equal


def test_frechet_distance_is_symmetric_and_rotation_invariant():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(200, 4)) * [1, 2, 1, 0.5]
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    value = frechet_distance(a, b)
    assert frechet_distance(b, a) == pytest.approx(value, rel=1e-8)
    assert frechet_distance(a @ rotation, b @ rotation) == pytest.approx(value, rel=1e-8)


def brute_force_precision_recall(real, generated, k):
    def radii(points):
        return [sorted(np.linalg.norm(points - p, axis=1))[k] for p in points]

    def inside(queries, centres, r):
        return np.mean([any(np.linalg.norm(q - c) <= rc for c, rc in zip(centres, r))
                        for q in queries])

    return inside(generated, real, radii(real)), inside(real, generated, radii(generated))


def test_precision_recall_against_brute_force():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(60, 3))
    generated = rng.normal(size=(45, 3)) * 0.6 + [0.8, 0.0, 0.0]
    result = precision_recall(real, generated, k=3, chunk=7)
    expected = brute_force_precision_recall(real, generated, 3)
    assert (result.precision, result.recall) == pytest.approx(expected)
    assert 0.0 < result.recall < result.precision <= 1.0  # narrower samples: precise, not covering


def test_precision_recall_extremes():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(200, 2))
    assert precision_recall(real, real.copy()) == (1.0, 1.0, 3)
    assert precision_recall(real, real + 100.0)[:2] == (0.0, 0.0)
    collapsed = real[:1] + 0.01 * rng.normal(size=(50, 2))  # every sample near one real point
    result = precision_recall(real, collapsed)
    assert result.precision == 1.0 and result.recall < 0.1


@pytest.mark.parametrize("call, message", [
    (lambda: frechet_distance(np.ones(5), np.ones((5, 1))), "2-D"),
    (lambda: frechet_distance(np.ones((1, 2)), np.ones((5, 2))), "n >= 2"),
    (lambda: frechet_distance(np.ones((3, 2)), np.ones((3, 3))), "feature size"),
    (lambda: frechet_distance(np.full((3, 2), np.nan), np.ones((3, 2))), "non-finite"),
    (lambda: frechet_distance("abc", np.ones((3, 2))), "numbers"),
    (lambda: precision_recall(np.ones((3, 2)), np.ones((9, 2)), k=3), "more than k = 3"),
    (lambda: precision_recall(np.ones((9, 2)), np.ones((9, 2)), k=0), "`k`"),
    (lambda: precision_recall(np.ones((9, 2)), np.ones((9, 2)), chunk=True), "`chunk`"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_feature_classifier_shapes_and_arguments():
    classifier, features = feature_classifier((6, 6), num_classes=3, feature_dim=5, seed=1)
    x = np.random.default_rng(0).uniform(size=(4, 6, 6)).astype("float32")
    assert classifier.predict(x, verbose=0).shape == (4, 3)
    assert features.predict(x, verbose=0).shape == (4, 5)
    again, _ = feature_classifier((6, 6), num_classes=3, feature_dim=5, seed=1)
    np.testing.assert_array_equal(again.predict(x, verbose=0), classifier.predict(x, verbose=0))
    for kwargs, message in [({"input_shape": [6, 6]}, "input_shape"), ({"num_classes": 1}, "num_classes"),
                            ({"feature_dim": 0}, "feature_dim"), ({"seed": "0"}, "seed")]:
        with pytest.raises(ValueError, match=message):
            feature_classifier(**kwargs)


def test_module_uses_no_scipy():
    assert "scipy" not in open(quality.__file__).read()


def test_docstring_examples():
    assert doctest.testmod(quality, optionflags=doctest.ELLIPSIS).failed == 0
