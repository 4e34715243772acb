"""Tests for vae_keras.evaluation against independent numpy references.

* A linear-Gaussian model, p(z) = N(0, I), p(x | z) = N(W z + b, I), where
  log p(x) = log N(x; b, W W^T + I) and the posterior are exact (numpy
  Cholesky). W has orthogonal columns, so the posterior covariance
  (I + W^T W)^{-1} is diagonal and a Keras encoder can output it exactly.
* A Bernoulli decoder with a 1-D latent, where log p(x) is a numerical
  integral over z.
"""

import math

import keras
import numpy as np
import pytest

import vae_keras
from vae_keras import evaluation
from vae_keras.evaluation import active_units, elbo, kl_per_dimension, log_likelihood

LOG_TWO_PI = math.log(2.0 * math.pi)
DATA_DIM, LATENT_DIM, CONDITION_DIM = 5, 2, 3
COLUMN_SCALES = np.array([1.5, 0.8])
# The imperfect encoder: posterior mean shifted by SHIFT, variance times RATIO.
SHIFT, VARIANCE_RATIO = 1.0, 2.0


# --- numpy references --------------------------------------------------------


def gaussian_log_density(x, mean, cov):
    """log N(x; mean, cov) per row, via a Cholesky factor."""
    chol = np.linalg.cholesky(cov)
    solved = np.linalg.solve(chol, (x - mean).T)
    return (-0.5 * np.sum(solved**2, axis=0) - np.log(np.diag(chol)).sum()
            - 0.5 * x.shape[1] * LOG_TWO_PI)


