"""Tests of ``python -m vae_keras train`` on a tiny fake MNIST (no network, no shared data)."""

import json
import math
import os
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from vae_keras import cli  # noqa: E402

RUN_FILES = {"model.keras", "metrics.json", "history.json", "samples.png",
             "reconstructions.png", "latent.png"}
N_TEST = 60


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory):
    """A tiny npz in Keras' mnist.npz format: uint8 images, uint8 labels."""
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    np.savez(path,
             x_train=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
             y_train=(np.arange(300) % 10).astype(np.uint8),
             x_test=rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
             y_test=(np.arange(N_TEST) % 10).astype(np.uint8))
    return str(path)


@pytest.fixture(autouse=True)
def no_shared_mnist(monkeypatch):
    monkeypatch.delenv("VAE_KERAS_MNIST", raising=False)


def tiny_args(tiny_mnist, output_dir, *extra):
    return ["train", "--epochs", "1", "--max-train", "256", "--num-samples", "5",
            "--batch-size", "64", "--mnist-path", tiny_mnist, "--output-dir", str(output_dir),
            *extra]


def run_dirs(output_dir):
    return sorted(p for p in output_dir.iterdir() if p.is_dir())


def check_metrics(run_dir, latent_dim, n_train=256):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("reconstruction_loss", "kl_loss", "negative_elbo", "iw_log_likelihood",
                "train_seconds", "wall_seconds"):
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key]), key
    assert metrics["kl_loss"] >= 0.0
    assert metrics["negative_elbo"] == pytest.approx(
        metrics["reconstruction_loss"] + metrics["kl_loss"])
    assert 0 <= metrics["active_units"] <= latent_dim
    assert metrics["wall_seconds"] >= metrics["train_seconds"] > 0
    assert (metrics["n_train"], metrics["n_test"], metrics["epochs"]) == (n_train, N_TEST, 1)
    assert metrics["keras_backend"] == keras.backend.backend()
    assert metrics["keras_version"] == keras.__version__
    assert metrics["args"]["latent_dim"] == latent_dim
    return metrics


