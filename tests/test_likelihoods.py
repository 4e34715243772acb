"""Exact likelihoods: the Bernoulli NLL from logits, the continuous Bernoulli,
and the data checks that keep a "nats" honest. References are float64 numpy
(and numerical integration), independent of the package's keras.ops code.
Runs on TensorFlow (default) and on JAX (``KERAS_BACKEND=jax``).
"""

import math

import keras
import numpy as np
import pytest
from keras import layers

from vae_keras import (
    VAE,
    Sampling,
    binarize,
    check_data,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_mean,
    reconstruction_loss,
)
from vae_keras.architectures import conv_decoder, mlp_decoder, mlp_encoder

BACKEND = keras.backend.backend()


def value_and_grad(function, value):
    """``function(value)`` (a scalar) and its gradient, on the active backend."""
    value = keras.ops.convert_to_tensor(np.asarray(value, dtype="float32"))
    if BACKEND == "jax":
        import jax

        result, grad = jax.value_and_grad(function)(value)
    else:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(value)
            result = function(value)
        grad = tape.gradient(result, value)
    return float(keras.ops.convert_to_numpy(result)), np.asarray(keras.ops.convert_to_numpy(grad))


def numpy_bernoulli_nll(x, logits):
    """-log Bernoulli(x; sigmoid(l)) in float64, with log1p/exp written out."""
    logits = np.asarray(logits, np.float64)
    softplus = np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))
    return softplus - x * logits


SATURATED_X = np.array([[0.0, 0.0, 1.0, 0.0, 1.0, 1.0]])
SATURATED_LOGITS = np.array([[20.0, 30.0, -25.0, 5.0, 90.0, -60.0]])


def test_bernoulli_from_logits_value_and_gradient_are_exact_on_saturated_logits():
    expected_value = numpy_bernoulli_nll(SATURATED_X, SATURATED_LOGITS).sum()
    expected_grad = 1.0 / (1.0 + np.exp(-SATURATED_LOGITS)) - SATURATED_X  # sigmoid(l) - x

    def loss(logits):
        return keras.ops.sum(reconstruction_loss(SATURATED_X.astype("float32"), logits,
                                                 from_logits=True))

    value, grad = value_and_grad(loss, SATURATED_LOGITS)
    assert value == pytest.approx(expected_value, rel=1e-6)  # 140.0067...
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-6, atol=1e-7)
    # Every confidently wrong pixel keeps its gradient (sigmoid(l) - x = +-1).
    assert np.all(np.abs(grad[0, [0, 1, 2, 5]]) > 0.99)


def test_clipped_probabilities_cap_the_loss_and_kill_the_gradient():
    """The old path: what from_logits fixes (so this test fails if the two agree)."""
    probabilities = 1.0 / (1.0 + np.exp(-SATURATED_LOGITS))

    def loss(p):
        return keras.ops.sum(reconstruction_loss(SATURATED_X.astype("float32"), p))

    value, grad = value_and_grad(loss, probabilities)
    exact = numpy_bernoulli_nll(SATURATED_X, SATURATED_LOGITS).sum()
    assert value < exact - 50.0  # capped at ~16.1 nats per wrong pixel
    assert grad[0, 1] == 0.0     # p clipped: no gradient for a wrong pixel


