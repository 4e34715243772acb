"""A VAE with a learned mixture-of-Gaussians prior, against numpy references."""

import math

import keras
import numpy as np
import pytest

import vae_keras
from vae_keras import architectures
from vae_keras.priors import MixturePrior

LOG_TWO_PI = math.log(2 * math.pi)


def set_prior(prior, weights, means, log_vars):
    prior.logits.assign(np.log(weights).astype("float32"))
    prior.means.assign(np.asarray(means, "float32"))
    prior.log_vars.assign(np.asarray(log_vars, "float32"))
    return prior


def numpy_log_prob(z, weights, means, log_vars):
    comps = [np.log(w) - 0.5 * np.sum((z - m) ** 2 / np.exp(v) + v + LOG_TWO_PI, axis=1)
             for w, m, v in zip(weights, means, log_vars)]
    return np.logaddexp.reduce(np.stack(comps), axis=0)


def test_log_prob_against_numpy_and_normalised():
    weights, means, log_vars = [0.2, 0.5, 0.3], [[-2.0], [0.5], [3.0]], [[0.3], [-1.0], [0.0]]
    prior = set_prior(MixturePrior(3, 1), weights, means, log_vars)
    z = np.linspace(-12, 14, 52001)[:, None].astype("float32")
    log_p = keras.ops.convert_to_numpy(prior.log_prob(z)).astype(np.float64)
    np.testing.assert_allclose(log_p, numpy_log_prob(z.astype(np.float64), weights, means, log_vars),
                               rtol=1e-5, atol=1e-5)
    assert np.sum(np.exp(log_p)) * (26.0 / 52000) == pytest.approx(1.0, abs=1e-4)


def test_draws_follow_the_mixture():
    weights, means, log_vars = [0.25, 0.75], [[-3.0, 1.0], [2.0, 0.0]], [[0.0, -2.0], [-1.0, 0.5]]
    prior = set_prior(MixturePrior(2, 2), weights, means, log_vars)
    z = prior.draw(200_000, np.random.default_rng(0))
    expected_mean = np.average(means, axis=0, weights=weights)
    np.testing.assert_allclose(z.mean(axis=0), expected_mean, atol=0.02)
    assert np.mean(z[:, 0] < -0.5) == pytest.approx(0.25, abs=0.005)


def linear_parts(shift):
    """x = W z + b (unit noise), encoder = exact posterior of N(0, I), shifted by `shift`."""
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.normal(size=(4, 2)))
    W, b = basis * [1.5, 0.8], rng.normal(size=4)
    v = 1.0 / (1.0 + np.sum(W**2, axis=0))
    x_in = keras.Input((4,))
    mean = keras.layers.Dense(2)
    mean.build((None, 4)); mean.set_weights([(W * v).astype("float32"), (-(W * v).T @ b + shift).astype("float32")])
    log_var = keras.layers.Dense(2)
    log_var.build((None, 4)); log_var.set_weights([np.zeros((4, 2), "float32"), np.log(v).astype("float32")])
    encoder = keras.Model(x_in, [mean(x_in), log_var(x_in)])
    z_in = keras.Input((2,))
    out = keras.layers.Dense(4)
    out.build((None, 2)); out.set_weights([W.T.astype("float32"), (b - W @ shift).astype("float32")])
    return encoder, keras.Model(z_in, out(z_in)), W, b


def test_a_shifted_one_component_prior_is_the_same_model_moved():
    """p(z) = N(m, I) with decoder W z + b - W m defines the same p(x) as N(0, I) with W z + b."""
    m = np.array([1.0, -2.0])
    encoder, decoder, W, b = linear_parts(shift=m)
    prior = set_prior(MixturePrior(1, 2), [1.0], [m], [[0.0, 0.0]])
    moved = vae_keras.VAE((4,), encoder, decoder, likelihood="gaussian", prior=prior)
    x = np.random.default_rng(1).normal(size=(50, 4)).astype("float32")
    exact = -0.5 * np.sum(np.linalg.solve(W @ W.T + np.eye(4), (x - b).T) * (x - b).T, axis=0) \
        - 0.5 * np.linalg.slogdet(W @ W.T + np.eye(4))[1] - 2 * LOG_TWO_PI
    # The exact posterior as q: every importance weight is p(x), for any K.
    np.testing.assert_allclose(vae_keras.log_likelihood(moved, x, num_samples=2, seed=0), exact,
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(vae_keras.elbo(moved, x, num_samples=2, seed=0), exact, rtol=1e-4, atol=1e-3)
    # The Monte Carlo KL of the loss is unbiased: its mean matches the closed form KL(q || N(m, I)).
    z_mean, z_log_var = moved.encode(x)
    closed = np.mean(np.sum(0.5 * (np.exp(z_log_var) + (z_mean - m) ** 2 - 1 - z_log_var), axis=1))
    kls = [moved.evaluate(x, batch_size=50, verbose=0, return_dict=True)["kl_loss"] for _ in range(40)]
    assert abs(np.mean(kls) - closed) < 4 * np.std(kls) / math.sqrt(len(kls)) + 1e-3


def test_mixture_prior_trains_samples_saves_and_measures_holes(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((300, 12)) < np.where(rng.random((300, 1)) < 0.5, 0.8, 0.1)).astype("float32")
    encoder = architectures.mlp_encoder((12,), 2, hidden_units=(16,))
    decoder = architectures.mlp_decoder((12,), 2, hidden_units=(16,))
    vae = vae_keras.VAE((12,), encoder, decoder, prior=MixturePrior(4, 2, seed=0))
    before = vae.prior.parameters()[1].copy()
    history = vae.fit(x, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(vae.prior.parameters()[1], before)  # the prior trained
    samples = vae.sample(5, seed=3)
    np.testing.assert_allclose(samples, vae.decode(vae.prior.draw(5, np.random.default_rng(3))), rtol=1e-6)
    result = vae_keras.prior_mismatch(vae, x, seed=0)
    assert np.isfinite(result.kl_q_p.mean) and np.isfinite(result.kl_p_q.mean)
    assert result.information <= math.log(len(x)) + 4 * result.kl_q_p.se
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.prior.parameters()[1], vae.prior.parameters()[1])
    np.testing.assert_allclose(vae_keras.log_likelihood(loaded, x[:20], num_samples=4, seed=1),
                               vae_keras.log_likelihood(vae, x[:20], num_samples=4, seed=1), rtol=1e-5)


def test_bad_priors_are_refused():
    encoder = architectures.mlp_encoder((12,), 2, hidden_units=(16,))
    decoder = architectures.mlp_decoder((12,), 2, hidden_units=(16,))
    with pytest.raises(ValueError, match="free_bits"):
        vae_keras.VAE((12,), encoder, decoder, prior=MixturePrior(3, 2), free_bits=0.5)
    with pytest.raises(ValueError, match="latent_dim"):
        vae_keras.VAE((12,), encoder, decoder, prior=MixturePrior(3, 5))
    with pytest.raises(TypeError, match="log_prob"):
        vae_keras.VAE((12,), encoder, decoder, prior=keras.layers.Dense(2))
    with pytest.raises(ValueError, match="num_components"):
        MixturePrior(0, 2)
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        MixturePrior(2, 2).log_prob(np.zeros((3, 4), "float32"))
