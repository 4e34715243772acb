"""Tests for vae_keras.models against independent references.

Sampling is checked by its moments, seeds and exact per-sample gradients; the
two loss terms against numpy closed forms and a Monte Carlo estimate; the
VAE / CVAE builders with hand-written functional encoders and decoders, the
way the lecture calls them: training, validation, the loss identity
``loss = reconstruction + beta * KL``, reproducibility, saving and loading,
and every bad input failing before training with a message that names it.

Runs on TensorFlow (default) and on JAX (``KERAS_BACKEND=jax``).
"""

import math
import warnings

import keras
import numpy as np
import pytest
from keras import layers

from vae_keras import (
    CVAE,
    VAE,
    ConditionalVariationalAutoencoder,
    Sampling,
    VariationalAutoencoder,
    kl_divergence,
    reconstruction_loss,
)

BACKEND = keras.backend.backend()
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 2


# --------------------------------------------------------------------------
# Hand-written parts, as a student would write them for the lecture's VAE.
# --------------------------------------------------------------------------

def build_encoder(input_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, condition_shape=None,
                  log_var_bias=None, hidden=32):
    """x (or [x, c]) -> [z_mean, z_log_var]; optional constant log-variance."""
    x_in = keras.Input(shape=input_shape)
    inputs = x_in
    h = layers.Flatten()(x_in)
    if condition_shape is not None:
        c_in = keras.Input(shape=condition_shape)
        inputs = [x_in, c_in]
        h = layers.Concatenate()([h, layers.Flatten()(c_in)])
    h = layers.Dense(hidden, activation="relu")(h)
    z_mean = layers.Dense(latent_dim, name="z_mean")(h)
    if log_var_bias is None:
        z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
    else:  # z_log_var == log_var_bias exactly: z is z_mean up to ~1e-13
        z_log_var = layers.Dense(
            latent_dim, kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(log_var_bias), name="z_log_var",
        )(h)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder(output_shape=IMAGE_SHAPE, latent_dim=LATENT_DIM, condition_shape=None,
                  activation="sigmoid", hidden=32):
    """z (or [z, c]) -> x_decoded with shape output_shape."""
    z_in = keras.Input(shape=(latent_dim,))
    inputs, h = z_in, z_in
    if condition_shape is not None:
        c_in = keras.Input(shape=condition_shape)
        inputs = [z_in, c_in]
        h = layers.Concatenate()([z_in, layers.Flatten()(c_in)])
    h = layers.Dense(hidden, activation="relu")(h)
    h = layers.Dense(int(np.prod(output_shape)), activation=activation)(h)
    return keras.Model(inputs, layers.Reshape(output_shape)(h), name="decoder")


def to_numpy(tensor):
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def assert_loss_identity(logs, beta, prefix=""):
    """loss == reconstruction_loss + beta * kl_loss, elementwise over epochs."""
    loss = np.asarray(logs[prefix + "loss"], dtype="float64")
    rec = np.asarray(logs[prefix + "reconstruction_loss"], dtype="float64")
    kl = np.asarray(logs[prefix + "kl_loss"], dtype="float64")
    np.testing.assert_allclose(loss, rec + beta * kl, rtol=1e-5, atol=1e-4)


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]


def assert_same_weights(a, b):
    wa, wb = weights_of(a), weights_of(b)
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


@pytest.fixture(autouse=True)
def _seeded():
    # Seeds only: keras.backend.clear_session() costs ~1 s per test on TF.
    keras.utils.set_random_seed(0)


# --------------------------------------------------------------------------
# Sampling
# --------------------------------------------------------------------------

MU = np.array([0.5, -1.0, 2.0], dtype="float32")
LOG_VAR = np.log(np.array([1.0, 0.25, 4.0], dtype="float32"))


def draws(layer, n=20000):
    z_mean = np.tile(MU, (n, 1))
    z_log_var = np.tile(LOG_VAR, (n, 1))
    return to_numpy(layer([keras.ops.convert_to_tensor(z_mean),
                           keras.ops.convert_to_tensor(z_log_var)]))


