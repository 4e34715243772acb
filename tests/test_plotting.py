"""Tests of vae_keras.plotting: figure contents, grid order, one predict per grid, errors."""

from statistics import NormalDist

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vae_keras import CVAE, VAE  # noqa: E402
from vae_keras import plotting  # noqa: E402
from vae_keras.architectures import mlp_decoder, mlp_encoder  # noqa: E402

SIDE = 28
TILE = SIDE + 1  # one gap pixel between tiles


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def count_predicts(monkeypatch):
    """Wraps ``model.predict``; the returned list gets each call's batch size."""

    def wrap(model):
        calls = []
        original = model.predict

        def predict(*args, **kwargs):
            calls.append(len(keras.tree.flatten(args[0])[0]))
            return original(*args, **kwargs)

        monkeypatch.setattr(model, "predict", predict)
        return calls

    return wrap


def linear_decoder(weights, condition_shape=None):
    """z -> sigmoid(z . weights) in every pixel: the image says which z it came from."""
    z = keras.Input((len(weights),))
    inputs, features = z, z
    if condition_shape is not None:
        c = keras.Input(condition_shape)
        inputs, features = [z, c], keras.layers.Concatenate()([z, c])
    dense = keras.layers.Dense(SIDE * SIDE, activation="sigmoid", use_bias=False)
    pixels = keras.layers.Reshape((SIDE, SIDE, 1))(dense(features))
    model = keras.Model(inputs, pixels)
    kernel = np.zeros((features.shape[-1], SIDE * SIDE), dtype="float32")
    kernel[:len(weights)] = np.asarray(weights, dtype="float32")[:, None]
    if condition_shape is not None:
        kernel[len(weights):] = 1.0  # the condition shifts every pixel
    dense.set_weights([kernel])
    return model


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def grid_image(fig, axes_index=0):
    """The tiled canvas of an image-grid figure and its (rows, cols) of tiles."""
    ax = fig.axes[axes_index]
    assert len(ax.images) == 1
    canvas = np.asarray(ax.images[0].get_array(), dtype="float64")
    rows, cols = (canvas.shape[0] + 1) // TILE, (canvas.shape[1] + 1) // TILE
    return canvas, rows, cols


def tile(canvas, row, col):
    return canvas[row * TILE:row * TILE + SIDE, col * TILE:col * TILE + SIDE]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = (rng.random((40, SIDE, SIDE, 1)) < 0.5).astype("float32")  # binary: Bernoulli data
    labels = np.arange(40) % 10
    return x, labels, np.eye(10, dtype="float32")[labels]


@pytest.fixture(scope="module")
def vae():
    keras.utils.set_random_seed(0)
    return VAE((SIDE, SIDE, 1), mlp_encoder((SIDE, SIDE, 1), 3, (16,)),
               mlp_decoder((SIDE, SIDE, 1), 3, (16,)))


@pytest.fixture(scope="module")
def cvae():
    keras.utils.set_random_seed(1)
    return CVAE((SIDE, SIDE, 1), (10,),
                mlp_encoder((SIDE, SIDE, 1), 2, (16,), condition_shape=(10,)),
                mlp_decoder((SIDE, SIDE, 1), 2, (16,), condition_shape=(10,)))


@pytest.mark.parametrize("shape", [(23, SIDE, SIDE, 1), (23, SIDE, SIDE), (23, SIDE * SIDE)])
def test_plot_images_tiles_every_image_in_order(shape):
    images = np.random.default_rng(0).random(shape).astype("float32")
    fig = plotting.plot_images(images, n_cols=10, title="digits", row_labels=["a", "b", "c"])
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (3, 10)
    flat = images.reshape(23, SIDE, SIDE)
    for i in (0, 9, 10, 22):
        np.testing.assert_allclose(tile(canvas, *divmod(i, 10)), flat[i], rtol=1e-6)
    assert np.isnan(tile(canvas, 2, 9)).all()  # no 24th image
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b", "c"]
    assert fig.axes[0].get_title() == "digits"


def test_plot_images_rejects_bad_input():
    with pytest.raises(ValueError, match="images"):
        plotting.plot_images(np.zeros((4, 5)))  # 5 pixels are not a square
    with pytest.raises(ValueError, match="n_cols"):
        plotting.plot_images(np.zeros((4, 28, 28)), n_cols=0)
    with pytest.raises(ValueError, match="row_labels"):
        plotting.plot_images(np.zeros((4, 28, 28)), n_cols=2, row_labels=["only one"])