def test_continuous_bernoulli_normaliser_matches_float64_reference():
    logits = np.array([-80.0, -20.0, -3.0, -0.5, -0.1001, -0.0999, -1e-4, 0.0, 1e-4, 0.05,
                       0.0999, 0.1001, 0.7, 4.0, 35.0])
    lam = 1.0 / (1.0 + np.exp(-logits))
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.where(np.abs(1 - 2 * lam) < 1e-12, 2.0,
                         2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam))
    # For |l| large, 1 - 2 lambda rounds to +-1 in float64: use C = l / tanh(l / 2).
    exact = np.where(np.abs(logits) > 15, logits / np.tanh(logits / 2), exact)
    small = np.abs(logits) < 1e-3
    exact = np.where(small, 2.0 + logits**2 / 6.0, exact)
    result = keras.ops.convert_to_numpy(
        continuous_bernoulli_log_normalizer(logits.astype("float32")))
    np.testing.assert_allclose(result, np.log(exact), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("logit", [-6.0, -0.3, 0.0, 0.08, 2.5])
def test_continuous_bernoulli_is_a_density_and_its_mean_is_right(logit):
    """exp(-NLL) integrates to 1 over [0, 1], and its mean is continuous_bernoulli_mean."""
    grid = (np.arange(20000) + 0.5) / 20000  # midpoint rule
    x = grid.astype("float32")[:, None]
    logits = np.full_like(x, logit)
    nll = keras.ops.convert_to_numpy(
        reconstruction_loss(x, logits, "continuous_bernoulli", from_logits=True))
    density = np.exp(-nll.astype(np.float64))
    assert density.mean() == pytest.approx(1.0, abs=1e-5)
    assert (grid * density).mean() == pytest.approx(
        float(continuous_bernoulli_mean(np.array(logit))), abs=1e-5)
    # Binary cross-entropy alone is NOT normalised on [0, 1]:
    bce = keras.ops.convert_to_numpy(reconstruction_loss(x, logits, from_logits=True))
    assert abs(np.exp(-bce.astype(np.float64)).mean() - 1.0) > 0.1


def test_continuous_bernoulli_gradient_is_finite_at_logit_zero():
    x = np.array([[0.3, 0.9]], dtype="float32")

    def loss(logits):
        return keras.ops.sum(reconstruction_loss(x, logits, "continuous_bernoulli",
                                                 from_logits=True))

    _, grad = value_and_grad(loss, np.zeros((1, 2)))
    # d/dl [softplus(l) - x l - log C(l)] at 0 = 1/2 - x - 0.
    np.testing.assert_allclose(grad, 0.5 - x, atol=1e-6)


def test_from_logits_rejected_for_gaussian():
    with pytest.raises(ValueError, match="from_logits"):
        reconstruction_loss(np.zeros((1, 2)), np.zeros((1, 2)), "gaussian", from_logits=True)


@pytest.mark.parametrize("make_decoder", [
    lambda: mlp_decoder((28, 28, 1), 2, hidden_units=(16,)),
    lambda: conv_decoder((28, 28, 1), 2, filters=(4, 4), dense_units=8),
])
def test_package_decoders_give_exact_losses_and_probabilities_from_predict(make_decoder):
    keras.utils.set_random_seed(0)
    decoder = make_decoder()
    vae = VAE((28, 28, 1), mlp_encoder((28, 28, 1), 2, hidden_units=(16,)), decoder)
    assert vae.exact_likelihood
    z = np.random.default_rng(0).normal(size=(3, 2)).astype("float32")
    probabilities = decoder.predict(z, verbose=0)
    assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0
    logits = keras.ops.convert_to_numpy(vae.logits_decoder(z))
    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-logits)), probabilities, rtol=1e-5, atol=1e-6)
    assert set(map(id, vae.logits_decoder.weights)) <= set(map(id, decoder.weights))
    np.testing.assert_allclose(vae.decode(z), probabilities, rtol=1e-6)


