"""Tests for vae_keras.disentanglement: entropies, MI, MIG and the shapes data."""

import math

import numpy as np
import pytest

from vae_keras.disentanglement import (
    discrete_entropy,
    discrete_mutual_information,
    discretize,
    make_shapes_dataset,
    mutual_information_gap,
    mutual_information_matrix,
)


def _labels_from_joint(counts):
    """Label pairs (a, b) whose contingency table is ``counts``."""
    a, b = [], []
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return np.array(a), np.array(b)


def test_entropy_matches_closed_form():
    assert discrete_entropy(np.array([3, 3, 3])) == 0.0
    assert discrete_entropy(np.arange(8)) == pytest.approx(math.log(8))
    # p = (1/2, 1/4, 1/4): H = 1.5 log 2.
    assert discrete_entropy(np.array([0, 0, 1, 2])) == pytest.approx(1.5 * math.log(2))


def test_mutual_information_matches_hand_computed_table():
    # Joint p(a, b) = [[3/8, 1/8], [1/8, 3/8]]; marginals are uniform, so
    # I = sum p log(p / (1/4)) = 2 * 3/8 log(3/2) + 2 * 1/8 log(1/2).
    a, b = _labels_from_joint([[3, 1], [1, 3]])
    expected = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    assert discrete_mutual_information(a, b) == pytest.approx(expected)
    assert discrete_mutual_information(b, a) == pytest.approx(expected)
    # I(a; a) = H(a); independent labels give 0; label values do not matter.
    assert discrete_mutual_information(a, a) == pytest.approx(discrete_entropy(a))
    assert discrete_mutual_information(a, 10 * a + 7) == pytest.approx(discrete_entropy(a))
    c, d = _labels_from_joint([[2, 2], [3, 3]])
    assert discrete_mutual_information(c, d) == pytest.approx(0.0, abs=1e-12)


def test_mutual_information_equals_entropy_identity():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 500)
    b = (a + rng.integers(0, 2, 500)) % 4
    pairs = a * 4 + b  # H(a, b) as the entropy of the pair
    identity = discrete_entropy(a) + discrete_entropy(b) - discrete_entropy(pairs)
    assert discrete_mutual_information(a, b) == pytest.approx(identity)


def test_discretize_equal_width_and_constant_column():
    codes = np.array([[0.0, 5.0], [0.49, 5.0], [0.5, 5.0], [1.0, 5.0]])
    binned = discretize(codes, num_bins=2)
    np.testing.assert_array_equal(binned[:, 0], [0, 0, 1, 1])
    np.testing.assert_array_equal(binned[:, 1], [0, 0, 0, 0])


def _factors(n=4000, seed=0):
    _, factors, _ = make_shapes_dataset(n, seed=seed)
    return factors


def test_perfect_code_scores_near_one():
    factors = _factors()
    rng = np.random.default_rng(1)
    codes = factors + rng.normal(0.0, 0.01, factors.shape)
    mig, gaps = mutual_information_gap(codes, factors, return_per_factor=True)
    assert mig > 0.95
    assert gaps.shape == (4,) and np.all(gaps > 0.95)
    # Extra noise dimensions and a permutation of the code do not matter.
    noisy = np.concatenate([codes[:, ::-1], rng.normal(size=(len(codes), 3))], axis=1)
    assert mutual_information_gap(noisy, factors) == pytest.approx(mig, abs=0.01)


def test_constant_code_scores_zero():
    factors = _factors(1000)
    assert mutual_information_gap(np.zeros((1000, 5)), factors) == 0.0
    assert np.all(mutual_information_matrix(np.ones((1000, 3)), factors) == 0.0)


def test_duplicated_factor_has_no_gap():
    factors = _factors()
    rng = np.random.default_rng(2)
    codes = factors + rng.normal(0.0, 0.01, factors.shape)
    codes = np.concatenate([codes, codes[:, :1] + rng.normal(0.0, 0.01, (len(codes), 1))], axis=1)
    mig, gaps = mutual_information_gap(codes, factors, return_per_factor=True)
    assert gaps[0] == pytest.approx(0.0, abs=0.02)
    assert np.all(gaps[1:] > 0.95)
    assert mig == pytest.approx(np.mean(gaps))


