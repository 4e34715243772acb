"""beta as a Keras variable (KL warm-up, free bits, saving), the API a Keras
user reaches for (top-level imports, encode/decode/sample, config, tf.data),
dynamic binarisation, and the evaluation's seeding. TensorFlow and JAX.
"""

import keras
import numpy as np
import pytest
from keras import layers

import vae_keras
from vae_keras import (
    CVAE,
    VAE,
    DynamicBinarization,
    KLWarmup,
    Sampling,
    log_likelihood,
    one_hot,
)
from vae_keras.architectures import mlp_decoder, mlp_encoder

BACKEND = keras.backend.backend()
SHAPE = (28, 28, 1)


def small_vae(latent_dim=2, **kwargs):
    return VAE(SHAPE, mlp_encoder(SHAPE, latent_dim, hidden_units=(16,)),
               mlp_decoder(SHAPE, latent_dim, hidden_units=(16,)), **kwargs)


def small_cvae(**kwargs):
    return CVAE(SHAPE, (10,), mlp_encoder(SHAPE, 2, hidden_units=(16,), condition_shape=(10,)),
                mlp_decoder(SHAPE, 2, hidden_units=(16,), condition_shape=(10,)), **kwargs)


class RecordBeta(keras.callbacks.Callback):
    """Records the loss identity inside each batch: loss - recon = beta * kl."""

    def __init__(self):
        super().__init__()
        self.implied = []

    def on_train_batch_end(self, batch, logs=None):
        # Batch logs are running means over the epoch; only batch 0 is one batch.
        if batch == 0 and logs["kl_loss"] > 1e-3:
            self.implied.append((logs["loss"] - logs["reconstruction_loss"]) / logs["kl_loss"])


# --- beta as state -------------------------------------------------------------


def test_beta_is_a_non_trainable_variable_and_assignable():
    vae = small_vae(beta=2.0)
    assert isinstance(vae.beta, keras.Variable) and not vae.beta.trainable
    assert vae.beta in vae.non_trainable_variables
    vae.beta = 0.5
    assert float(keras.ops.convert_to_numpy(vae.beta)) == 0.5
    with pytest.raises(ValueError, match="beta"):
        vae.beta = -1.0


def test_assigning_beta_changes_a_compiled_evaluate(digit_images):
    keras.utils.set_random_seed(0)
    vae = small_vae(beta=1.0)
    x = digit_images[0][:64]
    first = vae.evaluate(x, verbose=0, return_dict=True)  # compiles with beta = 1
    vae.beta = 3.0
    second = vae.evaluate(x, verbose=0, return_dict=True)
    assert second["loss"] == pytest.approx(
        second["reconstruction_loss"] + 3.0 * second["kl_loss"], rel=1e-5)
    assert first["loss"] == pytest.approx(first["reconstruction_loss"] + first["kl_loss"], rel=1e-5)