def test_lecture_style_sigmoid_decoder_still_works_but_is_not_exact(digit_images):
    z = keras.Input((2,))
    decoder = keras.Model(z, layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(z)))
    x = keras.Input((28, 28, 1))
    h = layers.Flatten()(x)
    encoder = keras.Model(x, [layers.Dense(2)(h), layers.Dense(2)(h)])
    vae = VAE((28, 28, 1), encoder, decoder, Sampling(seed=0), 1.0)
    assert not vae.exact_likelihood and vae.logits_decoder is None
    history = vae.fit(digit_images[0][:64], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_logits_decoder_with_from_logits_true(digit_images):
    z = keras.Input((2,))
    decoder = keras.Model(z, layers.Reshape((28, 28, 1))(layers.Dense(784)(z)))
    vae = VAE((28, 28, 1), mlp_encoder((28, 28, 1), 2, hidden_units=(8,)), decoder,
              from_logits=True)
    assert vae.logits_decoder is decoder
    codes = np.zeros((2, 2), "float32")
    np.testing.assert_allclose(vae.decode(codes), 0.5 * np.ones((2, 28, 28, 1)), atol=1e-6)
    assert vae.predict(digit_images[0][:4], verbose=0).max() <= 1.0


def test_model_loss_is_exact_bernoulli_nll_of_its_logits(digit_images):
    """evaluate() == numpy NLL from the logits sub-model + KL, with the posterior collapsed."""
    keras.utils.set_random_seed(1)
    x = digit_images[0][:32]
    encoder_in = keras.Input((28, 28, 1))
    h = layers.Flatten()(encoder_in)
    z_mean = layers.Dense(2, kernel_initializer="zeros", bias_initializer="zeros")(h)
    z_log_var = layers.Dense(2, kernel_initializer="zeros",
                             bias_initializer=keras.initializers.Constant(-30.0))(h)
    encoder = keras.Model(encoder_in, [z_mean, z_log_var])
    decoder = mlp_decoder((28, 28, 1), 2, hidden_units=(8,))
    # Large logits: saturate the sigmoid in float32.
    decoder.get_layer("output_flat").bias.assign(np.tile([40.0, -40.0], 392))
    vae = VAE((28, 28, 1), encoder, decoder)
    logits = keras.ops.convert_to_numpy(vae.logits_decoder(np.zeros((1, 2), "float32")))
    nll = numpy_bernoulli_nll(x.reshape(32, -1), logits.reshape(1, -1)).sum(axis=1).mean()
    kl = 0.5 * 2 * (math.exp(-30.0) - 1.0 + 30.0)
    scores = vae.evaluate(x, verbose=0, return_dict=True)
    assert scores["reconstruction_loss"] == pytest.approx(nll, rel=1e-5)
    assert scores["kl_loss"] == pytest.approx(kl, rel=1e-5)
    assert nll > 32 * 20  # really saturated: the clipped loss could not reach this


# --- data a likelihood cannot score is refused ---------------------------------


def test_grey_levels_refused_for_bernoulli_with_a_fix(grey_digit_images):
    with pytest.raises(ValueError, match="binarize.*continuous_bernoulli"):
        check_data(grey_digit_images[0], likelihood="bernoulli")
    assert check_data(grey_digit_images[0], likelihood="continuous_bernoulli") is not None
    assert check_data(binarize(grey_digit_images[0], seed=0), likelihood="bernoulli") is not None


def test_grey_levels_refused_by_fit_evaluate_predict_encode(grey_digit_images):
    vae = VAE((28, 28, 1), mlp_encoder((28, 28, 1), 2, hidden_units=(8,)),
              mlp_decoder((28, 28, 1), 2, hidden_units=(8,)))
    x = grey_digit_images[0][:16]
    for call in (lambda: vae.fit(x, verbose=0), lambda: vae.evaluate(x, verbose=0),
                 lambda: vae.predict(x, verbose=0), lambda: vae.encode(x)):
        with pytest.raises(ValueError, match="binary data only"):
            call()


def test_continuous_bernoulli_model_trains_on_grey_levels(grey_digit_images):
    keras.utils.set_random_seed(0)
    vae = VAE((28, 28, 1), mlp_encoder((28, 28, 1), 2, hidden_units=(16,)),
              mlp_decoder((28, 28, 1), 2, hidden_units=(16,)), likelihood="continuous_bernoulli")
    history = vae.fit(grey_digit_images[0][:128], epochs=3, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


@pytest.mark.parametrize("values, match", [
    (np.full((2, 3), 255, np.uint8), r"uint8.*255\.0"),
    (np.array([[0.0, np.inf]]), "inf"),
    (np.array([[0.0, -np.inf]]), "inf"),
    (np.array([[np.nan, 0.0]]), "NaN"),
    (np.array([["a", "b"]]), "numeric"),
])
def test_bad_data_is_refused_with_a_fix(values, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check_data(values, likelihood="bernoulli")


def test_value_and_grad_matches_a_closed_form():
    from vae_keras.autodiff import value_and_grad as package_value_and_grad

    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0])
    value, (grad_a, grad_b) = package_value_and_grad(
        lambda x, y: keras.ops.sum(keras.ops.exp(x) * y), a, b)
    assert value == pytest.approx(float(np.sum(np.exp(a) * b)), rel=1e-6)
    np.testing.assert_allclose(grad_a, np.exp(a) * b, rtol=1e-6)
    np.testing.assert_allclose(grad_b, np.exp(a), rtol=1e-6)
