"""A CVAE with a learned prior p(z | c): closed-form KL, exact likelihoods, sampling, saving.

The reference is a linear-Gaussian CVAE with numpy answers:
p(z | c) = N(U c + u, diag(s2)), p(x | z, c) = N(W z + V c + b, I), so
log p(x | c) = log N(x; W (U c + u) + V c + b, W diag(s2) W^T + I).
"""

import math

import keras
import numpy as np
import pytest

import vae_keras
from vae_keras import architectures
from vae_keras.models import _gaussian_kl_per_dimension, _kl_per_dimension

LOG_TWO_PI = math.log(2.0 * math.pi)
D, L, C = 5, 2, 3


def log_normal(x, mean, cov):
    chol = np.linalg.cholesky(cov)
    solved = np.linalg.solve(chol, (x - mean).T)
    return -0.5 * np.sum(solved**2, 0) - np.log(np.diag(chol)).sum() - 0.5 * x.shape[1] * LOG_TWO_PI


def fixed_dense(units, kernel, bias):
    layer = keras.layers.Dense(units)
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return layer


class Reference:
    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.normal(size=(D, L)))
        self.W = basis * np.array([1.5, 0.8])  # orthogonal columns: the posterior is diagonal
        self.V, self.b = rng.normal(size=(D, C)), rng.normal(size=D)
        self.U, self.u = rng.normal(size=(L, C)), rng.normal(size=L)
        self.log_s2 = np.array([-0.7, 0.4])

    def prior_mean(self, c):
        return c @ self.U.T + self.u

    def sample(self, n, rng):
        c = rng.normal(size=(n, C))
        z = self.prior_mean(c) + np.exp(0.5 * self.log_s2) * rng.normal(size=(n, L))
        return (z @ self.W.T + c @ self.V.T + self.b + rng.normal(size=(n, D))).astype("float32"), \
            c.astype("float32")

    def log_px(self, x, c):
        cov = self.W @ np.diag(np.exp(self.log_s2)) @ self.W.T + np.eye(D)
        return log_normal(x - self.prior_mean(c) @ self.W.T - c @ self.V.T - self.b, np.zeros(D), cov)

    def posterior(self):
        """p(z | x, c) = N(A [x, c] + a, diag(v)): precision 1/s2 + diag(W^T W)."""
        v = 1.0 / (np.exp(-self.log_s2) + np.sum(self.W**2, axis=0))
        s2 = np.exp(self.log_s2)
        kernel = np.concatenate([self.W * v, (v[:, None] * (self.U / s2[:, None] - self.W.T @ self.V)).T])
        return kernel, v * (self.u / s2 - self.W.T @ self.b), v

    def keras_parts(self, exact_posterior=False):
        x_in, c_in = keras.Input((D,)), keras.Input((C,))
        joined = keras.layers.Concatenate()([x_in, c_in])
        if exact_posterior:
            kernel, bias, v = self.posterior()
            log_var = np.log(v)
        else:  # any encoder is a valid proposal: a crude one, q(z | x, c) = N(0.1 x[:2], 0.5 I)
            kernel, bias, log_var = np.zeros((D + C, L)), np.zeros(L), np.full(L, math.log(0.5))
            kernel[0, 0] = kernel[1, 1] = 0.1
        encoder = keras.Model([x_in, c_in], [fixed_dense(L, kernel, bias)(joined),
                                             fixed_dense(L, np.zeros((D + C, L)), log_var)(joined)])
        z_in, c2 = keras.Input((L,)), keras.Input((C,))
        decoder = keras.Model([z_in, c2], fixed_dense(D, np.concatenate([self.W.T, self.V.T]), self.b)(
            keras.layers.Concatenate()([z_in, c2])))
        c3 = keras.Input((C,))
        prior = keras.Model(c3, [fixed_dense(L, self.U.T, self.u)(c3),
                                 fixed_dense(L, np.zeros((C, L)), self.log_s2)(c3)])
        return encoder, decoder, prior