def test_kl_warmup_per_epoch_takes_effect_inside_compiled_fit(digit_images):
    keras.utils.set_random_seed(0)
    vae = small_vae()
    vae.compile(optimizer="adam", steps_per_execution=1)  # RecordBeta reads batch 0 alone
    recorder = RecordBeta()
    history = vae.fit(digit_images[0][:128], epochs=5, batch_size=32, verbose=0,
                      callbacks=[KLWarmup(target_beta=1.0, epochs=4), recorder])
    assert history.history["beta"] == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    # The loss identity of the first batch of each epoch shows the beta in force.
    np.testing.assert_allclose(recorder.implied, [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-3)


@pytest.mark.parametrize("steps_per_execution, expected", [
    (1, [0.3, 0.7, 0.8]),  # 4 steps per epoch: epoch 0 ends at step 3 (beta 0.3)...
    (2, [0.2, 0.6, 0.8]),  # two steps per call: beta set at steps 0, 2, 4, 6, 8
    (16, [0.0, 0.4, 0.8]),  # the default: one call per 4-step epoch
])
def test_kl_warmup_per_step_takes_effect_inside_compiled_fit(digit_images, steps_per_execution,
                                                             expected):
    keras.utils.set_random_seed(0)
    vae = small_vae()
    vae.compile(optimizer="adam", **({} if steps_per_execution == 16
                                     else {"steps_per_execution": steps_per_execution}))
    assert vae.steps_per_execution == steps_per_execution
    history = vae.fit(digit_images[0][:128], epochs=3, batch_size=32, verbose=0,
                      callbacks=[KLWarmup(target_beta=0.8, steps=8)])
    assert history.history["beta"] == pytest.approx(expected)
    # The epoch's loss is the mean over its steps of recon + beta_step * kl_step:
    # with beta rising within epoch 0, loss - recon lies strictly between 0 and
    # 0.8 * kl; with one call per epoch, epoch 0 trains at beta = 0 throughout.
    first = history.history["loss"][0] - history.history["reconstruction_loss"][0]
    if steps_per_execution < 4:
        assert 0 < first < 0.8 * history.history["kl_loss"][0]
    else:
        assert first == pytest.approx(0.0, abs=1e-4)


def test_kl_warmup_rejects_bad_arguments():
    with pytest.raises(ValueError, match="exactly one"):
        KLWarmup(1.0)
    with pytest.raises(ValueError, match="exactly one"):
        KLWarmup(1.0, epochs=2, steps=3)
    with pytest.raises(ValueError, match="epochs"):
        KLWarmup(1.0, epochs=0)
    with pytest.raises(ValueError, match="target_beta"):
        KLWarmup(-1.0, epochs=2)


def test_beta_round_trips_through_a_keras_file(digit_images, tmp_path):
    keras.utils.set_random_seed(0)
    vae = small_vae(beta=1.0, free_bits=0.25)
    vae.fit(digit_images[0][:64], epochs=2, batch_size=32, verbose=0,
            callbacks=[KLWarmup(target_beta=0.4, epochs=4)])
    path = tmp_path / "warm.keras"
    vae.save(path)
    loaded = keras.models.load_model(path)
    assert float(keras.ops.convert_to_numpy(loaded.beta)) == pytest.approx(0.1)
    assert loaded.free_bits == 0.25 and loaded.exact_likelihood
    assert loaded.get_config()["dtype"] == vae.get_config()["dtype"]


def test_free_bits_floor_the_kl_in_the_loss_but_not_in_the_metric(digit_images):
    keras.utils.set_random_seed(0)
    lam = 5.0  # far above the untrained model's per-dimension KL
    vae = small_vae(latent_dim=3, free_bits=lam)
    x = digit_images[0][:64]
    z_mean, z_log_var = vae.encode(x)
    kl_dims = -0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var))
    assert np.all(kl_dims.mean(axis=0) < lam)
    scores = vae.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    assert scores["kl_loss"] == pytest.approx(kl_dims.sum(axis=1).mean(), rel=1e-4)
    assert scores["loss"] == pytest.approx(scores["reconstruction_loss"] + 3 * lam, rel=1e-5)


def test_free_bits_rejects_negative():
    with pytest.raises(ValueError, match="free_bits"):
        small_vae(free_bits=-0.1)


def test_get_config_starts_from_the_base_config():
    vae = small_vae(beta=0.7)
    config = vae.get_config()
    for key in ("name", "trainable", "dtype", "beta", "likelihood", "from_logits", "free_bits"):
        assert key in config
    assert config["beta"] == pytest.approx(0.7)
    clone = vae_keras.VariationalAutoencoder.from_config(config)
    assert clone.name == vae.name and clone.dtype_policy.name == vae.dtype_policy.name


# --- the API a Keras user reaches for ------------------------------------------------


def test_top_level_exports():
    from vae_keras import active_units, binarize, elbo, load_mnist, log_likelihood  # noqa: F401

    assert vae_keras.__all__ == sorted(vae_keras.__all__)
    for name in vae_keras.__all__:
        assert hasattr(vae_keras, name), name