def test_sampling_moments_match_mean_and_variance():
    n = 20000
    z = draws(Sampling(seed=1), n).astype("float64")
    assert z.shape == (n, 3)
    sigma2 = np.exp(LOG_VAR.astype("float64"))
    # Standard errors: mean sigma/sqrt(n); sample variance sigma^2*sqrt(2/(n-1)).
    se_mean = np.sqrt(sigma2 / n)
    se_var = sigma2 * np.sqrt(2.0 / (n - 1))
    assert np.all(np.abs(z.mean(axis=0) - MU) < 5 * se_mean), (z.mean(axis=0), MU)
    assert np.all(np.abs(z.var(axis=0, ddof=1) - sigma2) < 5 * se_var), (z.var(axis=0), sigma2)
    # Standardised draws look standard normal (no hidden correlation across dims).
    eps = (z - MU) / np.sqrt(sigma2)
    corr = np.corrcoef(eps.T)[np.triu_indices(3, 1)]
    assert np.all(np.abs(corr) < 5 / np.sqrt(n))


def test_sampling_same_seed_same_draws_and_different_seeds_differ():
    a, b, c = Sampling(seed=7), Sampling(seed=7), Sampling(seed=8)
    first_a, first_b, first_c = draws(a, 50), draws(b, 50), draws(c, 50)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.allclose(first_a, first_c)
    # The seed generator advances: a second call gives fresh noise, reproducibly.
    second_a, second_b = draws(a, 50), draws(b, 50)
    np.testing.assert_array_equal(second_a, second_b)
    assert not np.allclose(first_a, second_a)


def test_sampling_gradients_reach_both_inputs_exactly():
    mu = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.3]], dtype="float32")
    log_var = np.array([[0.0, -1.4, 1.3], [0.7, -2.0, 0.1]], dtype="float32")
    layer = Sampling(seed=3)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        mu_t, log_var_t = tf.constant(mu), tf.constant(log_var)
        with tf.GradientTape() as tape:
            tape.watch([mu_t, log_var_t])
            z = layer([mu_t, log_var_t])
            total = tf.reduce_sum(z)
        grad_mu, grad_log_var = tape.gradient(total, [mu_t, log_var_t])
    elif BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        z, vjp = jax.vjp(lambda m, v: layer([m, v]), jnp.asarray(mu), jnp.asarray(log_var))
        grad_mu, grad_log_var = vjp(jnp.ones_like(z))
    else:
        pytest.skip(f"gradient check written for tensorflow and jax, not {BACKEND}")
    z, grad_mu, grad_log_var = map(to_numpy, (z, grad_mu, grad_log_var))
    sigma = np.exp(0.5 * log_var)
    eps = (z - mu) / sigma  # the noise the layer drew, recovered
    assert np.all(np.abs(eps) > 0)  # non-trivial draws
    np.testing.assert_allclose(grad_mu, np.ones_like(mu), rtol=1e-6)
    np.testing.assert_allclose(grad_log_var, 0.5 * sigma * eps, rtol=1e-4, atol=1e-6)


def test_sampling_config_round_trip():
    layer = Sampling(seed=11, name="sampler")
    config = layer.get_config()
    assert config["seed"] == 11 and config["name"] == "sampler"
    clone = Sampling.from_config(config)
    assert clone.seed == 11 and clone.name == "sampler"
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, Sampling) and restored.seed == 11
    # A rebuilt layer draws what a fresh layer with the same seed draws.
    np.testing.assert_array_equal(draws(clone, 20), draws(Sampling(seed=11), 20))
    assert Sampling.from_config(Sampling().get_config()).seed is None


@pytest.mark.parametrize("count", [1, 3])
def test_sampling_rejects_input_that_is_not_a_pair(count):
    z_mean = keras.ops.zeros((4, 2))
    inputs = z_mean if count == 1 else [z_mean] * count
    with pytest.raises(ValueError, match=r"\[z_mean, z_log_var\]"):
        Sampling(seed=0)(inputs)


@pytest.mark.parametrize("seed", ["0", 1.5, True, [1]])
def test_sampling_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        Sampling(seed=seed)


# --------------------------------------------------------------------------
# kl_divergence
# --------------------------------------------------------------------------

def numpy_kl_two_gaussians(mu, log_var):
    """KL(N(mu, s^2) || N(0, 1)) = log(1/s) + (s^2 + mu^2)/2 - 1/2, summed."""
    s = np.exp(0.5 * log_var.astype("float64"))
    return np.sum(-np.log(s) + (s ** 2 + mu.astype("float64") ** 2) / 2.0 - 0.5, axis=1)