@pytest.fixture(scope="module")
def ref():
    return Reference()


@pytest.fixture(scope="module")
def data(ref):
    return ref.sample(300, np.random.default_rng(1))


def build(ref, exact_posterior=False, **kwargs):
    encoder, decoder, prior = ref.keras_parts(exact_posterior)
    return vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian", prior=prior, **kwargs)


def test_gaussian_kl_against_quadrature_and_the_standard_case():
    q_mean, q_log_var = np.array([[0.3, -1.2]]), np.array([[-0.5, 0.8]])
    p_mean, p_log_var = np.array([[1.0, 0.2]]), np.array([[0.3, -0.4]])
    kl = keras.ops.convert_to_numpy(_gaussian_kl_per_dimension(q_mean, q_log_var, p_mean, p_log_var))
    z = np.linspace(-15, 15, 200001)[:, None]
    log_q = -0.5 * ((z - q_mean) ** 2 / np.exp(q_log_var) + q_log_var + LOG_TWO_PI)
    log_p = -0.5 * ((z - p_mean) ** 2 / np.exp(p_log_var) + p_log_var + LOG_TWO_PI)
    quadrature = np.sum(np.exp(log_q) * (log_q - log_p), axis=0) * (z[1, 0] - z[0, 0])
    np.testing.assert_allclose(kl[0], quadrature, rtol=1e-6)
    zeros = np.zeros_like(q_mean)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(_gaussian_kl_per_dimension(q_mean, q_log_var, zeros, zeros)),
        keras.ops.convert_to_numpy(_kl_per_dimension(q_mean, q_log_var)), rtol=1e-6)


def test_kl_term_is_against_the_learned_prior(ref, data):
    x, c = data
    cvae = build(ref)
    scores = cvae.evaluate([x, c], batch_size=300, verbose=0, return_dict=True)
    q_mean, q_log_var = 0.1 * x[:, :2], np.full((len(x), L), math.log(0.5))
    p_mean = ref.prior_mean(c)
    expected = np.mean(np.sum(0.5 * (ref.log_s2 - q_log_var + (np.exp(q_log_var) + (q_mean - p_mean) ** 2)
                                     / np.exp(ref.log_s2) - 1.0), axis=1))
    assert scores["kl_loss"] == pytest.approx(expected, rel=1e-5)


