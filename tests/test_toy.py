"""Checks vae_keras.toy against independent references (quadrature, Monte Carlo)."""

import numpy as np
import pytest

from vae_keras.models import kl_divergence, reconstruction_loss
from vae_keras.toy import (
    LinearGaussian,
    covariance_from_log_var,
    gaussian_log_density,
    kl_gaussians,
)

GRID = np.linspace(-12.0, 12.0, 48001)  # quadrature grid over a 1-D z
STEP = GRID[1] - GRID[0]


def _normal_pdf(value, mean, std):
    return np.exp(-0.5 * ((value - mean) / std) ** 2) / (np.sqrt(2 * np.pi) * std)


def _one_dim_model(noise_std=0.7):
    weights = np.array([[1.5], [-0.5], [2.0]])
    return LinearGaussian(weights, np.array([0.3, -1.0, 0.5]), noise_std=noise_std)


def _joint_on_grid(model, x_row):
    """p(x, z) on GRID for one x, written out with scalar normal densities."""
    w, b, s = model.weights[:, 0], model.bias, model.noise_std
    likelihood = np.prod(_normal_pdf(x_row[None, :], GRID[:, None] * w + b, s), axis=1)
    return likelihood * _normal_pdf(GRID, 0.0, 1.0)


def _correlated_model():
    weights = np.array([[1.0, 0.8], [0.5, 1.2], [-0.3, 0.9], [1.1, 1.0]])
    return LinearGaussian(weights, np.array([0.1, 0.0, -0.2, 0.4]), noise_std=1.0)


def test_log_marginal_matches_quadrature():
    model = _one_dim_model()
    x, _ = model.sample(5, seed=1)
    expected = [np.log(np.sum(_joint_on_grid(model, row)) * STEP) for row in x]
    np.testing.assert_allclose(model.log_marginal(x), expected, atol=1e-8)


def test_posterior_matches_bayes_by_quadrature():
    model = _one_dim_model()
    x, _ = model.sample(4, seed=2)
    mean, cov = model.posterior(x)
    for row, m in zip(x, mean):
        joint = _joint_on_grid(model, row)
        density = joint / (np.sum(joint) * STEP)
        post_mean = np.sum(GRID * density) * STEP
        post_var = np.sum((GRID - post_mean) ** 2 * density) * STEP
        np.testing.assert_allclose(m[0], post_mean, atol=1e-8)
        np.testing.assert_allclose(cov[0, 0], post_var, atol=1e-8)


def test_log_joint_is_sum_of_scalar_densities():
    model = _one_dim_model()
    x, z = model.sample(3, seed=3)
    w, b, s = model.weights[:, 0], model.bias, model.noise_std
    expected = (np.sum(np.log(_normal_pdf(x, z * w + b, s)), axis=1)
                + np.log(_normal_pdf(z[:, 0], 0.0, 1.0)))
    np.testing.assert_allclose(model.log_joint(x, z), expected, rtol=1e-12)


def test_bayes_rule_holds_pointwise():
    model = _correlated_model()
    x, _ = model.sample(3, seed=4)
    z = np.random.default_rng(5).standard_normal((7, 3, 2))
    mean, cov = model.posterior(x)
    lhs = model.log_joint(x, z) - gaussian_log_density(z, mean, cov)
    np.testing.assert_allclose(lhs, np.broadcast_to(model.log_marginal(x), (7, 3)), atol=1e-10)


def test_sample_is_seeded_and_has_the_marginal_covariance():
    model = _correlated_model()
    x_a, z_a = model.sample(20000, seed=6)
    x_b, z_b = model.sample(20000, seed=6)
    np.testing.assert_array_equal(x_a, x_b)
    np.testing.assert_array_equal(z_a, z_b)
    np.testing.assert_allclose(np.cov(x_a.T), model.marginal_covariance(), atol=0.1)
    np.testing.assert_allclose(x_a.mean(axis=0), model.bias, atol=0.05)