def test_train_writes_a_complete_fresh_run(tiny_mnist, tmp_path, capsys):
    assert cli.main(tiny_args(tiny_mnist, tmp_path)) == 0
    (run_dir,) = run_dirs(tmp_path)
    assert re.fullmatch(r"\d{8}-\d{6}-vae-mlp-z2-b1", run_dir.name)
    assert set(os.listdir(run_dir)) == RUN_FILES
    assert str(run_dir) in capsys.readouterr().out
    metrics = check_metrics(run_dir, latent_dim=2)
    # log p(x) >= ELBO holds in expectation; with 5 samples allow Monte Carlo slack.
    assert metrics["iw_log_likelihood"] > -metrics["negative_elbo"] - 5.0
    history = json.loads((run_dir / "history.json").read_text())
    assert {"loss", "reconstruction_loss", "kl_loss", "val_loss"} <= set(history)
    assert all(len(values) == 1 for values in history.values())
    for name in ("samples.png", "reconstructions.png", "latent.png"):
        assert (run_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = keras.saving.load_model(run_dir / "model.keras")
    assert (model.beta, model.likelihood) == (1.0, "bernoulli")
    assert model.encoder.outputs[0].shape == (None, 2)

    # The same command again: a new directory, the first run untouched.
    before = (run_dir / "metrics.json").read_bytes()
    assert cli.main(tiny_args(tiny_mnist, tmp_path)) == 0
    first, second = run_dirs(tmp_path)
    assert first == run_dir and second != first
    assert (run_dir / "metrics.json").read_bytes() == before
    assert set(os.listdir(second)) == RUN_FILES


def test_train_cvae_conv_gaussian(tiny_mnist, tmp_path):
    args = tiny_args(tiny_mnist, tmp_path, "--model", "cvae", "--architecture", "conv",
                     "--likelihood", "gaussian", "--latent-dim", "3", "--beta", "0.5",
                     "--max-train", "128")
    assert cli.main(args) == 0
    (run_dir,) = run_dirs(tmp_path)
    assert run_dir.name.endswith("-cvae-conv-z3-b0.5")
    assert set(os.listdir(run_dir)) == RUN_FILES
    metrics = check_metrics(run_dir, latent_dim=3, n_train=128)
    assert metrics["args"]["likelihood"] == "gaussian" and metrics["args"]["beta"] == 0.5


def test_make_run_dir_never_reuses_a_directory(tmp_path):
    paths = [cli.make_run_dir(str(tmp_path / "runs"), "same-name") for _ in range(3)]
    assert [os.path.basename(p) for p in paths] == ["same-name", "same-name-1", "same-name-2"]
    assert all(os.path.isdir(p) for p in paths)


def test_run_name_format():
    args = cli.build_parser().parse_args(["train", "--model", "cvae", "--latent-dim", "8",
                                          "--beta", "4"])
    assert cli.run_name(args, timestamp="20250101-120000") == \
        "20250101-120000-cvae-mlp-z8-b4"


@pytest.mark.parametrize("options, message", [
    (["--beta", "-1"], "--beta"),
    (["--beta", "nan"], "--beta"),
    (["--epochs", "0"], "--epochs"),
    (["--latent-dim", "two"], "--latent-dim"),
    (["--batch-size", "-5"], "--batch-size"),
    (["--num-samples", "0"], "--num-samples"),
    (["--max-train", "0"], "--max-train"),
    (["--model", "gan"], "--model"),
    (["--architecture", "resnet"], "--architecture"),
    (["--likelihood", "poisson"], "--likelihood"),
    (["--mnist-path", "no/such/file.npz"], "--mnist-path"),
])
def test_bad_options_exit_with_code_2(options, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as error:
        cli.main(["train", "--output-dir", str(tmp_path), *options])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as error:
        cli.main([])
    assert error.value.code == 2


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "vae_keras", "train", "--epochs", "0"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "--epochs" in result.stderr


def test_the_command_line_prints_no_tensorflow_start_up_noise(tiny_mnist, tmp_path):
    """A new user's first run: no C++ log lines (oneDNN, CUDA, cuInit) on stderr."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [sys.executable, "-m", "vae_keras", "train", "--epochs", "1", "--batch-size", "32",
         "--max-train", "64", "--num-samples", "2", "--mnist-path", tiny_mnist,
         "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    noise = [line for line in result.stderr.splitlines()
             if any(m in line for m in ("I0000", "E0000", "W0000", "absl::InitializeLog",
                                         "cuInit", "oneDNN", "cuda"))]
    assert noise == []
    assert "Run directory:" in result.stdout


def test_stderr_that_is_not_start_up_noise_is_passed_on(capfd):
    from vae_keras._quiet import quiet_native_stderr

    with quiet_native_stderr():
        os.write(2, b"I0000 00:00:1 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real error\n")
    assert capfd.readouterr().err == "a real error\n"


def test_data_parallel_on_two_virtual_jax_devices(tiny_mnist, tmp_path):
    """--data-parallel trains with keras.distribution across 2 CPU devices (JAX)."""
    pytest.importorskip("jax")
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env.pop("VAE_KERAS_MNIST", None)
    result = subprocess.run(
        [sys.executable, "-m", "vae_keras", "train", "--data-parallel", "--epochs", "2",
         "--batch-size", "32", "--max-train", "128", "--num-samples", "4",
         "--mnist-path", tiny_mnist, "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Data parallel over 2 devices" in result.stdout
    (run_dir,) = os.listdir(tmp_path)
    with open(tmp_path / run_dir / "metrics.json", encoding="utf-8") as file:
        metrics = json.load(file)
    assert len(metrics["data_parallel_devices"]) == 2
    assert metrics["keras_backend"] == "jax" and math.isfinite(metrics["negative_elbo"])


def test_data_parallel_needs_a_batch_size_that_divides(tiny_mnist, tmp_path):
    pytest.importorskip("jax")
    env = dict(os.environ, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    result = subprocess.run(
        [sys.executable, "-m", "vae_keras", "train", "--data-parallel", "--batch-size", "33",
         "--epochs", "1", "--mnist-path", tiny_mnist, "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2 and "multiple of the 2 devices" in result.stderr


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the refusal is for other backends")
def test_data_parallel_refused_with_a_fix_on_tensorflow(tiny_mnist, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--data-parallel", "--epochs", "1", "--mnist-path", tiny_mnist,
                  "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "KERAS_BACKEND=jax" in capsys.readouterr().err