def test_mig_matches_a_hand_computed_example():
    """Two codes for one balanced binary factor, MI worked out by hand in nats."""
    factor = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    exact_code = factor.astype(float)                      # MI = H = log 2
    noisy_code = np.array([0, 0, 0, 1, 1, 1, 1, 1], float)  # joint 3/8, 1/8, 0, 4/8
    mi_noisy = (3 / 8 * math.log(2) + 1 / 8 * math.log(2 / 5) + 4 / 8 * math.log(8 / 5))
    codes = np.stack([noisy_code, exact_code], axis=1)
    info = mutual_information_matrix(codes, factor[:, None], num_bins=2)
    np.testing.assert_allclose(info[:, 0], [mi_noisy, math.log(2)], rtol=1e-12)
    expected_mig = (math.log(2) - mi_noisy) / math.log(2)  # about 0.453
    assert mutual_information_gap(codes, factor[:, None], num_bins=2) == pytest.approx(
        expected_mig, rel=1e-12)


def test_shapes_dataset_shapes_range_and_factors():
    images, factors, names = make_shapes_dataset(300, image_size=28, seed=5)
    assert images.shape == (300, 28, 28, 1) and images.dtype == np.float32
    assert factors.shape == (300, 4) and np.issubdtype(factors.dtype, np.integer)
    assert names == ("shape", "scale", "x_position", "y_position")
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert np.all(images.reshape(300, -1).max(axis=1) == 1.0)  # every image shows a shape
    assert factors.min(axis=0).tolist() == [0, 0, 0, 0]
    assert factors.max(axis=0).tolist() == [2, 3, 7, 7]
    # No shape touches the border.
    assert np.all(images[:, 0] == 0) and np.all(images[:, :, -1] == 0)


def test_shapes_dataset_factors_control_the_image():
    images, factors, _ = make_shapes_dataset(2000, seed=0)
    ink = images.reshape(len(images), -1).sum(axis=1)
    # Larger scales cover more pixels for every shape.
    for shape in range(3):
        means = [ink[(factors[:, 0] == shape) & (factors[:, 1] == s)].mean() for s in range(4)]
        assert np.all(np.diff(means) > 0)
    # The centre of mass moves right with x_position.
    cols = np.arange(28)
    centre_x = (images[..., 0].sum(axis=1) * cols).sum(axis=1) / ink
    means = [centre_x[factors[:, 2] == p].mean() for p in range(8)]
    assert np.all(np.diff(means) > 0)
    # Identical factors give identical images.
    same = np.all(factors == factors[0], axis=1)
    assert np.all(images[same] == images[0])


def test_shapes_dataset_is_reproducible():
    a = make_shapes_dataset(50, seed=7)
    b = make_shapes_dataset(50, seed=7)
    c = make_shapes_dataset(50, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("kwargs", [
    {"n": 0}, {"n": 2.5}, {"n": True}, {"n": 10, "image_size": 8},
    {"n": 10, "num_scales": 0}, {"n": 10, "num_positions": -1}, {"n": 10, "seed": 1.5},
])
def test_shapes_dataset_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_shapes_dataset(**kwargs)


def test_bad_arguments_raise():
    factors = np.zeros((10, 2), dtype="int64")
    factors[5:] = 1
    codes = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="codes"):
        mutual_information_gap(codes[:, 0], factors)
    with pytest.raises(ValueError, match="at least 2"):
        mutual_information_gap(codes[:, :1], factors)
    with pytest.raises(ValueError, match="factors"):
        mutual_information_gap(codes, factors[:5])
    with pytest.raises(ValueError, match="factors"):
        mutual_information_gap(codes, factors.astype("float32"))
    with pytest.raises(ValueError, match="two values"):
        mutual_information_gap(codes, np.zeros((10, 1), dtype="int64"))
    with pytest.raises(ValueError, match="num_bins"):
        mutual_information_gap(codes, factors, num_bins=1)
    with pytest.raises(ValueError, match="finite"):
        mutual_information_gap(np.full((10, 3), np.nan), factors)
    with pytest.raises(ValueError, match="discrete"):
        discrete_mutual_information(np.array([0.5, 1.5]), np.array([0, 1]))
    with pytest.raises(ValueError, match="same length"):
        discrete_mutual_information(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="labels"):
        discrete_entropy(np.array([]))
