"""Tests for vae_keras.disentanglement: entropies, MI, MIG and the shapes data."""

import math

import numpy as np
import pytest

from vae_keras.disentanglement import (
    ELLIPSE_ASPECT,
    _signed_distance,
    bin_factors,
    count_shared_images,
    find_shared_images,
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
    return bin_factors(factors, num_bins=8)


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
    images, factors, names = make_shapes_dataset(300, image_size=16, seed=5)
    assert images.shape == (300, 16, 16, 1) and images.dtype == np.float32
    assert factors.shape == (300, 4) and factors.dtype == np.float64
    assert names == ("shape", "scale", "x_position", "y_position")
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert np.all(images.reshape(300, -1).max(axis=1) == 1.0)  # every image shows a shape
    assert set(np.unique(factors[:, 0])) == {0.0, 1.0, 2.0}
    assert np.all((factors[:, 1:] >= 0) & (factors[:, 1:] < 1))
    assert len(np.unique(factors[:, 1])) == 300  # continuous, not a grid
    # Anti-aliased: edge pixels are grey; no shape touches the border.
    assert np.any((images > 0.05) & (images < 0.95))
    assert np.all(images[:, 0] == 0) and np.all(images[:, -1] == 0)
    assert np.all(images[:, :, 0] == 0) and np.all(images[:, :, -1] == 0)


def test_shapes_dataset_ink_matches_the_analytic_area():
    """The grey levels add up to the shape's area (pixel coverage), up to corner effects."""
    size = 32
    images, factors, _ = make_shapes_dataset(600, image_size=size, seed=3,
                                             scale_range=(0.1, 0.3))
    half = (0.1 + 0.2 * factors[:, 1]) * size
    ink = images.reshape(len(images), -1).sum(axis=1)
    areas = {0: (2 * half) ** 2,                          # square of side 2h
             1: np.pi * half * (ELLIPSE_ASPECT * half),    # ellipse, half-axes h and 0.65h
             2: 0.5 * (2 * half) * (2 * half)}             # triangle, base 2h, height 2h
    for shape, area in areas.items():
        rows = factors[:, 0] == shape
        relative_error = np.abs(ink[rows] - area[rows]) / area[rows]
        assert np.median(relative_error) < 0.03, shape
        assert np.max(relative_error) < 0.12, shape


def test_shapes_dataset_factors_control_the_image():
    images, factors, _ = make_shapes_dataset(3000, seed=0)
    ink = images.reshape(len(images), -1).sum(axis=1)
    binned = bin_factors(factors, num_bins=4)
    # Larger scales cover more pixels for every shape.
    for shape in range(3):
        means = [ink[(binned[:, 0] == shape) & (binned[:, 1] == s)].mean() for s in range(4)]
        assert np.all(np.diff(means) > 0)
    # The centre of mass follows x_position (columns) and y_position (rows) linearly.
    grid = np.arange(20) + 0.5
    centre_x = (images[..., 0].sum(axis=1) * grid).sum(axis=1) / ink
    centre_y = (images[..., 0].sum(axis=2) * grid).sum(axis=1) / ink
    assert np.corrcoef(centre_x, factors[:, 2])[0, 1] > 0.95
    squares = factors[:, 0] == 0  # symmetric in y (the triangle's centroid is lower)
    assert np.corrcoef(centre_y[squares], factors[squares, 3])[0, 1] > 0.95


def test_shapes_dataset_sub_pixel_moves_change_the_image():
    # Render a square with the dataset's own rule at two centres a tenth of a pixel apart.
    pixels = np.arange(16) + 0.5
    renders = []
    for centre in (7.0, 7.1):
        d = _signed_distance(0, pixels[None, :] - centre, pixels[:, None] - 8.0, 3.0)
        renders.append(np.clip(0.5 - d, 0, 1))
    assert not np.array_equal(renders[0], renders[1])
    # Row 8 crosses the square: full pixels inside, the left and right edge
    # pixels cover 0.5 -/+ 0.1 of a pixel after the move (coverage along an edge).
    np.testing.assert_allclose(renders[1][8, 4:11] - renders[0][8, 4:11],
                               [-0.1, 0, 0, 0, 0, 0, 0.1], atol=1e-12)


def test_held_out_shapes_are_distinct_from_training_shapes():
    train, _, _ = make_shapes_dataset(5000, seed=1)
    test, _, _ = make_shapes_dataset(1000, seed=2)
    assert count_shared_images(test, train) == 0
    assert count_shared_images(train[:10], train) == 10
    mixed = np.concatenate([test[:3], train[:2], test[3:4]])
    assert count_shared_images(mixed, train) == 2
    np.testing.assert_array_equal(find_shared_images(mixed, train),
                                  [False, False, False, True, True, False])
    with pytest.raises(ValueError, match="same shape"):
        find_shared_images(test, train[:, :10])


def test_bin_factors_equal_width_bins():
    factors = np.array([[0.0, 0.0, 0.099, 0.999], [2.0, 0.1, 0.5, 0.95]])
    np.testing.assert_array_equal(bin_factors(factors, num_bins=10),
                                  [[0, 0, 0, 9], [2, 1, 5, 9]])
    _, factors, _ = make_shapes_dataset(5000, seed=4)
    binned = bin_factors(factors, num_bins=10)
    for k in range(1, 4):  # uniform factors: entropy close to log 10
        assert discrete_entropy(binned[:, k]) == pytest.approx(math.log(10), abs=0.01)
    assert discrete_entropy(binned[:, 0]) == pytest.approx(math.log(3), abs=0.01)
    with pytest.raises(ValueError, match="shape"):
        bin_factors(np.array([[0.5, 0.1, 0.1, 0.1]]))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        bin_factors(np.array([[0.0, 1.0, 0.1, 0.1]]))
    with pytest.raises(ValueError, match="num_bins"):
        bin_factors(factors, num_bins=1)


def test_shapes_dataset_is_reproducible():
    a = make_shapes_dataset(50, seed=7)
    b = make_shapes_dataset(50, seed=7)
    c = make_shapes_dataset(50, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("kwargs", [
    {"n": 0}, {"n": 2.5}, {"n": True}, {"n": 10, "image_size": 8},
    {"n": 10, "seed": 1.5}, {"n": 10, "scale_range": (0.3, 0.2)},
    {"n": 10, "scale_range": (0.0, 0.2)}, {"n": 10, "scale_range": 0.2},
])
def test_shapes_dataset_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        make_shapes_dataset(**kwargs)


def test_perfect_code_on_a_full_factorial_grid_scores_exactly_one():
    """Every combination once: the factors are exactly independent, so MI between
    different factors is 0 and the gap of a code equal to the factors is H / H = 1."""
    grid = np.indices((3, 5, 5, 5)).reshape(4, -1).T
    mig, gaps = mutual_information_gap(grid.astype(float), grid, return_per_factor=True)
    np.testing.assert_allclose(gaps, 1.0, rtol=1e-12)
    assert mig == pytest.approx(1.0, rel=1e-12)


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