def normal_log_pdf(z, mean, std):
    return -0.5 * ((z - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)


def test_kl_divergence_matches_numpy_closed_form():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 2, size=(6, 5)).astype("float32")
    log_var = rng.uniform(-4, 3, size=(6, 5)).astype("float32")
    kl = to_numpy(kl_divergence(mu, log_var))
    assert kl.shape == (6,)
    np.testing.assert_allclose(kl, numpy_kl_two_gaussians(mu, log_var), rtol=1e-5, atol=1e-5)


def test_kl_divergence_matches_monte_carlo_estimate():
    rng = np.random.default_rng(1)
    mu = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, -0.5, 2.0, 0.3], [-1.5, 0.2, 0.0, 1.0]])
    log_var = np.array([[0.0, 0.0, 0.0, 0.0], [-1.0, 0.5, 0.0, -2.0], [1.0, -0.3, 0.8, 0.0]])
    n = 100000
    std = np.exp(0.5 * log_var)
    z = mu[:, None, :] + std[:, None, :] * rng.standard_normal((3, n, 4))
    log_ratio = np.sum(normal_log_pdf(z, mu[:, None, :], std[:, None, :])
                       - normal_log_pdf(z, 0.0, 1.0), axis=2)  # log q - log p
    estimate = log_ratio.mean(axis=1)
    standard_error = log_ratio.std(axis=1, ddof=1) / np.sqrt(n)
    kl = to_numpy(kl_divergence(mu.astype("float32"), log_var.astype("float32")))
    assert np.all(np.abs(kl - estimate) <= 5 * standard_error + 1e-6), (kl, estimate, standard_error)


def test_kl_divergence_is_zero_at_standard_normal():
    kl = to_numpy(kl_divergence(np.zeros((3, 7), "float32"), np.zeros((3, 7), "float32")))
    np.testing.assert_array_equal(kl, np.zeros(3))


def test_kl_divergence_is_non_negative_on_random_inputs():
    rng = np.random.default_rng(2)
    mu = rng.normal(0, 3, size=(500, 8)).astype("float32")
    log_var = rng.uniform(-6, 6, size=(500, 8)).astype("float32")
    mu[:50] = 1e-4 * mu[:50]  # close to the minimum, where rounding could go below 0
    log_var[:50] = 1e-4 * log_var[:50]
    kl = to_numpy(kl_divergence(mu, log_var))
    assert np.all(kl >= -1e-6), kl.min()


def test_kl_divergence_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        kl_divergence(np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32"))


# --------------------------------------------------------------------------
# reconstruction_loss
# --------------------------------------------------------------------------

def test_bernoulli_reconstruction_matches_numpy_bce():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, size=(5, 28, 28, 1)).astype("float32")
    x[:2] = (x[:2] > 0.5).astype("float32")  # binary and grey-level targets
    p = rng.uniform(0.01, 0.99, size=x.shape).astype("float32")
    x64, p64 = x.astype("float64"), p.astype("float64")
    reference = -np.sum(x64 * np.log(p64) + (1 - x64) * np.log1p(-p64), axis=(1, 2, 3))
    result = to_numpy(reconstruction_loss(x, p))
    assert result.shape == (5,)
    np.testing.assert_allclose(result, reference, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(reconstruction_loss(x, p, likelihood="bernoulli")), result)
    # Binary targets: minus the log-probability of the observed pixel values.
    binary = -np.sum(np.log(np.where(x64[:2] == 1, p64[:2], 1 - p64[:2])), axis=(1, 2, 3))
    np.testing.assert_allclose(result[:2], binary, rtol=1e-5)


def test_gaussian_reconstruction_is_full_unit_variance_nll():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 10)).astype("float32")
    mean = rng.normal(size=(4, 10)).astype("float32")
    x64, m64 = x.astype("float64"), mean.astype("float64")
    density = np.exp(-0.5 * (x64 - m64) ** 2) / np.sqrt(2 * np.pi)
    reference = -np.sum(np.log(density), axis=1)
    result = to_numpy(reconstruction_loss(x, mean, likelihood="gaussian"))
    np.testing.assert_allclose(result, reference, rtol=1e-5)
    # The 0.5 * log(2 pi) per dimension is kept: a perfect mean still costs it.
    perfect = to_numpy(reconstruction_loss(x, x, likelihood="gaussian"))
    np.testing.assert_allclose(perfect, np.full(4, 10 * 0.5 * math.log(2 * math.pi)), rtol=1e-6)