class LinearGaussian:
    """p(z) = N(0, I_d), p(x | z, c) = N(W z + V c + b, I_D), all in numpy."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.normal(size=(DATA_DIM, LATENT_DIM)))
        self.W = basis * COLUMN_SCALES  # orthogonal columns: W^T W diagonal
        self.V = rng.normal(size=(DATA_DIM, CONDITION_DIM))
        self.b = rng.normal(size=DATA_DIM)
        self.posterior_var = 1.0 / (1.0 + COLUMN_SCALES**2)  # diag (I + W^T W)^-1
        assert np.allclose(np.linalg.inv(np.eye(LATENT_DIM) + self.W.T @ self.W),
                           np.diag(self.posterior_var))
        self.A = self.posterior_var[:, None] * self.W.T  # posterior mean = A (x - mu)

    def offset(self, c=None):
        return self.b if c is None else self.b + c @ self.V.T

    def sample(self, n, rng, c=None):
        z = rng.normal(size=(n, LATENT_DIM))
        return z @ self.W.T + self.offset(c) + rng.normal(size=(n, DATA_DIM))

    def log_px(self, x, c=None):
        cov = self.W @ self.W.T + np.eye(DATA_DIM)
        return gaussian_log_density(x - self.offset(c), np.zeros(DATA_DIM), cov)

    def posterior_mean(self, x, c=None):
        return (x - self.offset(c)) @ self.A.T

    def closed_form_elbo(self, x, q_mean, q_var, c=None):
        """E_q[log p(x | z)] - KL(q || N(0, I)) for q = N(q_mean, diag(q_var))."""
        residual = x - q_mean @ self.W.T - self.offset(c)
        # E||x - W z - mu||^2 = ||x - W m - mu||^2 + sum_i q_var_i ||W_i||^2
        expected_sq = np.sum(residual**2, axis=1) + q_var @ np.sum(self.W**2, axis=0)
        expected_log_lik = -0.5 * expected_sq - 0.5 * DATA_DIM * LOG_TWO_PI
        kl = 0.5 * np.sum(q_var + q_mean**2 - 1.0 - np.log(q_var), axis=1)
        return expected_log_lik - kl


def chi_square_shifted(posterior_var, shift, ratio):
    """chi^2(p || q) = E_q[(p/q)^2] - 1 for p = N(m, s2), q = N(m + shift, ratio s2).

    Per dimension, int N(z; m, s2)^2 / N(z; m + d, t2) dz
    = t2 / (s sqrt(2 t2 - s2)) * exp(d^2 / (2 t2 - s2)); dims multiply.
    """
    t2 = ratio * posterior_var
    factor = t2 / np.sqrt(posterior_var * (2.0 * t2 - posterior_var)) * np.exp(
        shift**2 / (2.0 * t2 - posterior_var))
    return float(np.prod(factor) - 1.0)


# --- Keras models with set weights --------------------------------------------


def dense(units, kernel, bias, activation=None):
    layer = keras.layers.Dense(units, activation=activation)
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return layer


def linear_encoder(model, shift=0.0, log_var_offset=0.0, conditional=False):
    """Encoder z_mean = A (x - V c - b) + shift, z_log_var = log posterior var + offset."""
    x_in = keras.Input((DATA_DIM,))
    inputs, features = x_in, x_in
    kernel = model.A.T
    if conditional:
        c_in = keras.Input((CONDITION_DIM,))
        inputs, features = [x_in, c_in], keras.layers.Concatenate()([x_in, c_in])
        kernel = np.concatenate([model.A.T, -(model.A @ model.V).T])
    z_mean = dense(LATENT_DIM, kernel, -model.A @ model.b + shift)(features)
    z_log_var = dense(LATENT_DIM, np.zeros_like(kernel),
                      np.log(model.posterior_var) + log_var_offset)(features)
    return keras.Model(inputs, [z_mean, z_log_var])


def linear_decoder(model, conditional=False):
    z_in = keras.Input((LATENT_DIM,))
    if not conditional:
        return keras.Model(z_in, dense(DATA_DIM, model.W.T, model.b)(z_in))
    c_in = keras.Input((CONDITION_DIM,))
    joined = keras.layers.Concatenate()([z_in, c_in])
    kernel = np.concatenate([model.W.T, model.V.T])
    return keras.Model([z_in, c_in], dense(DATA_DIM, kernel, model.b)(joined))


def linear_vae(model, **encoder_kwargs):
    return vae_keras.VAE((DATA_DIM,), linear_encoder(model, **encoder_kwargs),
                         linear_decoder(model), likelihood="gaussian")


def linear_cvae(model, **encoder_kwargs):
    return vae_keras.CVAE(
        (DATA_DIM,), (CONDITION_DIM,),
        linear_encoder(model, conditional=True, **encoder_kwargs),
        linear_decoder(model, conditional=True), likelihood="gaussian",
    )


@pytest.fixture(scope="module")
def gauss():
    return LinearGaussian(seed=0)


@pytest.fixture(scope="module")
def gauss_x(gauss):
    return gauss.sample(2000, np.random.default_rng(1)).astype("float32")


@pytest.fixture
def big_chunks(monkeypatch):
    # The tiny 5-pixel decoder is cheap: decode all samples of a batch at once.
    monkeypatch.setattr(evaluation, "MAX_ROWS_PER_CALL", 500_000)


# --- linear-Gaussian: exact posterior ------------------------------------------


def test_reference_elbo_matches_monte_carlo(gauss, gauss_x):
    """The numpy reference ELBO against a float64 Monte Carlo average of log w."""
    rng = np.random.default_rng(21)
    x = gauss_x[:20].astype(np.float64)
    q_mean = gauss.posterior_mean(x) + 0.3
    q_var = 1.7 * gauss.posterior_var
    z = q_mean[:, None, :] + np.sqrt(q_var) * rng.standard_normal((20, 20000, LATENT_DIM))
    residual = x[:, None, :] - (z @ gauss.W.T + gauss.b)
    log_lik = -0.5 * np.sum(residual**2, axis=-1) - 0.5 * DATA_DIM * LOG_TWO_PI
    log_prior = -0.5 * np.sum(z**2, axis=-1) - 0.5 * LATENT_DIM * LOG_TWO_PI
    log_q = -0.5 * np.sum((z - q_mean[:, None, :])**2 / q_var + np.log(q_var), axis=-1) \
        - 0.5 * LATENT_DIM * LOG_TWO_PI
    log_w = log_lik + log_prior - log_q
    standard_error = log_w.std(axis=1) / np.sqrt(log_w.shape[1])
    assert np.all(np.abs(log_w.mean(axis=1) - gauss.closed_form_elbo(x, q_mean, q_var))
                  < 5 * standard_error)


def test_exact_posterior_gives_exact_log_likelihood(gauss, gauss_x):
    # With q = p(z | x), every weight p(x, z) / q(z | x) equals p(x).
    vae = linear_vae(gauss)
    x = gauss_x[:300]
    exact = gauss.log_px(x.astype(np.float64))
    estimate = log_likelihood(vae, x, num_samples=1, seed=0)
    assert estimate.shape == (300,) and estimate.dtype == np.float64
    np.testing.assert_allclose(estimate, exact, atol=1e-4)
    np.testing.assert_allclose(elbo(vae, x, num_samples=3, seed=1), exact, atol=1e-4)


def test_chunks_and_batches_combine_exactly(gauss, gauss_x, monkeypatch):
    # 13 examples in batches of 5 (5, 5, 3); at most 12 rows per decoder call,
    # so K = 7 samples split into uneven chunks that logsumexp must recombine.
    monkeypatch.setattr(evaluation, "MAX_ROWS_PER_CALL", 12)
    x = gauss_x[:13]
    estimate = log_likelihood(linear_vae(gauss), x, num_samples=7, batch_size=5, seed=3)
    np.testing.assert_allclose(estimate, gauss.log_px(x.astype(np.float64)), atol=1e-4)


def test_chunks_draw_fresh_samples(gauss, gauss_x, monkeypatch):
    # One sample per decoder call: if chunks reused their noise, the mean over
    # 50 samples would scatter as much as a single sample does.
    monkeypatch.setattr(evaluation, "MAX_ROWS_PER_CALL", 100)
    vae = linear_vae(gauss, shift=SHIFT, log_var_offset=math.log(VARIANCE_RATIO))
    x = gauss_x[:100]
    x64 = x.astype(np.float64)
    reference = gauss.closed_form_elbo(x64, gauss.posterior_mean(x64) + SHIFT,
                                       VARIANCE_RATIO * gauss.posterior_var)
    spread_1 = np.std(elbo(vae, x, num_samples=1, seed=0) - reference)
    spread_50 = np.std(elbo(vae, x, num_samples=50, seed=0) - reference)
    assert spread_50 < 0.3 * spread_1  # ~ 1 / sqrt(50) = 0.14 expected


def test_far_away_data_is_numerically_stable(gauss, gauss_x):
    # log w ~ -2e4 nats: exp() underflows, logsumexp must not.
    x = gauss_x[:20] + 200.0
    estimate = log_likelihood(linear_vae(gauss), x, num_samples=50, seed=0)
    exact = gauss.log_px(x.astype(np.float64))
    assert exact.max() < -1e4
    np.testing.assert_allclose(estimate, exact, rtol=1e-5)


# --- linear-Gaussian: imperfect encoder -----------------------------------------


def test_importance_weighting_tightens_and_converges(gauss, gauss_x, big_chunks):
    vae = linear_vae(gauss, shift=SHIFT, log_var_offset=math.log(VARIANCE_RATIO))
    exact = gauss.log_px(gauss_x.astype(np.float64))
    n = len(gauss_x)
    means, standard_errors = {}, {}
    for k in (1, 10, 100, 1000):
        gap = log_likelihood(vae, gauss_x, num_samples=k, batch_size=500, seed=k) - exact
        means[k], standard_errors[k] = gap.mean(), gap.std() / math.sqrt(n)
        # A lower bound on average (Jensen), up to Monte Carlo error.
        assert means[k] <= 3.0 * standard_errors[k], (k, means[k])
    assert means[1] < means[10] < means[100] < means[1000], means
    # Delta method: E[gap_K] ~ -chi^2(p || q) / (2K) for large K. The bound
    # 2 chi^2 / (2K) leaves room for the higher-order terms; 4 SE for noise.
    chi2 = chi_square_shifted(gauss.posterior_var, SHIFT, VARIANCE_RATIO)
    tolerance = 2.0 * chi2 / (2 * 1000) + 4.0 * standard_errors[1000]
    assert abs(means[1000]) < tolerance, (means[1000], tolerance)
    assert tolerance < 0.05  # the check is meaningful: K=1 is ~2.75 nats off
    # K=1 averages log w, whose expectation is the ELBO: gap = -KL(q || p(z|x)).
    kl_to_posterior = 0.5 * np.sum(
        np.log(1.0 / VARIANCE_RATIO) + VARIANCE_RATIO
        + SHIFT**2 / gauss.posterior_var - 1.0)
    assert abs(means[1] + kl_to_posterior) < 4.0 * standard_errors[1]


def test_elbo_matches_closed_form(gauss, gauss_x, big_chunks):
    vae = linear_vae(gauss, shift=SHIFT, log_var_offset=math.log(VARIANCE_RATIO))
    x = gauss_x[:200]
    x64 = x.astype(np.float64)
    q_mean = gauss.posterior_mean(x64) + SHIFT
    reference = gauss.closed_form_elbo(x64, q_mean, VARIANCE_RATIO * gauss.posterior_var)
    # One sample per point: unbiased, so the mean error is within Monte Carlo error.
    one_sample = elbo(vae, x, seed=0)
    error = one_sample - reference
    assert abs(error.mean()) < 4.0 * error.std() / math.sqrt(len(x))
    # Many samples per point: each estimate is close to its own closed form.
    many = elbo(vae, x, num_samples=2000, seed=1)
    per_point_se = error.std() / math.sqrt(2000)
    np.testing.assert_allclose(many, reference, atol=5.0 * per_point_se)
    # The importance-weighted bound lies above the ELBO.
    assert log_likelihood(vae, x, num_samples=100, seed=2).mean() > many.mean() + 1.0
    assert many.mean() < gauss.log_px(x64).mean()


# --- conditional VAE -------------------------------------------------------------


def test_cvae_exact_posterior_with_chunks(gauss, monkeypatch):
    # The condition must be tiled like x, or the exact value would be missed.
    monkeypatch.setattr(evaluation, "MAX_ROWS_PER_CALL", 12)
    rng = np.random.default_rng(5)
    c = rng.normal(size=(13, CONDITION_DIM)).astype("float32")
    x = gauss.sample(13, rng, c).astype("float32")
    cvae = linear_cvae(gauss)
    assert isinstance(cvae, vae_keras.ConditionalVariationalAutoencoder)
    estimate = log_likelihood(cvae, [x, c], num_samples=7, batch_size=5, seed=0)
    exact = gauss.log_px(x.astype(np.float64), c.astype(np.float64))
    np.testing.assert_allclose(estimate, exact, atol=1e-4)


def test_cvae_seeds(gauss):
    rng = np.random.default_rng(6)
    c = rng.normal(size=(40, CONDITION_DIM)).astype("float32")
    x = gauss.sample(40, rng, c).astype("float32")
    cvae = linear_cvae(gauss, shift=SHIFT, log_var_offset=0.7)
    first = log_likelihood(cvae, [x, c], num_samples=20, seed=11)
    assert first.shape == (40,) and np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, log_likelihood(cvae, (x, c), num_samples=20, seed=11))
    other = log_likelihood(cvae, [x, c], num_samples=20, seed=12)
    assert np.all(first != other)
    unseeded = [log_likelihood(cvae, [x, c], num_samples=20) for _ in range(2)]
    assert np.all(unseeded[0] != unseeded[1])
    # A lower bound on average only: single estimates may exceed log p(x | c).
    exact = gauss.log_px(x.astype(np.float64), c.astype(np.float64))
    gap = exact - first  # >= 0 in expectation; one draw may dip below, within its noise
    assert gap.mean() > -3.0 * gap.std(ddof=1) / np.sqrt(len(gap))
    bound = elbo(cvae, [x, c], num_samples=20, seed=11)
    assert np.all(np.isfinite(bound)) and bound.mean() < first.mean()


# --- Bernoulli decoder, 1-D latent, quadrature reference -------------------------


def test_bernoulli_matches_quadrature():
    rng = np.random.default_rng(2)
    data_dim, hidden = 8, 16
    w1, b1 = rng.normal(size=(1, hidden)), rng.normal(size=hidden)
    w2, b2 = rng.normal(size=(hidden, data_dim)), 0.5 * rng.normal(size=data_dim)

    def probabilities(z):  # numpy copy of the decoder, z: (m, 1)
        return 1.0 / (1.0 + np.exp(-(np.tanh(z @ w1 + b1) @ w2 + b2)))

    z_in = keras.Input((1,))
    hidden_layer = dense(hidden, w1, b1, activation="tanh")
    decoder = keras.Model(z_in, dense(data_dim, w2, b2, "sigmoid")(hidden_layer(z_in)))
    # A rough encoder (random mean, fixed width): q is not the posterior, but
    # wider than it (posterior SD 0.4-0.9 here), so the weights stay bounded.
    x_in = keras.Input((data_dim,))
    encoder = keras.Model(x_in, [
        dense(1, 0.3 * rng.normal(size=(data_dim, 1)), np.array([-0.2]))(x_in),
        dense(1, np.zeros((data_dim, 1)), np.array([0.5]))(x_in),
    ])
    vae = vae_keras.VAE((data_dim,), encoder, decoder, likelihood="bernoulli")

    # Data from the model: z ~ N(0, 1), x ~ Bernoulli(decoder(z)).
    n = 100
    x = (rng.random((n, data_dim)) < probabilities(rng.normal(size=(n, 1)))).astype("float32")
    # log p(x) = log int N(z; 0, 1) prod_j Bern(x_j | p_j(z)) dz on a fine grid.
    grid = np.linspace(-8.0, 8.0, 4001)[:, None]
    p = probabilities(grid)  # (m, data_dim)
    assert 1e-4 < p.min() and p.max() < 1 - 1e-4  # package clipping is irrelevant
    log_joint = (x @ np.log(p).T + (1.0 - x) @ np.log1p(-p).T
                 - 0.5 * grid[:, 0]**2 - 0.5 * LOG_TWO_PI)  # (n, m)
    step = grid[1, 0] - grid[0, 0]
    exact = np.logaddexp.reduce(log_joint, axis=1) + math.log(step)

    # Tolerance per point from chi^2(posterior || q), by the same quadrature:
    # log of a mean of K weights has SD ~ sqrt(chi^2 / K) and bias ~ chi^2 / 2K.
    q_mean, q_log_var = (a[:, 0].astype(np.float64) for a in encoder.predict(x, verbose=0))
    log_q = (-0.5 * (grid[:, 0] - q_mean[:, None])**2 / np.exp(q_log_var[:, None])
             - 0.5 * q_log_var[:, None] - 0.5 * LOG_TWO_PI)
    log_posterior = log_joint - exact[:, None]
    chi2 = np.exp(np.logaddexp.reduce(2 * log_posterior - log_q, axis=1) + math.log(step)) - 1.0
    k = 2000
    tolerance = 5.0 * np.sqrt(chi2 / k) + chi2 / k + 1e-4
    estimate = log_likelihood(vae, x, num_samples=k, seed=0)
    worst = np.max(np.abs(estimate - exact) / tolerance)
    assert worst < 1.0, f"error up to {worst:.2f} x tolerance"
    assert tolerance.max() < 0.25  # chi^2 <= 2.8 for every point
    # Averaged over 100 points the noise shrinks ten-fold (SE ~ 0.003).
    assert abs(np.mean(estimate - exact)) < 0.01

    bound = elbo(vae, x, num_samples=200, seed=1)
    assert bound.mean() < exact.mean() - 0.05
    assert np.mean(bound < exact) > 0.95


# --- active units and KL per dimension -------------------------------------------


def test_active_units_counts_dimensions_that_vary():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 6)).astype("float32")
    kernel = np.zeros((6, 4))
    kernel[0, 0], kernel[1, 1], kernel[2, 2] = 1.0, 0.2, 0.05  # Var ~ 1, 0.04, 0.0025
    bias = np.array([0.5, -1.0, 0.25, 2.0])  # dim 3 is constant
    x_in = keras.Input((6,))
    encoder = keras.Model(x_in, [dense(4, kernel, bias)(x_in),
                                 dense(4, np.zeros((6, 4)), np.zeros(4))(x_in)])
    variances = np.var(x.astype(np.float64) @ kernel + bias, axis=0)
    for threshold in (0.001, 0.01, 0.1, 2.0):
        expected = int(np.sum(variances > threshold))
        assert active_units(encoder, x, threshold=threshold) == expected
    assert active_units(encoder, x) == 2  # Burda et al.'s 0.01
    assert active_units(encoder, x, threshold=0.001) == 3


def test_active_units_with_condition():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 4)).astype("float32")
    c = np.eye(3, dtype="float32")[rng.integers(0, 3, 300)]
    x_in, c_in = keras.Input((4,)), keras.Input((3,))
    joined = keras.layers.Concatenate()([x_in, c_in])
    kernel = np.zeros((7, 3))
    kernel[0, 0], kernel[5, 1] = 1.0, 2.0  # dim 0 from x, dim 1 from c, dim 2 constant
    encoder = keras.Model([x_in, c_in], [dense(3, kernel, np.zeros(3))(joined),
                                         dense(3, np.zeros((7, 3)), np.zeros(3))(joined)])
    assert active_units(encoder, [x, c]) == 2


def test_kl_per_dimension_matches_closed_form():
    rng = np.random.default_rng(5)
    d = 3
    x = np.concatenate([rng.normal(size=(400, d)), rng.uniform(-2, 1, size=(400, d))],
                       axis=1).astype("float32")
    x_in = keras.Input((2 * d,))
    select_mean = np.vstack([np.eye(d), np.zeros((d, d))])
    select_log_var = np.vstack([np.zeros((d, d)), np.eye(d)])
    encoder = keras.Model(x_in, [dense(d, select_mean, np.zeros(d))(x_in),
                                 dense(d, select_log_var, np.zeros(d))(x_in)])
    mean, log_var = x[:, :d].astype(np.float64), x[:, d:].astype(np.float64)
    expected = np.mean(0.5 * (mean**2 + np.exp(log_var) - 1.0 - log_var), axis=0)
    result = kl_per_dimension(encoder, x)
    assert result.shape == (d,)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert np.all(result >= 0)
    total = keras.ops.convert_to_numpy(vae_keras.kl_divergence(mean, log_var)).mean()
    np.testing.assert_allclose(result.sum(), total, rtol=1e-5)


# --- progress bar and argument checks --------------------------------------------


def test_verbose(gauss, gauss_x, capsys):
    vae = linear_vae(gauss)
    log_likelihood(vae, gauss_x[:20], num_samples=2, seed=0)  # "auto", small: silent
    log_likelihood(vae, gauss_x[:20], num_samples=2, seed=0, verbose=0)
    assert capsys.readouterr().out == ""
    log_likelihood(vae, gauss_x[:20], num_samples=2, batch_size=10, seed=0, verbose=1)
    assert "2/2" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_samples": 0}, ValueError, "num_samples"),
    ({"num_samples": -5}, ValueError, "num_samples"),
    ({"num_samples": 2.5}, ValueError, "num_samples"),
    ({"num_samples": True}, ValueError, "num_samples"),
    ({"num_samples": "10"}, ValueError, "num_samples"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": None}, ValueError, "batch_size"),
    ({"seed": 1.5}, ValueError, "seed"),
    ({"verbose": "loud"}, ValueError, "verbose"),
])
def test_bad_arguments(gauss, gauss_x, kwargs, error, match):
    with pytest.raises(error, match=match):
        log_likelihood(linear_vae(gauss), gauss_x[:10], **kwargs)


def test_bad_models_and_data(gauss, gauss_x):
    vae, cvae = linear_vae(gauss), linear_cvae(gauss)
    x, c = gauss_x[:10], np.zeros((10, CONDITION_DIM), "float32")
    with pytest.raises(TypeError, match="encoder, decoder"):
        log_likelihood(object(), x)
    with pytest.raises(ValueError, match="unconditional"):
        log_likelihood(vae, [x, c])
    with pytest.raises(ValueError, match=r"\[x, c\]"):
        elbo(cvae, x)
    with pytest.raises(ValueError, match="same number of examples"):
        log_likelihood(cvae, [x, c[:5]])
    with pytest.raises(ValueError, match="shape"):
        log_likelihood(vae, x[0])
    with pytest.raises(TypeError, match="numeric"):
        log_likelihood(vae, np.array([["a"] * DATA_DIM]))
    with pytest.raises(ValueError, match="NaN"):
        log_likelihood(vae, np.full((2, DATA_DIM), np.nan))
    bernoulli = vae_keras.VAE((DATA_DIM,), linear_encoder(gauss),
                              keras.Sequential([keras.Input((LATENT_DIM,)),
                                                keras.layers.Dense(DATA_DIM, "sigmoid")]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        log_likelihood(bernoulli, x * 10.0)


def test_bad_latent_arguments(gauss, gauss_x):
    encoder = linear_encoder(gauss)
    with pytest.raises(ValueError, match="threshold"):
        active_units(encoder, gauss_x[:10], threshold=-0.1)
    with pytest.raises(TypeError, match="threshold"):
        active_units(encoder, gauss_x[:10], threshold="0.01")
    with pytest.raises(ValueError, match="at least 2"):
        active_units(encoder, gauss_x[:1])
    with pytest.raises(TypeError, match="encoder"):
        kl_per_dimension(lambda x: x, gauss_x[:10])
    x_in = keras.Input((DATA_DIM,))
    one_output = keras.Model(x_in, keras.layers.Dense(2)(x_in))
    with pytest.raises(ValueError, match=r"\[z_mean, z_log_var\]"):
        kl_per_dimension(one_output, gauss_x[:10])


# --- mask: log p(x_obs), the scored dimensions only ----------------------------

OBSERVED = np.array([1, 0, 1, 1, 0], dtype="float32")


def test_mask_of_ones_changes_nothing(gauss, gauss_x):
    vae = linear_vae(gauss, shift=SHIFT)
    x = gauss_x[:40]
    plain = log_likelihood(vae, x, num_samples=20, seed=4)
    ones = log_likelihood(vae, x, num_samples=20, seed=4, mask=np.ones_like(x))
    np.testing.assert_allclose(ones, plain, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(elbo(vae, x, num_samples=3, seed=4, mask=np.ones(DATA_DIM)),
                               elbo(vae, x, num_samples=3, seed=4), rtol=1e-6, atol=1e-5)


def test_masked_bound_converges_to_the_exact_marginal(gauss, gauss_x, big_chunks):
    """log p(x_O) = log N(x_O; b_O, W_O W_O^T + I): the unscored dimensions integrate out."""
    vae = linear_vae(gauss)  # the posterior given all of x: a fine proposal for x_O too
    x = gauss_x[:200]
    observed = OBSERVED.astype(bool)
    cov = gauss.W[observed] @ gauss.W[observed].T + np.eye(observed.sum())
    exact = gaussian_log_density(x[:, observed], gauss.b[observed], cov)
    estimate = log_likelihood(vae, x, num_samples=2000, seed=0, mask=OBSERVED)
    difference = estimate - exact
    assert abs(difference.mean()) < 0.02, difference.mean()
    one_sample = elbo(vae, x, num_samples=50, seed=0, mask=OBSERVED)
    assert one_sample.mean() < exact.mean()  # the ELBO of x_O is below log p(x_O)
    # Changing the unscored values moves the proposal only: still a bound, same target.
    moved = x.copy()
    moved[:, ~observed] += 3.0
    other = log_likelihood(vae, moved, num_samples=2000, seed=0, mask=OBSERVED)
    assert other.mean() <= exact.mean() + 0.02
    assert abs(other.mean() - exact.mean()) < 0.3


def test_masked_cvae(gauss):
    rng = np.random.default_rng(3)
    c = rng.normal(size=(50, CONDITION_DIM)).astype("float32")
    x = gauss.sample(50, rng, c).astype("float32")
    observed = OBSERVED.astype(bool)
    cov = gauss.W[observed] @ gauss.W[observed].T + np.eye(observed.sum())
    exact = gaussian_log_density(x[:, observed], gauss.offset(c)[:, observed], cov)
    estimate = log_likelihood(linear_cvae(gauss), [x, c], num_samples=1000, seed=1,
                              mask=OBSERVED)
    assert abs((estimate - exact).mean()) < 0.05


@pytest.mark.parametrize("mask, message", [
    (np.ones((3, DATA_DIM)), "shape"),
    (np.full(DATA_DIM, 0.5), "only 0"),
    (np.array(["a"] * DATA_DIM), "0s and 1s"),
])
def test_bad_masks_are_refused(gauss, gauss_x, mask, message):
    with pytest.raises(ValueError, match=message):
        log_likelihood(linear_vae(gauss), gauss_x[:10], num_samples=2, mask=mask)


# --- prior_mismatch: the aggregate posterior against N(0, I) ---------------------


class _Encoder:
    """Stands in for a VAE: its 'encoder' returns the given means and log-variances."""

    def __init__(self, log_var):
        x_in = keras.Input((LATENT_DIM,))
        z_log_var = dense(LATENT_DIM, np.zeros((LATENT_DIM, LATENT_DIM)),
                          np.full(LATENT_DIM, log_var))(x_in)
        self.encoder = keras.Model(x_in, [keras.layers.Identity()(x_in), z_log_var])


def _kl_gaussians(m1, v1, m2, v2):
    """KL(N(m1, v1) || N(m2, v2)) summed over independent dimensions."""
    return float(np.sum(0.5 * (np.log(v2 / v1) + (v1 + (m1 - m2) ** 2) / v2 - 1.0)))


def test_prior_mismatch_is_zero_when_every_posterior_is_the_prior():
    result = vae_keras.prior_mismatch(_Encoder(0.0), np.zeros((5, LATENT_DIM)), seed=1)
    assert abs(result.rate) < 1e-7
    assert abs(result.kl_q_p.mean) < 1e-5 and abs(result.kl_p_q.mean) < 1e-5
    assert result.in_holes == 0.0
    assert result.codes.shape == (10, LATENT_DIM) and result.prior_draws.shape == (2000, LATENT_DIM)


def test_prior_mismatch_matches_closed_forms_for_one_gaussian():
    """All examples share q = N(m, s^2): both KLs are closed-form Gaussian KLs."""
    mean, log_var = np.array([0.8, -0.3]), -1.0
    x = np.tile(mean, (4, 1))
    result = vae_keras.prior_mismatch(_Encoder(log_var), x, num_samples=5000,
                                      num_prior=20000, seed=2)
    var = np.exp(log_var)
    forward = _kl_gaussians(mean, var, np.zeros(2), np.ones(2))
    backward = _kl_gaussians(np.zeros(2), np.ones(2), mean, var)
    assert abs(result.kl_q_p.mean - forward) < 4 * result.kl_q_p.se
    assert abs(result.kl_p_q.mean - backward) < 4 * result.kl_p_q.se
    assert math.isclose(result.rate, forward, rel_tol=1e-6)
    assert abs(result.information) < 4 * result.kl_q_p.se  # all q(z|x) equal: I_q = 0


def test_prior_mismatch_log_density_against_numpy_loop():
    rng = np.random.default_rng(5)
    means = rng.normal(size=(30, LATENT_DIM))
    result = vae_keras.prior_mismatch(_Encoder(-2.0), means, num_prior=300, seed=0)
    var = np.exp(-2.0)
    log_q = np.array([
        np.log(np.mean([np.prod(np.exp(-0.5 * (z - m) ** 2 / var) / np.sqrt(2 * np.pi * var))
                        for m in means])) for z in result.prior_draws])
    log_p = np.sum(-0.5 * result.prior_draws**2 - 0.5 * np.log(2 * np.pi), axis=1)
    np.testing.assert_allclose(result.log_q_over_p, log_q - log_p, rtol=1e-4, atol=1e-3)
    assert math.isclose(result.in_holes, float(np.mean(log_q - log_p < np.log(0.1))))
    # Hoffman & Johnson: 0 <= I_q <= log N, up to Monte Carlo noise.
    assert -4 * result.kl_q_p.se < result.information < math.log(30) + 4 * result.kl_q_p.se


def test_prior_mismatch_of_a_trained_cvae_per_condition(gauss):
    rng = np.random.default_rng(3)
    c = rng.normal(size=(40, CONDITION_DIM)).astype("float32")
    x = gauss.sample(40, rng, c).astype("float32")
    result = vae_keras.prior_mismatch(linear_cvae(gauss), [x, c], seed=0)
    assert result.codes.shape == (80, LATENT_DIM)
    assert np.isfinite(result.kl_q_p.mean) and np.isfinite(result.kl_p_q.mean)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_samples": 0}, "num_samples"),
    ({"num_prior": 1.5}, "num_prior"),
    ({"seed": None}, "seed"),
    ({"hole_ratio": 1.0}, "hole_ratio"),
    ({"hole_ratio": True}, "hole_ratio"),
])
def test_prior_mismatch_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        vae_keras.prior_mismatch(_Encoder(0.0), np.zeros((3, LATENT_DIM)), **kwargs)


def test_prior_mismatch_needs_a_model_and_two_examples():
    with pytest.raises(TypeError, match="encoder"):
        vae_keras.prior_mismatch(object(), np.zeros((3, LATENT_DIM)))
    with pytest.raises(ValueError, match="at least 2"):
        vae_keras.prior_mismatch(_Encoder(0.0), np.zeros((1, LATENT_DIM)))