def test_elbo_closed_form_matches_monte_carlo():
    model = _correlated_model()
    x, _ = model.sample(2, seed=7)
    q_mean = np.array([[0.2, -0.1], [1.0, 0.5]])
    q_log_var = np.array([[-1.0, -0.5], [0.2, -2.0]])
    q_cov = covariance_from_log_var(q_log_var)
    rng = np.random.default_rng(8)
    z = q_mean + np.exp(0.5 * q_log_var) * rng.standard_normal((200000, 2, 2))
    log_ratio = model.log_joint(x, z) - gaussian_log_density(z, q_mean, q_cov)
    standard_error = log_ratio.std(axis=0) / np.sqrt(len(z))
    closed = model.elbo(x, q_mean, q_cov)
    assert np.all(np.abs(log_ratio.mean(axis=0) - closed) < 4 * standard_error)


def test_gap_equals_kl_to_posterior_and_vanishes_at_posterior():
    model = _correlated_model()
    x, _ = model.sample(3, seed=9)
    q_mean = np.zeros((3, 2))
    q_cov = np.array([[0.5, 0.1], [0.1, 0.3]])
    gap = model.log_marginal(x) - model.elbo(x, q_mean, q_cov)
    np.testing.assert_allclose(gap, model.kl_to_posterior(x, q_mean, q_cov), atol=1e-10)
    assert np.all(gap > 0)
    mean, cov = model.posterior(x)
    np.testing.assert_allclose(model.elbo(x, mean, cov), model.log_marginal(x), atol=1e-10)


def test_expected_log_likelihood_matches_package_reconstruction_loss():
    model = _correlated_model()  # noise_std=1: the package's gaussian likelihood
    x, _ = model.sample(2, seed=10)
    q_mean = np.array([[0.3, 0.1], [-0.4, 0.8]])
    q_log_var = np.array([[-0.7, -1.2], [-0.3, -0.9]])
    z = q_mean + np.exp(0.5 * q_log_var) * np.random.default_rng(11).standard_normal((100000, 2, 2))
    x_decoded = model.decode(z).reshape(-1, 4)
    nll = np.asarray(reconstruction_loss(np.tile(x, (100000, 1)), x_decoded, "gaussian"))
    expected = -model.expected_log_likelihood(x, q_mean, covariance_from_log_var(q_log_var))
    np.testing.assert_allclose(nll.reshape(100000, 2).mean(axis=0), expected, rtol=2e-3)


def test_kl_gaussians_against_one_dim_formula_and_package():
    m_q, v_q, m_p, v_p = 0.3, 0.4, -0.2, 1.7
    one_dim = np.log(np.sqrt(v_p / v_q)) + (v_q + (m_q - m_p) ** 2) / (2 * v_p) - 0.5
    value = kl_gaussians(np.array([m_q]), np.array([[v_q]]), np.array([m_p]), np.array([[v_p]]))
    np.testing.assert_allclose(value, one_dim, rtol=1e-12)
    z_mean = np.array([[0.5, -1.0, 0.2]])
    z_log_var = np.array([[-0.3, 0.4, -2.0]])
    ours = kl_gaussians(z_mean, covariance_from_log_var(z_log_var), np.zeros(3), np.eye(3))
    np.testing.assert_allclose(ours, np.asarray(kl_divergence(z_mean, z_log_var)), rtol=1e-5)


def test_gaussian_log_density_batched_covariance_matches_shared():
    mean = np.array([[0.1, 0.2], [-0.3, 0.4]])
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    z = np.random.default_rng(12).standard_normal((5, 2, 2))
    shared = gaussian_log_density(z, mean, cov)
    batched = gaussian_log_density(z, mean, np.stack([cov, cov]))
    np.testing.assert_allclose(shared, batched, rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"weights": np.ones(3)}, "weights"),
        ({"weights": np.ones((3, 1)), "bias": np.ones(2)}, "bias"),
        ({"weights": np.ones((3, 1)), "noise_std": 0.0}, "noise_std"),
        ({"weights": np.ones((3, 1)), "noise_std": float("nan")}, "noise_std"),
        ({"weights": np.array([[np.inf]])}, "weights"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearGaussian(**kwargs)


def test_methods_reject_bad_shapes():
    model = _correlated_model()
    with pytest.raises(ValueError, match="x"):
        model.log_marginal(np.zeros(4))
    with pytest.raises(ValueError, match="x"):
        model.log_marginal(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="q_cov"):
        model.elbo(np.zeros((1, 4)), np.zeros((1, 2)), np.array([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match="q_mean"):
        model.elbo(np.zeros((1, 4)), np.zeros((2, 2)), np.eye(2))
    with pytest.raises(ValueError, match="n"):
        model.sample(0)