def test_bernoulli_reconstruction_is_finite_at_saturated_probabilities():
    x = np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]], dtype="float32")
    p = np.array([[0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]], dtype="float32")
    result = to_numpy(reconstruction_loss(x, p))
    assert np.all(np.isfinite(result)), result
    assert result[0] < 1e-5  # exactly right predictions cost ~nothing
    # Four confidently wrong pixels cost about -log(eps) each, not infinity.
    expected = -4 * math.log(keras.config.epsilon())
    np.testing.assert_allclose(result[1], expected, rtol=0.02)


def test_reconstruction_loss_rejects_unknown_likelihood():
    with pytest.raises(ValueError, match="likelihood"):
        reconstruction_loss(np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32"),
                            likelihood="poisson")


def test_reconstruction_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_loss(np.zeros((2, 784), "float32"), np.zeros((2, 28, 28), "float32"))


def test_reconstruction_loss_rejects_batch_size_mismatch():
    # A (1, 4) target must not broadcast silently against a (3, 4) output.
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_loss(np.zeros((1, 4), "float32"), np.full((3, 4), 0.5, "float32"))


# --------------------------------------------------------------------------
# VAE: training, validation, evaluation and the loss identity
# --------------------------------------------------------------------------

def test_lecture_call_trains_validates_and_evaluates(digit_images):
    x, _ = digit_images
    x_train, x_val = x[:192], x[192:]  # whole batches of 64: fewer recompiles
    encoder, decoder = build_encoder(), build_decoder()
    vae = VAE(IMAGE_SHAPE, encoder, decoder, Sampling(), 1.0)  # the lecture's call
    assert isinstance(vae, VariationalAutoencoder)
    assert vae.encoder is encoder and vae.decoder is decoder
    assert vae.beta == 1.0 and vae.likelihood == "bernoulli"
    assert vae.data_shape == IMAGE_SHAPE
    history = vae.fit(x_train, epochs=5, batch_size=64, validation_data=(x_val,), verbose=0)
    logs = history.history
    for key in ("loss", "reconstruction_loss", "kl_loss",
                "val_loss", "val_reconstruction_loss", "val_kl_loss"):
        assert key in logs and len(logs[key]) == 5, (key, sorted(logs))
        assert np.all(np.isfinite(logs[key]))
    assert_loss_identity(logs, 1.0)
    assert_loss_identity(logs, 1.0, prefix="val_")
    assert logs["loss"][-1] < logs["loss"][0] - 10.0, logs["loss"]  # nats per image
    assert np.all(np.diff(logs["loss"]) < 0), logs["loss"]
    assert np.all(np.asarray(logs["kl_loss"]) >= 0)
    results = vae.evaluate(x_val, batch_size=64, verbose=0, return_dict=True)
    assert set(results) == {"loss", "reconstruction_loss", "kl_loss"}
    np.testing.assert_allclose(results["loss"],
                               results["reconstruction_loss"] + results["kl_loss"], rtol=1e-5)
    # predict gives the decoded mean of one sampled z: probabilities, shape of x.
    decoded = vae.predict(x_val[:8], verbose=0)
    assert decoded.shape == (8,) + IMAGE_SHAPE
    assert np.all((decoded >= 0) & (decoded <= 1))