def test_plot_samples_one_batched_predict(count_predicts):
    decoder = linear_decoder([1.0, 0.0])
    calls = count_predicts(decoder)
    fig = plotting.plot_samples(decoder, n=30, seed=3)
    assert calls == [30]
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (3, 10)
    z = np.random.default_rng(3).standard_normal((30, 2))
    np.testing.assert_allclose(tile(canvas, 1, 4).mean(), sigmoid(z[14, 0]), rtol=1e-5)
    assert "N(0, I)" in fig.axes[0].get_title()


def test_plot_samples_conditional_broadcasts_one_condition(count_predicts):
    decoder = linear_decoder([0.0, 0.0], condition_shape=(3,))
    calls = count_predicts(decoder)
    canvas, rows, cols = grid_image(plotting.plot_samples(decoder, n=5, condition=[1, 1, 0]))
    assert calls == [5] and (rows, cols) == (1, 5)
    np.testing.assert_allclose(canvas[~np.isnan(canvas)], sigmoid(2.0), rtol=1e-5)
    with pytest.raises(ValueError, match="condition"):
        plotting.plot_samples(decoder, n=5)
    with pytest.raises(ValueError, match="condition"):
        plotting.plot_samples(decoder, n=5, condition=np.ones((2, 3)))
    with pytest.raises(ValueError, match="condition"):
        plotting.plot_samples(linear_decoder([1.0]), n=5, condition=[1.0])


def test_plot_manifold_grid_is_quantiles_with_z1_up(count_predicts):
    decoder = linear_decoder([1.0, 0.5])
    calls = count_predicts(decoder)
    n = 7
    fig = plotting.plot_manifold(decoder, n=n)
    assert calls == [n * n]
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (n, n)
    values = [NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, n)]
    for row, col in [(0, 0), (0, n - 1), (n - 1, 0), (3, 5)]:
        z0, z1 = values[col], values[n - 1 - row]  # top row = largest z[1]
        np.testing.assert_allclose(tile(canvas, row, col).mean(), sigmoid(z0 + 0.5 * z1),
                                   rtol=1e-5)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"
    assert ax.get_xticklabels()[0].get_text() == f"{values[0]:.2f}" == "-1.64"


