"""Tests for vae_keras.data with fake npz files in Keras' mnist.npz format.

No test touches the network: the download path is exercised with a
monkeypatched ``keras.datasets.mnist.load_data``.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

from vae_keras import data
from vae_keras.data import binarize, by_mode, fast_mode, flatten, load_mnist, one_hot

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist-t10k-split.npz"


@pytest.fixture
def no_env(monkeypatch):
    """Neither the MNIST path nor fast mode comes from the caller's shell."""
    monkeypatch.delenv(data.MNIST_ENV, raising=False)
    monkeypatch.delenv(data.FAST_ENV, raising=False)
    monkeypatch.delenv(data.ALL_DATA_ENV, raising=False)


def assert_scaled_like(loaded, arrays):
    (x_train, y_train), (x_test, y_test) = loaded
    for x, y, x_key, y_key in ((x_train, y_train, "x_train", "y_train"),
                               (x_test, y_test, "x_test", "y_test")):
        raw = arrays[x_key]
        assert x.shape == raw.shape + (1,)
        assert x.dtype == np.float32
        assert x.min() >= 0.0 and x.max() <= 1.0
        np.testing.assert_allclose(x[..., 0], raw.astype("float64") / 255.0, rtol=1e-6)
        assert y.dtype == np.int64 and y.shape == (len(raw),)
        np.testing.assert_array_equal(y, arrays[y_key])


# --------------------------------------------------------------------------
# load_mnist
# --------------------------------------------------------------------------

def test_load_mnist_from_path(fake_mnist, no_env):
    path, arrays = fake_mnist
    loaded = load_mnist(path=path)  # a pathlib.Path
    assert loaded[0][0].shape == (64, 28, 28, 1) and loaded[1][0].shape == (16, 28, 28, 1)
    assert_scaled_like(loaded, arrays)
    assert_scaled_like(load_mnist(path=str(path)), arrays)  # and a str
    # The grey edge column survives scaling: values strictly inside (0, 1) exist.
    x_train = loaded[0][0]
    assert np.any((x_train > 0) & (x_train < 1))


def test_load_mnist_keeps_the_first_n_images_of_each_split(fake_mnist, no_env):
    path, arrays = fake_mnist
    (x_train, y_train), (x_test, y_test) = load_mnist(path=path, n_train=10, n_test=3)
    assert x_train.shape == (10, 28, 28, 1) and x_test.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(x_train[..., 0], arrays["x_train"][:10] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, arrays["y_test"][:3])
    # Exactly as many images as the source holds is allowed.
    assert load_mnist(path=path, n_train=64)[0][0].shape == (64, 28, 28, 1)


def test_the_data_rule_gives_the_same_shapes_whatever_the_source(tmp_path, no_env):
    """The course's numbers of images from a file shaped like the offline split
    and from one shaped like Keras' download (60,000 / 10,000)."""
    rng = np.random.default_rng(0)
    shapes = {}
    for name, (n_train, n_test) in {"offline": (8000, 2000), "download": (60000, 10000)}.items():
        path = tmp_path / f"{name}.npz"
        np.savez(path, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                 y_train=rng.integers(0, 10, n_train).astype(np.uint8),
                 x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                 y_test=rng.integers(0, 10, n_test).astype(np.uint8))
        (x_train, y_train), (x_test, y_test) = load_mnist(path, n_train=data.N_TRAIN,
                                                          n_test=data.N_TEST)
        shapes[name] = (x_train.shape, y_train.shape, x_test.shape, y_test.shape)
    assert shapes["offline"] == shapes["download"] == (
        (8000, 28, 28, 1), (8000,), (2000, 28, 28, 1), (2000,))


def test_load_mnist_refuses_more_images_than_the_source_holds(fake_mnist, no_env):
    path, _ = fake_mnist
    with pytest.raises(ValueError, match=r"`n_train`=65 .*holds \(64\)"):
        load_mnist(path=path, n_train=65)
    with pytest.raises(ValueError, match=r"`n_test`=17 .*held-out.*\(16\)"):
        load_mnist(path=path, n_test=17)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "8000", True])
