"""Tests of vae_keras.architectures: shapes, parameter counts, conditioning, argument checks."""

import keras
import numpy as np
import pytest

from vae_keras import CVAE, VAE
from vae_keras.architectures import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder

IMAGE = (28, 28, 1)
PIXELS = 28 * 28


def dense_params(n_in, n_out):
    return n_in * n_out + n_out


def conv_params(kernel, c_in, c_out):
    return kernel * kernel * c_in * c_out + c_out


# --- independent parameter counts (closed forms, layer by layer) -------------

def mlp_encoder_count(d_in, hidden, latent, k=0):
    sizes = [d_in + k, *hidden]
    body = sum(dense_params(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
    return body + 2 * dense_params(hidden[-1], latent)


def mlp_decoder_count(d_out, hidden, latent, k=0):
    sizes = [latent + k, *hidden, d_out]
    return sum(dense_params(a, b) for a, b in zip(sizes[:-1], sizes[1:]))


def conv_encoder_count(filters, dense, latent, k=0, channels=1, side=28):
    flat = (side // 4) ** 2 * filters[1]
    return (conv_params(3, channels, filters[0]) + conv_params(3, filters[0], filters[1])
            + dense_params(flat + k, dense) + 2 * dense_params(dense, latent))


def conv_decoder_count(filters, dense, latent, k=0, channels=1, side=28):
    spatial = (side // 4) ** 2 * filters[0]
    return (dense_params(latent + k, dense) + dense_params(dense, spatial)
            + conv_params(3, filters[0], filters[0]) + conv_params(3, filters[0], filters[1])
            + conv_params(3, filters[1], channels))


@pytest.mark.parametrize("condition_shape, k", [(None, 0), ((10,), 10), ((2, 5), 10)])
def test_mlp_shapes_and_parameter_counts(condition_shape, k):
    encoder = mlp_encoder(IMAGE, 3, hidden_units=(32, 16), condition_shape=condition_shape)
    decoder = mlp_decoder(IMAGE, 3, hidden_units=(16, 32), condition_shape=condition_shape)
    assert encoder.count_params() == mlp_encoder_count(PIXELS, (32, 16), 3, k)
    assert decoder.count_params() == mlp_decoder_count(PIXELS, (16, 32), 3, k)
    assert [t.shape for t in encoder.outputs] == [(None, 3), (None, 3)]
    assert tuple(decoder.output.shape) == (None,) + IMAGE
    assert [layer.name for layer in encoder.layers][-2:] == ["z_mean", "z_log_var"]
    expected_inputs = 1 if condition_shape is None else 2
    assert len(encoder.inputs) == expected_inputs and len(decoder.inputs) == expected_inputs


def test_mlp_default_sizes_match_the_brief():
    assert mlp_encoder((784,), 2).count_params() == mlp_encoder_count(784, (512, 256), 2)
    assert mlp_decoder((784,), 2).count_params() == mlp_decoder_count(784, (256, 512), 2)
    assert tuple(mlp_decoder((784,), 2).output.shape) == (None, 784)


@pytest.mark.parametrize("condition_shape, k", [(None, 0), ((10,), 10)])
def test_conv_shapes_and_parameter_counts(condition_shape, k):
    encoder = conv_encoder(IMAGE, 4, filters=(8, 16), dense_units=32,
                           condition_shape=condition_shape)
    decoder = conv_decoder(IMAGE, 4, filters=(16, 8), dense_units=32,
                           condition_shape=condition_shape)
    assert encoder.count_params() == conv_encoder_count((8, 16), 32, 4, k)
    assert decoder.count_params() == conv_decoder_count((16, 8), 32, 4, k)
    assert [t.shape for t in encoder.outputs] == [(None, 4), (None, 4)]
    assert tuple(decoder.output.shape) == (None,) + IMAGE


def test_conv_defaults_and_other_image_sizes():
    assert conv_encoder().count_params() == conv_encoder_count((32, 64), 128, 2)
    assert conv_decoder().count_params() == conv_decoder_count((64, 32), 128, 2)
    decoder = conv_decoder((32, 16, 3), 2, filters=(4, 4), dense_units=8)
    assert tuple(decoder.output.shape) == (None, 32, 16, 3)
    # 32x16 halves twice to 8x4; 4 filters there.
    assert decoder.count_params() == (dense_params(2, 8) + dense_params(8, 8 * 4 * 4)
                                      + conv_params(3, 4, 4) + conv_params(3, 4, 4)
                                      + conv_params(3, 4, 3))


def _predict(model, inputs):
    return np.asarray(model.predict(inputs, verbose=0))


@pytest.mark.parametrize("family", ["mlp", "conv"])
def test_condition_changes_the_outputs(family):
    keras.utils.set_random_seed(0)
    if family == "mlp":
        encoder = mlp_encoder(IMAGE, 2, (16,), condition_shape=(10,))
        decoder = mlp_decoder(IMAGE, 2, (16,), condition_shape=(10,))
    else:
        encoder = conv_encoder(IMAGE, 2, (4, 8), 16, condition_shape=(10,))
        decoder = conv_decoder(IMAGE, 2, (8, 4), 16, condition_shape=(10,))
    rng = np.random.default_rng(0)
    x = rng.random((4,) + IMAGE).astype("float32")
    z = rng.standard_normal((4, 2)).astype("float32")
    c_a = np.eye(10, dtype="float32")[[0, 1, 2, 3]]
    c_b = np.eye(10, dtype="float32")[[5, 6, 7, 8]]
    decoded_a, decoded_b = _predict(decoder, [z, c_a]), _predict(decoder, [z, c_b])
    assert np.abs(decoded_a - decoded_b).max() > 1e-4
    z_mean_a = _predict(encoder, [x, c_a])
    z_mean_b = _predict(encoder, [x, c_b])
    assert np.abs(z_mean_a - z_mean_b).max() > 1e-5
    # Same inputs, same outputs: the difference comes from c, not from noise.
    np.testing.assert_allclose(_predict(decoder, [z, c_a]), decoded_a, rtol=1e-6)


def test_output_activations():
    z = np.random.default_rng(1).standard_normal((8, 2)).astype("float32") * 10
    sigmoid = _predict(mlp_decoder((784,), 2, (8,)), z)
    assert sigmoid.min() >= 0.0 and sigmoid.max() <= 1.0
    for activation in (None, "linear"):
        keras.utils.set_random_seed(0)
        linear = _predict(conv_decoder(IMAGE, 2, (4, 4), 8, output_activation=activation), z)
        assert linear.min() < 0.0  # unbounded Gaussian means


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_builds_and_trains_a_vae_and_a_cvae(kind):
    keras.utils.set_random_seed(0)
    x = (np.random.default_rng(0).random((64,) + IMAGE) < 0.3).astype("float32")
    c = np.eye(10, dtype="float32")[np.arange(64) % 10]
    make = {"mlp": (lambda **kw: mlp_encoder(IMAGE, 2, (16,), **kw),
                    lambda **kw: mlp_decoder(IMAGE, 2, (16,), **kw)),
            "conv": (lambda **kw: conv_encoder(IMAGE, 2, (4, 8), 16, **kw),
                     lambda **kw: conv_decoder(IMAGE, 2, (8, 4), 16, **kw))}[kind]
    vae = VAE(IMAGE, make[0](), make[1]())
    history = vae.fit(x, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    cvae = CVAE(IMAGE, (10,), make[0](condition_shape=(10,)), make[1](condition_shape=(10,)))
    history = cvae.fit([x, c], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


BAD_ARGUMENTS = [
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=0), "latent_dim"),
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=2.0), "latent_dim"),
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=True), "latent_dim"),
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=2, hidden_units=()), "hidden_units"),
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=2, hidden_units=(8, -1)), "hidden_units"),
    (mlp_encoder, dict(input_shape=(28, 0), latent_dim=2), "input_shape"),
    (mlp_encoder, dict(input_shape=IMAGE, latent_dim=2, condition_shape=(0,)),
     "condition_shape"),
    (mlp_decoder, dict(output_shape=IMAGE, latent_dim=2, output_activation="relu"),
     "output_activation"),
    (mlp_decoder, dict(output_shape=IMAGE, latent_dim=2, hidden_units=512), "hidden_units"),
    (mlp_decoder, dict(output_shape="784", latent_dim=2), "output_shape"),
    (conv_encoder, dict(input_shape=(30, 30, 1)), "divisible by 4"),
    (conv_encoder, dict(input_shape=(784,)), "input_shape"),
    (conv_encoder, dict(filters=(32,)), "filters"),
    (conv_encoder, dict(dense_units=0), "dense_units"),
    (conv_decoder, dict(output_shape=(26, 28, 1)), "divisible by 4"),
    (conv_decoder, dict(latent_dim=-1), "latent_dim"),
    (conv_decoder, dict(output_activation="tanh"), "output_activation"),
]


@pytest.mark.parametrize("builder, kwargs, message", BAD_ARGUMENTS)
def test_bad_arguments_raise_value_error(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(**kwargs)


def test_error_message_shows_the_received_value():
    with pytest.raises(ValueError, match=r"received \(30, 30, 1\)"):
        conv_encoder((30, 30, 1))