def test_evaluate_matches_numpy_and_weights_kl_by_beta(digit_images):
    # With z_log_var fixed at -60 the sampled z equals z_mean to ~1e-13, so
    # the reconstruction term is deterministic and can be recomputed in numpy
    # from encoder.predict / decoder.predict.
    x = digit_images[0][:100]  # 100 = 64 + 36: uneven batches must be weighted by size
    encoder = build_encoder(log_var_bias=-60.0)
    decoder = build_decoder()
    vae = VAE(IMAGE_SHAPE, encoder, decoder, Sampling(seed=5), 3.0)
    results = vae.evaluate(x, batch_size=64, verbose=0, return_dict=True)

    z_mean, z_log_var = (np.asarray(a, "float64")
                         for a in encoder.predict(x, batch_size=100, verbose=0))
    np.testing.assert_array_equal(z_log_var, -60.0)
    p = np.asarray(decoder.predict(z_mean.astype("float32"), batch_size=100, verbose=0),
                   "float64")
    x64 = x.astype("float64")
    rec = np.mean(-np.sum(x64 * np.log(p) + (1 - x64) * np.log1p(-p), axis=(1, 2, 3)))
    kl = np.mean(0.5 * np.sum(z_mean ** 2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=1))
    np.testing.assert_allclose(results["reconstruction_loss"], rec, rtol=1e-4)
    np.testing.assert_allclose(results["kl_loss"], kl, rtol=1e-4)
    np.testing.assert_allclose(results["loss"], rec + 3.0 * kl, rtol=1e-4)
    # Training history obeys the same weighting.
    history = vae.fit(x, epochs=2, batch_size=50, verbose=0)
    assert_loss_identity(history.history, 3.0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("beta", [0.0, 100.0])
def test_no_nan_at_extreme_beta_and_loss_is_weighted_by_beta(digit_images, likelihood, beta):
    x = digit_images[0][:128]
    if likelihood == "gaussian":
        x = 4.0 * x - 2.0  # real-valued data outside [0, 1] is fine for a Gaussian
        decoder = build_decoder(activation=None)  # linear output: Gaussian means
    else:
        decoder = build_decoder()
    vae = VAE(IMAGE_SHAPE, build_encoder(), decoder, Sampling(seed=1), beta,
              likelihood=likelihood)
    history = vae.fit(x, epochs=2, batch_size=64, verbose=0)
    logs = history.history
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        assert np.all(np.isfinite(logs[key])), (key, logs[key])
    assert_loss_identity(logs, beta)
    if beta == 0.0:
        np.testing.assert_array_equal(logs["loss"], logs["reconstruction_loss"])


def _train_seeded(x):
    keras.utils.set_random_seed(123)
    vae = VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), Sampling(seed=9), 1.0)
    history = vae.fit(x, epochs=3, batch_size=32, shuffle=True, verbose=0)
    return history.history, weights_of(vae)


def test_same_seed_gives_identical_loss_history(digit_images):
    x = digit_images[0][:96]
    first_logs, first_weights = _train_seeded(x)
    keras.backend.clear_session()
    second_logs, second_weights = _train_seeded(x)
    for key in ("loss", "reconstruction_loss", "kl_loss"):
        np.testing.assert_array_equal(first_logs[key], second_logs[key], err_msg=key)
    for a, b in zip(first_weights, second_weights):
        np.testing.assert_array_equal(a, b)