def test_importance_weighted_bound_converges_to_exact_log_p_x_given_c(ref, data):
    x, c = data
    exact = ref.log_px(x.astype(np.float64), c.astype(np.float64))
    # With the exact posterior as q every importance weight equals p(x | c): exact for any K.
    exact_q = build(ref, exact_posterior=True)
    np.testing.assert_allclose(vae_keras.log_likelihood(exact_q, [x, c], num_samples=1, seed=0),
                               exact, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(vae_keras.elbo(exact_q, [x, c], num_samples=3, seed=0),
                               exact, rtol=1e-4, atol=1e-3)
    # A crude q: a bound that tightens with K.
    cvae = build(ref)
    estimate = vae_keras.log_likelihood(cvae, [x, c], num_samples=3000, seed=0)
    bound = vae_keras.elbo(cvae, [x, c], num_samples=20, seed=0)
    assert bound.mean() < estimate.mean() <= exact.mean() + 0.01
    assert abs((estimate - exact).mean()) < 0.5
    # The same model with the N(0, I) prior has another, lower-likelihood target:
    encoder, decoder, _ = ref.keras_parts()
    fixed = vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian")
    assert vae_keras.log_likelihood(fixed, [x, c], num_samples=3000, seed=0).mean() < estimate.mean() - 0.1


def test_sample_draws_from_the_prior_network(ref):
    cvae = build(ref)
    c = np.random.default_rng(2).normal(size=(6, C)).astype("float32")
    eps = np.random.default_rng(7).standard_normal((6, L))
    z = ref.prior_mean(c) + np.exp(0.5 * ref.log_s2) * eps
    np.testing.assert_allclose(cvae.sample(6, seed=7, condition=c), cvae.decode(z, condition=c),
                               rtol=1e-5, atol=1e-5)
    p_mean, p_log_var = cvae.prior_parameters(c)
    np.testing.assert_allclose(p_mean, ref.prior_mean(c), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(p_log_var, np.tile(ref.log_s2, (6, 1)), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one row per sample"):
        cvae.sample(5, seed=0, condition=c)


def test_fixed_prior_parameters_are_zero(ref):
    encoder, decoder, _ = ref.keras_parts()
    fixed = vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian")
    p_mean, p_log_var = fixed.prior_parameters(np.ones((3, C)))
    assert not p_mean.any() and not p_log_var.any() and p_mean.shape == (3, L)


def test_prior_mismatch_against_the_learned_prior(ref):
    cvae = build(ref)
    c = np.tile(np.array([[0.5, -1.0, 0.2]], dtype="float32"), (40, 1))
    x = np.random.default_rng(3).normal(size=(40, D)).astype("float32")
    result = vae_keras.prior_mismatch(cvae, [x, c], num_samples=4, seed=0)
    p_mean = ref.prior_mean(c[:1])[0]
    q_mean = 0.1 * x[:, :2]
    expected_rate = np.mean(np.sum(0.5 * (ref.log_s2 - math.log(0.5) + (0.5 + (q_mean - p_mean) ** 2)
                                          / np.exp(ref.log_s2) - 1.0), axis=1))
    assert result.rate == pytest.approx(expected_rate, rel=1e-5)
    assert np.allclose(result.prior_draws.mean(axis=0), p_mean, atol=0.15)  # drawn from p(z | c)
    with pytest.raises(ValueError, match="one condition"):
        vae_keras.prior_mismatch(cvae, [x, np.random.default_rng(0).normal(size=(40, C))])


def test_training_and_saving_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=256)
    c = vae_keras.one_hot(labels, 3)
    x = (rng.uniform(size=(256, 12)) < 0.2 + 0.25 * labels[:, None]).astype("float32")
    encoder = architectures.mlp_encoder((12,), 2, hidden_units=(16,), condition_shape=(3,))
    decoder = architectures.mlp_decoder((12,), 2, hidden_units=(16,), condition_shape=(3,))
    prior = architectures.mlp_prior((3,), 2, hidden_units=())
    cvae = vae_keras.CVAE((12,), (3,), encoder, decoder, prior=prior)
    before = cvae.prior_parameters(np.eye(3, dtype="float32"))[0].copy()
    assert not before.any()  # starts at N(0, I)
    history = cvae.fit([x, c], epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    after = cvae.prior_parameters(np.eye(3, dtype="float32"))[0]
    assert np.abs(after).max() > 1e-3  # the prior network trained
    path = tmp_path / "cvae.keras"
    cvae.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.prior is not None
    np.testing.assert_allclose(loaded.prior_parameters(np.eye(3, dtype="float32"))[0], after, rtol=1e-6)
    np.testing.assert_allclose(vae_keras.log_likelihood(loaded, [x[:20], c[:20]], num_samples=5, seed=1),
                               vae_keras.log_likelihood(cvae, [x[:20], c[:20]], num_samples=5, seed=1),
                               rtol=1e-5)


def test_bad_priors_are_refused(ref):
    encoder, decoder, _ = ref.keras_parts()
    c_in = keras.Input((C,))
    one_output = keras.Model(c_in, keras.layers.Dense(L)(c_in))
    wrong_size = keras.Model(c_in, [keras.layers.Dense(L + 1)(c_in), keras.layers.Dense(L + 1)(c_in)])
    with pytest.raises(ValueError, match="exactly two tensors"):
        vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian", prior=one_output)
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian", prior=wrong_size)
    with pytest.raises(TypeError, match="prior"):
        vae_keras.CVAE((D,), (C,), encoder, decoder, likelihood="gaussian", prior="N(0, I)")
    with pytest.raises(ValueError, match="latent_dim"):
        architectures.mlp_prior((C,), 0)