def test_load_mnist_refuses_a_bad_number_of_images(fake_mnist, no_env, bad):
    path, _ = fake_mnist
    with pytest.raises(ValueError, match="`n_train` must be a positive int"):
        load_mnist(path=path, n_train=bad)


def test_all_data_switch_lifts_the_caps(fake_mnist, no_env, monkeypatch):
    path, _ = fake_mnist
    assert not data.all_data()
    monkeypatch.setenv(data.ALL_DATA_ENV, "1")
    assert data.all_data()
    (x_train, _), (x_test, _) = load_mnist(path=path, n_train=10, n_test=3)
    assert len(x_train) == 64 and len(x_test) == 16


def test_load_mnist_from_environment_variable(fake_mnist, no_env, monkeypatch):
    path, arrays = fake_mnist
    monkeypatch.setenv(data.MNIST_ENV, str(path))
    assert_scaled_like(load_mnist(), arrays)


def test_path_argument_overrides_environment_variable(tmp_path, no_env, monkeypatch,
                                                      write_mnist_npz):
    env_file, arg_file = tmp_path / "env.npz", tmp_path / "arg.npz"
    write_mnist_npz(env_file, n_train=5, n_test=3, seed=1)
    arg_arrays = write_mnist_npz(arg_file, n_train=7, n_test=4, seed=2)
    monkeypatch.setenv(data.MNIST_ENV, str(env_file))
    loaded = load_mnist(path=arg_file)
    assert loaded[0][0].shape == (7, 28, 28, 1) and loaded[1][0].shape == (4, 28, 28, 1)
    assert_scaled_like(loaded, arg_arrays)
    # Even a broken environment variable does not matter when path= is given.
    monkeypatch.setenv(data.MNIST_ENV, str(tmp_path / "missing.npz"))
    assert load_mnist(path=arg_file)[0][0].shape == (7, 28, 28, 1)


def test_file_missing_a_key_raises_value_error_naming_keys(tmp_path, no_env, write_mnist_npz):
    path = tmp_path / "partial.npz"
    write_mnist_npz(path, drop=("y_test",))
    with pytest.raises(ValueError) as info:
        load_mnist(path=path)
    message = str(info.value)
    assert "y_test" in message
    for key in ("x_train", "y_train", "x_test"):  # the expected format is spelled out
        assert key in message


def test_missing_file_raises_file_not_found(tmp_path, no_env, monkeypatch):
    missing = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_mnist(path=missing)
    monkeypatch.setenv(data.MNIST_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        load_mnist()


def test_download_failure_without_path_says_both_ways_to_fix(no_env, monkeypatch):
    def offline():
        raise OSError("Network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(RuntimeError) as info:
        load_mnist()
    message = str(info.value)
    assert "path=" in message and data.MNIST_ENV in message
    assert "Network is unreachable" in message  # the cause is not swallowed
    assert isinstance(info.value.__cause__, OSError)


def test_download_path_is_scaled_like_a_local_file(no_env, monkeypatch):
    arrays = {}
    for split, n in (("train", 6), ("test", 3)):
        images = np.random.default_rng(n).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays["x_" + split], arrays["y_" + split] = images, np.arange(n, dtype=np.uint8)
    monkeypatch.setattr(
        keras.datasets.mnist, "load_data",
        lambda: ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])),
    )
    assert_scaled_like(load_mnist(), arrays)


def test_shared_offline_mnist_file_loads_with_8000_2000_split(no_env):
    if not SHARED_MNIST.is_file():
        pytest.skip(f"no shared MNIST file next to the repository ({SHARED_MNIST.name})")
    (x_train, y_train), (x_test, y_test) = load_mnist(path=SHARED_MNIST)
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    # MNIST digits cover roughly 10-20 % of the pixels with ink.
    assert 0.05 < float(x_train.mean()) < 0.25


# --------------------------------------------------------------------------
# binarize
# --------------------------------------------------------------------------