def test_fit_accepts_python_generator(digit_images):
    # Generators are not scanned up front (np.asarray would give dtype object).
    x = digit_images[0][:64]

    def batches():
        while True:
            for start in range(0, 64, 32):
                yield (x[start:start + 32],)  # Keras wants a tuple: (inputs,)

    vae = VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), Sampling(seed=0), 1.0)
    history = vae.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_fit_accepts_keras_py_dataset_with_short_last_batch(digit_images):
    # A PyDataset is not scanned up front (its batches may be ragged).
    x = digit_images[0][:80]

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return x[index * 48:(index + 1) * 48]  # 48 then 32 images

    vae = VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), Sampling(seed=0), 1.0)
    history = vae.fit(Batches(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --------------------------------------------------------------------------
# Saving and loading
# --------------------------------------------------------------------------

def _check_loaded_parts(model, loaded, encoder_inputs, decoder_inputs):
    assert_same_weights(model.encoder, loaded.encoder)
    assert_same_weights(model.decoder, loaded.decoder)
    np.testing.assert_array_equal(
        np.asarray(model.encoder.predict(encoder_inputs, verbose=0)),
        np.asarray(loaded.encoder.predict(encoder_inputs, verbose=0)),
    )
    np.testing.assert_array_equal(model.decoder.predict(decoder_inputs, verbose=0),
                                  loaded.decoder.predict(decoder_inputs, verbose=0))
    assert isinstance(loaded.sampling_layer, Sampling)
    assert loaded.sampling_layer.seed == model.sampling_layer.seed
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) > 0


def _check_continues_training(loaded, data, steps_per_epoch):
    before = weights_of(loaded.decoder)
    iterations = int(loaded.optimizer.iterations)
    history = loaded.fit(data, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert int(loaded.optimizer.iterations) == iterations + steps_per_epoch
    assert any(not np.array_equal(a, b) for a, b in zip(before, weights_of(loaded.decoder)))


def test_vae_saves_and_loads_without_custom_objects(digit_images, tmp_path):
    x = digit_images[0][:64]
    vae = VAE(IMAGE_SHAPE, build_encoder(), build_decoder(activation=None),
              Sampling(seed=4), 0.5, likelihood="gaussian")
    vae.fit(x, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "vae.keras"
    vae.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "compile() was not called as part of model loading"
        loaded = keras.models.load_model(path)  # no custom_objects

    assert type(loaded) is VariationalAutoencoder
    assert loaded.compiled and loaded.steps_per_execution == vae.steps_per_execution == 16
    assert type(loaded.optimizer) is type(vae.optimizer)
    assert loaded.beta == 0.5 and loaded.likelihood == "gaussian"
    assert loaded.data_shape == IMAGE_SHAPE
    assert isinstance(loaded.encoder, keras.Model) and isinstance(loaded.decoder, keras.Model)
    z = np.random.default_rng(0).normal(size=(8, LATENT_DIM)).astype("float32")
    _check_loaded_parts(vae, loaded, x[:8], z)
    original = vae.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    reloaded = loaded.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    np.testing.assert_allclose(reloaded["kl_loss"], original["kl_loss"], rtol=1e-5)
    _check_continues_training(loaded, x, steps_per_epoch=2)


@pytest.mark.parametrize("condition_kind", ["one_hot_label", "pixel_column"])
def test_cvae_trains_saves_and_loads(digit_images, tmp_path, condition_kind):
    x, labels = digit_images
    x, labels = x[:160], labels[:160]
    if condition_kind == "one_hot_label":
        c = np.eye(10, dtype="float32")[labels]
    else:
        c = np.ascontiguousarray(x[:, :, 14, 0])  # the middle column of pixels
    condition_shape = c.shape[1:]
    assert condition_shape in ((10,), (28,))
    encoder = build_encoder(condition_shape=condition_shape)
    decoder = build_decoder(condition_shape=condition_shape)
    cvae = CVAE(IMAGE_SHAPE, condition_shape, encoder, decoder, Sampling(seed=2), 1.0)
    assert isinstance(cvae, ConditionalVariationalAutoencoder)
    assert isinstance(cvae, VariationalAutoencoder)
    assert cvae.condition_shape == condition_shape

    history = cvae.fit([x[:128], c[:128]], epochs=3, batch_size=32,
                       validation_data=([x[128:], c[128:]],), verbose=0)
    logs = history.history
    assert {"val_loss", "val_reconstruction_loss", "val_kl_loss"} <= set(logs)
    assert_loss_identity(logs, 1.0)
    assert_loss_identity(logs, 1.0, prefix="val_")
    assert logs["loss"][-1] < logs["loss"][0], logs["loss"]
    results = cvae.evaluate([x, c], batch_size=32, verbose=0, return_dict=True)
    assert set(results) == {"loss", "reconstruction_loss", "kl_loss"}
    np.testing.assert_allclose(results["loss"],
                               results["reconstruction_loss"] + results["kl_loss"], rtol=1e-5)
    assert cvae.predict([x[:4], c[:4]], verbose=0).shape == (4,) + IMAGE_SHAPE

    path = tmp_path / "cvae.keras"
    cvae.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is ConditionalVariationalAutoencoder
    assert loaded.beta == 1.0 and loaded.likelihood == "bernoulli"
    assert loaded.data_shape == IMAGE_SHAPE and loaded.condition_shape == condition_shape
    z = np.random.default_rng(1).normal(size=(8, LATENT_DIM)).astype("float32")
    _check_loaded_parts(cvae, loaded, [x[:8], c[:8]], [z, c[:8]])
    _check_continues_training(loaded, [x[:64], c[:64]], steps_per_epoch=2)


# --------------------------------------------------------------------------
# Bad inputs fail before training, with a message that names the problem
# --------------------------------------------------------------------------

def encoder_with_outputs(count):
    x_in = keras.Input(shape=IMAGE_SHAPE)
    h = layers.Dense(8)(layers.Flatten()(x_in))
    outputs = [layers.Dense(LATENT_DIM)(h) for _ in range(count)]
    return keras.Model(x_in, outputs[0] if count == 1 else outputs)


@pytest.mark.parametrize("count", [1, 3])
def test_encoder_must_return_two_tensors(count):
    with pytest.raises(ValueError, match=rf"(?s)encoder.*two.*returned {count}"):
        VAE(IMAGE_SHAPE, encoder_with_outputs(count), build_decoder())


def test_encoder_outputs_must_have_equal_shapes():
    x_in = keras.Input(shape=IMAGE_SHAPE)
    h = layers.Flatten()(x_in)
    encoder = keras.Model(x_in, [layers.Dense(2)(h), layers.Dense(3)(h)])
    with pytest.raises(ValueError, match=r"(?s)encoder.*shape.*\(None, 2\).*\(None, 3\)"):
        VAE(IMAGE_SHAPE, encoder, build_decoder())


def test_decoder_output_must_match_input_shape():
    with pytest.raises(ValueError, match=r"(?s)decoder.*\(28, 28, 1\).*\(None, 784\)"):
        VAE(IMAGE_SHAPE, build_encoder(), build_decoder(output_shape=(784,)))


def test_decoder_latent_size_must_match_encoder():
    with pytest.raises(ValueError, match="decoder"):
        VAE(IMAGE_SHAPE, build_encoder(latent_dim=2), build_decoder(latent_dim=3))


@pytest.mark.parametrize("beta", [-1.0, float("nan"), float("inf"), np.float32("nan")])
def test_beta_must_be_finite_and_non_negative(beta):
    with pytest.raises(ValueError, match="beta"):
        VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), None, beta)


@pytest.mark.parametrize("beta", ["1.0", None, [1.0], True])
def test_beta_must_be_a_number(beta):
    with pytest.raises(TypeError, match="beta"):
        VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), None, beta)