def test_encode_decode_sample_shapes_and_seeds(digit_images):
    vae = small_vae(latent_dim=3)
    z_mean, z_log_var = vae.encode(digit_images[0][:5])
    assert z_mean.shape == z_log_var.shape == (5, 3)
    assert vae.decode(z_mean).shape == (5,) + SHAPE
    a, b, c = vae.sample(4, seed=1), vae.sample(4, seed=1), vae.sample(4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        vae.decode(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unconditional"):
        vae.decode(np.zeros((2, 3)), condition=np.zeros((2, 10)))


def test_predict_matches_decoding_an_encoded_sample(digit_images):
    """predict(x) == decode(z_mean + sigma * eps) with the Sampling layer's own noise."""
    keras.utils.set_random_seed(0)
    x = digit_images[0][:6]
    encoder = mlp_encoder(SHAPE, 2, hidden_units=(16,))
    decoder = mlp_decoder(SHAPE, 2, hidden_units=(16,))
    vae = VAE(SHAPE, encoder, decoder, Sampling(seed=11))
    predicted = vae.predict(x, batch_size=6, verbose=0)
    z_mean, z_log_var = vae.encode(x)
    eps = keras.ops.convert_to_numpy(keras.random.normal(
        (6, 2), seed=keras.random.SeedGenerator(11)))
    expected = vae.decode(z_mean + np.exp(0.5 * z_log_var) * eps)
    np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-5)


def test_cvae_decode_and_sample_need_a_condition(digit_images):
    cvae = small_cvae()
    labels = one_hot(np.arange(4) % 10)
    assert cvae.sample(4, seed=0, condition=labels).shape == (4,) + SHAPE
    with pytest.raises(ValueError, match="condition"):
        cvae.sample(4, seed=0)
    with pytest.raises(ValueError, match="one row per code"):
        cvae.decode(np.zeros((3, 2)), condition=labels)


def test_cvae_trains_on_a_tf_data_dataset_of_pairs(digit_images):
    tf = pytest.importorskip("tensorflow")
    x, y = digit_images
    dataset = tf.data.Dataset.from_tensor_slices((x[:64], one_hot(y[:64]))).batch(16)
    cvae = small_cvae()
    history = cvae.fit(dataset, epochs=2, verbose=0, validation_data=dataset)
    assert np.isfinite(history.history["val_loss"]).all()
    wrong = tf.data.Dataset.from_tensor_slices((x[:8], one_hot(y[:8]), y[:8])).batch(4)
    with pytest.raises(ValueError, match=r"pairs \(x, c\)"):
        cvae.fit(wrong, epochs=1, verbose=0)


def test_vae_refuses_a_labelled_tf_data_dataset(digit_images):
    tf = pytest.importorskip("tensorflow")
    x, y = digit_images
    dataset = tf.data.Dataset.from_tensor_slices((x[:16], y[:16])).batch(8)
    with pytest.raises(ValueError, match="Drop the labels"):
        small_vae().fit(dataset, epochs=1, verbose=0)
    unlabelled = tf.data.Dataset.from_tensor_slices(x[:16]).batch(8)
    assert np.isfinite(small_vae().fit(unlabelled, epochs=1, verbose=0).history["loss"][0])


# --- dynamic binarisation ------------------------------------------------------------


def test_dynamic_binarization_redraws_every_epoch_with_the_right_rate(grey_digit_images):
    x = np.full((400, 6), 0.3, dtype="float32")
    data = DynamicBinarization(x, batch_size=400, shuffle=False, seed=5)
    (first,) = data[0]
    assert set(np.unique(first)) <= {0.0, 1.0}
    assert first.mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.21 / first.size))
    (again,) = data[0]
    np.testing.assert_array_equal(first, again)  # same epoch, same draw
    data.on_epoch_end()
    (second,) = data[0]
    assert not np.array_equal(first, second)
    assert len(DynamicBinarization(grey_digit_images[0], batch_size=100)) == 3


def test_dynamic_binarization_trains_a_vae_and_a_cvae(grey_digit_images):
    x, y = grey_digit_images
    history = small_vae().fit(DynamicBinarization(x[:64], 32), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    data = DynamicBinarization(x[:64], 32, condition=one_hot(y[:64]))
    assert np.isfinite(small_cvae().fit(data, epochs=1, verbose=0).history["loss"]).all()


def test_dynamic_binarization_rejects_bad_input(grey_digit_images):
    with pytest.raises(ValueError, match="uint8"):
        DynamicBinarization(np.full((4, 3), 200, np.uint8))
    with pytest.raises(ValueError, match="one row per image"):
        DynamicBinarization(grey_digit_images[0][:4], condition=np.zeros((3, 10)))
    with pytest.raises(ValueError, match="batch_size"):
        DynamicBinarization(grey_digit_images[0][:4], batch_size=0)


# --- evaluation: seeds and sampling layers ---------------------------------------


def test_log_likelihood_same_seed_same_estimate_whatever_the_batch_size(digit_images):
    keras.utils.set_random_seed(0)
    vae = small_vae()
    x = digit_images[0][:30]
    estimates = [log_likelihood(vae, x, num_samples=7, batch_size=b, seed=4) for b in (1, 8, 30)]
    for other in estimates[1:]:
        np.testing.assert_allclose(other, estimates[0], rtol=1e-5)
    different = log_likelihood(vae, x, num_samples=7, batch_size=8, seed=5)
    assert not np.allclose(different, estimates[0])


class ShiftedSampling(keras.layers.Layer):
    def call(self, inputs):
        z_mean, z_log_var = inputs
        return z_mean + 1.0 + keras.ops.exp(0.5 * z_log_var) * keras.random.normal(
            keras.ops.shape(z_mean))


def test_log_likelihood_refuses_a_sampling_layer_it_cannot_evaluate(digit_images):
    vae = VAE(SHAPE, mlp_encoder(SHAPE, 2, hidden_units=(8,)),
              mlp_decoder(SHAPE, 2, hidden_units=(8,)), ShiftedSampling())
    with pytest.raises(ValueError, match="ShiftedSampling"):
        log_likelihood(vae, digit_images[0][:4], num_samples=2)
    with pytest.raises(ValueError, match="ShiftedSampling"):
        vae_keras.elbo(vae, digit_images[0][:4])


def test_evaluation_refuses_grey_and_uint8_data(grey_digit_images):
    vae = small_vae()
    with pytest.raises(ValueError, match="binary data only"):
        log_likelihood(vae, grey_digit_images[0][:4], num_samples=2)
    with pytest.raises(ValueError, match="uint8"):
        vae_keras.active_units(vae.encoder, np.full((4, 28, 28, 1), 255, np.uint8))