def test_stochastic_binarize_is_seeded_and_unbiased():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(200, 28, 28, 1)).astype("float32")
    first = binarize(x, seed=3)
    assert first.shape == x.shape and first.dtype == np.float32
    assert set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first, binarize(x, method="stochastic", seed=3))
    assert not np.array_equal(first, binarize(x, seed=4))
    # E[b] = x: overall mean, with its standard error from Var[b] = x (1 - x).
    x64 = x.astype("float64")
    standard_error = np.sqrt(np.sum(x64 * (1 - x64))) / x.size
    assert abs(first.mean() - x64.mean()) < 5 * standard_error
    # ... and per intensity bin (pixels with x near 0.1 are on ~10 % of the time).
    bins = np.digitize(x64, np.linspace(0, 1, 11)[1:-1])
    for b in range(10):
        sel = bins == b
        p = x64[sel].mean()
        assert abs(first[sel].mean() - p) < 5 * np.sqrt(p * (1 - p) / sel.sum()) + 1e-9


def test_stochastic_binarize_keeps_exact_zeros_and_ones():
    x = np.array([[0.0, 1.0] * 50], dtype="float32")
    np.testing.assert_array_equal(binarize(x, seed=1), x)


def test_threshold_binarize():
    x = np.array([[0.0, 0.2, 0.5, 0.5001, 0.9, 1.0]], dtype="float32")
    np.testing.assert_array_equal(binarize(x, method="threshold"),
                                  [[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(binarize(x, method="threshold", threshold=0.1),
                                  [[0.0, 1.0, 1.0, 1.0, 1.0, 1.0]])
    assert binarize(x, method="threshold").dtype == np.float32


@pytest.mark.parametrize("bad, match", [([1.5], r"\[0, 1\]"), ([-0.1], r"\[0, 1\]"),
                                        ([np.nan], "NaN"), ([np.inf], "inf"),
                                        ([255.0], r"\[0, 1\]")])
def test_binarize_rejects_values_outside_unit_interval(bad, match):
    x = np.array([0.2] + bad, dtype="float32")
    with pytest.raises(ValueError, match=match):
        binarize(x)
    with pytest.raises(ValueError, match=match):
        binarize(x, method="threshold")


def test_binarize_refuses_raw_uint8_pixels_and_says_how_to_scale():
    with pytest.raises(ValueError, match=r"255\.0"):
        binarize(np.array([[0, 128, 255]], dtype=np.uint8))


def test_binarize_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        binarize(np.zeros(3, "float32"), method="round")


# --------------------------------------------------------------------------
# one_hot, flatten
# --------------------------------------------------------------------------

def test_one_hot():
    labels = np.array([0, 3, 9, 3], dtype=np.uint8)
    rows = one_hot(labels)
    assert rows.shape == (4, 10) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows.sum(axis=1), np.ones(4))
    np.testing.assert_array_equal(rows.argmax(axis=1), labels)
    np.testing.assert_array_equal(one_hot(np.array([1, 0]), num_classes=3),
                                  [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("labels", [np.array([0, 10]), np.array([-1, 2]),
                                    np.array([0.0, 1.0]), np.array([[0, 1]])])
def test_one_hot_rejects_bad_labels(labels):
    with pytest.raises(ValueError, match="labels"):
        one_hot(labels)


def test_flatten():
    x = np.arange(2 * 28 * 28, dtype="float32").reshape(2, 28, 28, 1)
    rows = flatten(x)
    assert rows.shape == (2, 784)
    np.testing.assert_array_equal(rows[1], x[1].ravel())  # row-major, pixel order kept
    assert flatten(rows).shape == (2, 784)


# --------------------------------------------------------------------------
# fast mode
# --------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", " on "])
def test_fast_mode_on(monkeypatch, value):
    monkeypatch.setenv(data.FAST_ENV, value)
    assert fast_mode() is True
    assert by_mode(full=30, fast=2) == 2


@pytest.mark.parametrize("value", [None, "0", "", "false", "no"])
def test_fast_mode_off(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(data.FAST_ENV, raising=False)
    else:
        monkeypatch.setenv(data.FAST_ENV, value)
    assert fast_mode() is False
    assert by_mode(full=30, fast=2) == 30