def test_plot_manifold_limit_and_errors():
    canvas, rows, _ = grid_image(plotting.plot_manifold(linear_decoder([1.0, 0.0]), n=3,
                                                        limit=2.0))
    np.testing.assert_allclose([tile(canvas, 0, c).mean() for c in range(3)],
                               sigmoid(np.array([-2.0, 0.0, 2.0])), rtol=1e-5)
    with pytest.raises(ValueError, match="2-D latent"):
        plotting.plot_manifold(linear_decoder([1.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="limit"):
        plotting.plot_manifold(linear_decoder([1.0, 0.0]), limit=-1)


def test_plot_traversal_rows_are_dimensions(count_predicts):
    decoder = linear_decoder([1.0, -2.0, 0.0])
    calls = count_predicts(decoder)
    base = np.array([0.5, 0.25, 0.0])
    values = np.linspace(-2, 2, 5)
    fig = plotting.plot_traversal(decoder, base, dims=[0, 1], values=values)
    assert calls == [10]
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (2, 5)
    for col, v in enumerate(values):
        np.testing.assert_allclose(tile(canvas, 0, col).mean(), sigmoid(v - 2 * 0.25), rtol=1e-5)
        np.testing.assert_allclose(tile(canvas, 1, col).mean(), sigmoid(0.5 - 2 * v), rtol=1e-5)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["z[0]", "z[1]"]
    with pytest.raises(ValueError, match="dims"):
        plotting.plot_traversal(decoder, base, dims=[3])
    with pytest.raises(ValueError, match="`z`"):
        plotting.plot_traversal(decoder, np.zeros(2))


def test_plot_reconstructions_vae(count_predicts, vae, data):
    x, _, _ = data
    encoder_calls, decoder_calls = count_predicts(vae.encoder), count_predicts(vae.decoder)
    fig = plotting.plot_reconstructions(vae, x, n=8, seed=0)
    assert encoder_calls == [8] and decoder_calls == [8]
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (2, 8)
    index = np.sort(np.random.default_rng(0).choice(len(x), 8, replace=False))
    np.testing.assert_allclose(tile(canvas, 0, 3), x[index[3], ..., 0], rtol=1e-6)
    z_mean = vae.encoder.predict(x[index], verbose=0)[0]
    expected = vae.decoder.predict(z_mean, verbose=0)
    np.testing.assert_allclose(tile(canvas, 1, 3), expected[3, ..., 0], rtol=1e-4, atol=1e-6)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["original", "reconstruction"]


def test_plot_reconstructions_cvae_uses_the_condition(count_predicts, cvae, data):
    x, _, c = data
    calls = count_predicts(cvae.decoder)
    canvas, rows, cols = grid_image(plotting.plot_reconstructions(cvae, [x[:5], c[:5]], n=10))
    assert calls == [5] and (rows, cols) == (2, 5)  # fewer rows than n: all, in order
    np.testing.assert_allclose(tile(canvas, 0, 4), x[4, ..., 0], rtol=1e-6)


def test_plot_latent_scatter(count_predicts, vae, cvae, data):
    x, labels, c = data
    calls = count_predicts(vae.encoder)
    fig = plotting.plot_latent_scatter(vae.encoder, x, labels)
    assert calls == [len(x)]
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the scatter and its colour bar
    assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"
    offsets = ax.collections[0].get_offsets()
    z_mean = vae.encoder.predict(x, verbose=0)[0]
    np.testing.assert_allclose(offsets, z_mean[:, :2], rtol=1e-5, atol=1e-6)
    fig = plotting.plot_latent_scatter(cvae.encoder, [x, c], labels, title="cvae")
    assert fig.axes[0].get_title() == "cvae"
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_latent_scatter(vae.encoder, x, labels[:5])


def test_plot_interpolation_rows(count_predicts, vae, cvae, data):
    x, _, c = data
    decoder_calls = count_predicts(vae.decoder)
    fig = plotting.plot_interpolation(vae.encoder, vae.decoder, x[0], x[1], steps=6)
    assert decoder_calls == [6]
    canvas, rows, cols = grid_image(fig)
    assert (rows, cols) == (2, 6)
    np.testing.assert_allclose(tile(canvas, 0, 0), x[0, ..., 0], rtol=1e-6)
    np.testing.assert_allclose(tile(canvas, 0, 5), x[1, ..., 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tile(canvas, 0, 2), 0.6 * x[0, ..., 0] + 0.4 * x[1, ..., 0],
                               rtol=1e-5, atol=1e-6)
    z_mean = vae.encoder.predict(x[:2], verbose=0)[0]
    end = vae.decoder.predict(z_mean[1:], verbose=0)[0, ..., 0]
    np.testing.assert_allclose(tile(canvas, 1, 5), end, rtol=1e-4, atol=1e-6)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["pixel space", "latent space"]
    _, rows, cols = grid_image(plotting.plot_interpolation(
        cvae.encoder, cvae.decoder, [x[0], c[0]], [x[1], c[1]], steps=4))
    assert (rows, cols) == (2, 4)
    with pytest.raises(ValueError, match="steps"):
        plotting.plot_interpolation(vae.encoder, vae.decoder, x[0], x[1], steps=1)


def test_plot_history_panels_and_validation_curves():
    history = {"loss": [3.0, 2.0, 1.5], "reconstruction_loss": [2.5, 1.8, 1.3],
               "kl_loss": [0.5, 0.2, 0.2], "val_loss": [3.1, 2.2, 1.9]}
    fig = plotting.plot_history(history, title="training")
    assert len(fig.axes) == 3
    loss_ax = fig.axes[0]
    assert len(loss_ax.lines) == 2  # train and validation
    assert len(fig.axes[1].lines) == 1
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert loss_ax.get_ylabel() == "nats per example" and loss_ax.get_xlabel() == "epoch"
    assert len(plotting.plot_history(history, keys=("kl_loss",)).axes) == 1
    with pytest.raises(ValueError, match="beta_loss"):
        plotting.plot_history(history, keys=("loss", "beta_loss"))


def test_plot_history_accepts_a_keras_history(vae, data):
    history = vae.fit(data[0][:32], epochs=2, batch_size=16, verbose=0,
                      validation_data=(data[0][32:],))
    fig = plotting.plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "reconstruction_loss", "kl_loss"]
    assert all(len(ax.lines) == 2 for ax in fig.axes)