def test_unknown_likelihood_is_rejected():
    with pytest.raises(ValueError, match=r"(?s)likelihood.*bernoulli.*gaussian"):
        VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), likelihood="poisson")


@pytest.mark.parametrize("shape", [(0, 28), "28", (28.0, 28), ()])
def test_bad_input_shape_is_rejected(shape):
    with pytest.raises(ValueError, match="input_shape"):
        VAE(shape, build_encoder(), build_decoder())


def test_parts_must_be_keras_layers():
    with pytest.raises(TypeError, match="encoder"):
        VAE(IMAGE_SHAPE, lambda x: [x, x], build_decoder())
    with pytest.raises(TypeError, match="decoder"):
        VAE(IMAGE_SHAPE, build_encoder(), lambda z: z)
    with pytest.raises(TypeError, match="sampling_layer"):
        VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), sampling_layer=lambda pair: pair[0])


@pytest.fixture
def untrained_vae():
    return VAE(IMAGE_SHAPE, build_encoder(), build_decoder(), Sampling(seed=0), 1.0)


def assert_not_trained(model, weights_before):
    assert int(model.optimizer.iterations) == 0
    for a, b in zip(weights_before, weights_of(model)):
        np.testing.assert_array_equal(a, b)


def test_bernoulli_rejects_data_outside_unit_interval_and_says_how_to_fix(
        untrained_vae, digit_images):
    before = weights_of(untrained_vae)
    raw = digit_images[0][:32] * 255.0  # forgot to scale
    with pytest.raises(ValueError) as info:
        untrained_vae.fit(raw, epochs=1, verbose=0)
    message = str(info.value)
    assert "[0, 1]" in message and "255" in message
    assert "x / 255" in message or "gaussian" in message
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        untrained_vae.fit(digit_images[0][:32] - 0.5, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        untrained_vae.evaluate(raw, verbose=0)
    assert_not_trained(untrained_vae, before)


def test_nan_in_data_is_rejected(untrained_vae, digit_images):
    before = weights_of(untrained_vae)
    x = digit_images[0][:32].copy()
    x[3, 10, 10, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        untrained_vae.fit(x, epochs=1, verbose=0)
    assert_not_trained(untrained_vae, before)


def test_nan_in_validation_data_is_rejected(untrained_vae, digit_images):
    before = weights_of(untrained_vae)
    x = digit_images[0][:32]
    x_val = x.copy()
    x_val[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"(?s)validation_data.*NaN"):
        untrained_vae.fit(x, epochs=1, verbose=0, validation_data=(x_val,))
    assert_not_trained(untrained_vae, before)


def test_inf_in_data_is_rejected_for_gaussian(digit_images):
    # Known gap (models.py, _check_data): only NaN is checked, so +-inf passes
    # with likelihood='gaussian' and training produces inf/NaN losses.
    vae = VAE(IMAGE_SHAPE, build_encoder(), build_decoder(activation=None),
              Sampling(seed=0), 1.0, likelihood="gaussian")
    x = digit_images[0][:32].copy()
    x[0, 5, 5, 0] = np.inf
    with pytest.raises(ValueError, match="(?i)inf"):
        vae.fit(x, epochs=1, verbose=0)
    assert int(vae.optimizer.iterations) == 0


def test_fit_and_evaluate_reject_targets(untrained_vae, digit_images):
    before = weights_of(untrained_vae)
    x = digit_images[0][:32]
    with pytest.raises(ValueError, match=r"(?s)without targets.*fit\(x\)"):
        untrained_vae.fit(x, x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="without targets"):
        untrained_vae.evaluate(x, x, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data=\(x_val,\)"):
        untrained_vae.fit(x, epochs=1, verbose=0, validation_data=(x, x))
    assert_not_trained(untrained_vae, before)


def test_cvae_rejects_a_single_array_instead_of_data_and_condition(digit_images):
    cvae = CVAE(IMAGE_SHAPE, (10,), build_encoder(condition_shape=(10,)),
                build_decoder(condition_shape=(10,)), Sampling(seed=0), 1.0)
    before = weights_of(cvae)
    x = digit_images[0][:32]
    with pytest.raises(ValueError, match=r"\[x, c\]"):
        cvae.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[x, c\]"):
        cvae.evaluate(x, verbose=0)
    c = np.eye(10, dtype="float32")[np.zeros(32, int)]
    c[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"(?s)condition.*NaN"):
        cvae.fit([x, c], epochs=1, verbose=0)
    assert_not_trained(cvae, before)


def test_cvae_validation_data_as_list_works_or_fails_before_training(digit_images):
    # Keras would read validation_data=[x_val, c_val] as (x_val, y=c_val);
    # the CVAE wraps the list as its inputs instead.
    cvae = CVAE(IMAGE_SHAPE, (10,), build_encoder(condition_shape=(10,)),
                build_decoder(condition_shape=(10,)), Sampling(seed=0), 1.0)
    x = digit_images[0][:64]
    c = np.eye(10, dtype="float32")[digit_images[1][:64]]
    try:
        history = cvae.fit([x, c], epochs=1, batch_size=32, verbose=0,
                           validation_data=[x[:32], c[:32]])
    except ValueError as error:
        assert int(cvae.optimizer.iterations) == 0, (
            f"failed only after training an epoch: {error}")
        assert "validation_data" in str(error)
    else:
        assert "val_loss" in history.history
        assert_loss_identity(history.history, 1.0, prefix="val_")


def test_sample_weight_is_not_silently_ignored(untrained_vae, digit_images):
    # Every example counts once in the ELBO: sample weights are refused.
    x = digit_images[0][:32]
    with pytest.raises(ValueError, match="sample_weight"):
        untrained_vae.fit(x, sample_weight=np.zeros(32, "float32"), epochs=1, verbose=0)
    assert int(untrained_vae.optimizer.iterations) == 0


def test_cvae_checks_parts_against_condition_shape():
    with pytest.raises(ValueError, match="encoder"):
        CVAE(IMAGE_SHAPE, (10,), build_encoder(), build_decoder(condition_shape=(10,)))
    with pytest.raises(ValueError, match="decoder"):
        CVAE(IMAGE_SHAPE, (10,), build_encoder(condition_shape=(10,)),
             build_decoder(condition_shape=(28,)))
    with pytest.raises(ValueError, match="condition_shape"):
        CVAE(IMAGE_SHAPE, (-1,), build_encoder(condition_shape=(10,)),
             build_decoder(condition_shape=(10,)))


def test_copyable_builder_file_imports_only_keras_numpy_and_the_standard_library(tmp_path):
    """models.py copied alone into an empty folder imports and builds the lecture's VAE."""
    import ast
    import shutil
    import subprocess
    import sys

    import vae_keras.models as models_module

    source = open(models_module.__file__, encoding="utf-8").read()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"keras", "numpy"}
    shutil.copy(models_module.__file__, tmp_path / "models.py")
    script = (
        "import keras, numpy as np\n"
        "from keras import layers\n"
        "from models import VAE, Sampling\n"
        "x = keras.Input((4,)); h = layers.Dense(3)(x)\n"
        "enc = keras.Model(x, [layers.Dense(2)(h), layers.Dense(2)(h)])\n"
        "z = keras.Input((2,))\n"
        "dec = keras.Model(z, layers.Activation('sigmoid')(layers.Dense(4)(z)))\n"
        "vae = VAE((4,), enc, dec, Sampling(seed=0), 1.0)\n"
        "print(vae.exact_likelihood, np.isfinite(vae.fit(np.eye(4, dtype='float32'), epochs=1,"
        " verbose=0).history['loss'][0]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("True True")
