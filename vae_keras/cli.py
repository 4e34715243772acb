"""Command line: train a VAE or CVAE on MNIST and save the model, metrics and figures.

Usage::

    python -m vae_keras train --model vae --architecture mlp --latent-dim 2 --epochs 10

Each run writes into a fresh directory
``<output-dir>/<YYYYmmdd-HHMMSS>-<model>-<architecture>-z<latent dim>-b<beta>``
(``-1``, ``-2``, ... is appended if it exists; an earlier run is never
overwritten): ``model.keras``, ``metrics.json``, ``history.json``,
``samples.png``, ``reconstructions.png`` and ``latent.png``.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np

MODELS = ("vae", "cvae")
BINARIZATIONS = ("dynamic", "fixed", "none")
ARCHITECTURES = ("mlp", "conv")
NUM_CLASSES = 10


# ----------------------------------------------------------------------------
# Argument parsing
# ----------------------------------------------------------------------------

def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (>= 1), got {value}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def build_parser():
    """Returns the ``argparse`` parser of ``python -m vae_keras``."""
    parser = argparse.ArgumentParser(
        prog="python -m vae_keras",
        description="Train variational autoencoders on MNIST (vae_keras course package).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train",
        help="train a VAE/CVAE on MNIST and save model, metrics and figures",
        description="Train a VAE or CVAE on MNIST, validate on the test split, and save "
                    "model.keras, metrics.json, history.json and PNG figures into a fresh "
                    "run directory.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--model", choices=MODELS, default="vae",
                       help="vae: p(x); cvae: p(x | digit), conditioned on the one-hot label")
    train.add_argument("--architecture", choices=ARCHITECTURES, default="mlp",
                       help="encoder/decoder family from vae_keras.architectures")
    train.add_argument("--latent-dim", type=_positive_int, default=2,
                       help="number of latent dimensions")
    train.add_argument("--beta", type=_non_negative_float, default=1.0,
                       help="weight of the KL term (1 = the ELBO)")
    train.add_argument("--epochs", type=_positive_int, default=10, help="training epochs")
    train.add_argument("--batch-size", type=_positive_int, default=128, help="batch size")
    train.add_argument("--likelihood", choices=("bernoulli", "continuous_bernoulli", "gaussian"),
                       default="bernoulli",
                       help="decoder likelihood p(x | z); bernoulli needs binarised data")
    train.add_argument("--binarization", choices=BINARIZATIONS, default="dynamic",
                       help="dynamic: a fresh Bernoulli draw of the grey levels every epoch; "
                            "fixed: one draw (seed 0); none: grey levels (continuous_bernoulli "
                            "or gaussian only). Test images are drawn once with seed 1 "
                            "unless 'none'")
    train.add_argument("--output-dir", default="runs",
                       help="parent directory of the run directories")
    train.add_argument("--seed", type=_non_negative_int, default=0,
                       help="random seed (weights, sampling, figures)")
    train.add_argument("--num-samples", type=_positive_int, default=100,
                       help="importance samples per test example for the log-likelihood")
    train.add_argument("--mnist-path", default=None,
                       help="local MNIST npz in Keras' format (default: $VAE_KERAS_MNIST, "
                            "else download)")
    train.add_argument("--data-parallel", action="store_true",
                       help="train with keras.distribution.DataParallel across all local "
                            "devices (JAX backend; the batch size must divide evenly)")
    train.add_argument("--max-train", type=_positive_int, default=None,
                       help="use only the first N training images")
    return parser


# ----------------------------------------------------------------------------
# Run directory
# ----------------------------------------------------------------------------

def run_name(args, timestamp=None):
    """``<YYYYmmdd-HHMMSS>-<model>-<architecture>-z<d>-b<beta>`` for parsed ``args``."""
    timestamp = timestamp or time.strftime("%Y%m%d-%H%M%S")
    return f"{timestamp}-{args.model}-{args.architecture}-z{args.latent_dim}-b{args.beta:g}"


def make_run_dir(output_dir, name):
    """Creates and returns a new directory ``output_dir/name`` (or ``name-1``, ``name-2``...).

    ``os.mkdir`` fails if the directory exists, so two runs never share one,
    even when they start in the same second.
    """
    os.makedirs(output_dir, exist_ok=True)
    for attempt in range(10000):
        path = os.path.join(output_dir, name if attempt == 0 else f"{name}-{attempt}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"Could not create a fresh run directory for {name!r} in {output_dir!r}.")


# ----------------------------------------------------------------------------
# Training and evaluation
# ----------------------------------------------------------------------------

def _build_model(args, input_shape):
    from vae_keras import CVAE, VAE, architectures

    condition_shape = (NUM_CLASSES,) if args.model == "cvae" else None
    output_activation = None if args.likelihood == "gaussian" else "sigmoid"
    if args.architecture == "mlp":
        encoder = architectures.mlp_encoder(input_shape, args.latent_dim,
                                            condition_shape=condition_shape)
        decoder = architectures.mlp_decoder(input_shape, args.latent_dim,
                                            condition_shape=condition_shape,
                                            output_activation=output_activation)
    else:
        encoder = architectures.conv_encoder(input_shape, args.latent_dim,
                                             condition_shape=condition_shape)
        decoder = architectures.conv_decoder(input_shape, args.latent_dim,
                                             condition_shape=condition_shape,
                                             output_activation=output_activation)
    if condition_shape is None:
        return VAE(input_shape, encoder, decoder, beta=args.beta, likelihood=args.likelihood)
    return CVAE(input_shape, condition_shape, encoder, decoder, beta=args.beta,
                likelihood=args.likelihood)


def _load_data(args, parser):
    """Returns (train data for fit, held-out inputs, held-out labels, protocol text)."""
    from vae_keras.data import (
        TEST_SEED,
        TRAIN_SEED,
        DynamicBinarization,
        binarize,
        load_mnist,
        one_hot,
    )

    if args.mnist_path is not None and not os.path.isfile(args.mnist_path):
        parser.error(f"--mnist-path: no such file: {args.mnist_path!r}")
    if args.binarization == "none" and args.likelihood == "bernoulli":
        parser.error("--binarization none needs --likelihood continuous_bernoulli or gaussian: "
                     "a Bernoulli likelihood is for binary data")
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist_path)
    except (OSError, ValueError, RuntimeError) as error:
        parser.error(f"could not load MNIST: {error}")
    if args.max_train is not None:
        x_train, y_train = x_train[:args.max_train], y_train[:args.max_train]
    c_train = one_hot(y_train, NUM_CLASSES) if args.model == "cvae" else None
    c_test = one_hot(y_test, NUM_CLASSES) if args.model == "cvae" else None
    if args.binarization == "none":
        protocol = "none: grey levels in [0, 1]"
    else:
        x_test = binarize(x_test, seed=TEST_SEED)
        protocol = (f"{args.binarization} stochastic binarisation of the training images "
                    f"({'a fresh draw every epoch' if args.binarization == 'dynamic' else 'one draw'}"
                    f", seed {TRAIN_SEED}); held-out images drawn once, seed {TEST_SEED}")
    if args.binarization == "dynamic":
        train_data = DynamicBinarization(x_train, args.batch_size, condition=c_train,
                                         seed=TRAIN_SEED)
    else:
        if args.binarization == "fixed":
            x_train = binarize(x_train, seed=TRAIN_SEED)
        train_data = x_train if c_train is None else [x_train, c_train]
    test_inputs = x_test if c_test is None else [x_test, c_test]
    return train_data, test_inputs, y_test, protocol, len(x_train)


def _evaluate(model, test_inputs, args):
    from vae_keras import evaluation

    scores = model.evaluate(test_inputs, batch_size=args.batch_size, verbose=0,
                            return_dict=True)
    reconstruction, kl = float(scores["reconstruction_loss"]), float(scores["kl_loss"])
    log_px = evaluation.log_likelihood(model, test_inputs, num_samples=args.num_samples,
                                       seed=args.seed, verbose=0)
    return {
        "reconstruction_loss": reconstruction,
        "kl_loss": kl,
        # Unweighted (beta = 1): the negative ELBO, an upper bound on -log p(x).
        "negative_elbo": reconstruction + kl,
        "iw_log_likelihood": float(np.mean(log_px)),
        "iw_num_samples": args.num_samples,
        "active_units": int(evaluation.active_units(model.encoder, test_inputs)),
    }


def _save_figures(model, test_inputs, labels, args, run_dir):
    import matplotlib.pyplot as plt

    from vae_keras import plotting
    from vae_keras.data import one_hot

    condition = None
    if args.model == "cvae":  # row r of the sample grid shows digit r
        condition = one_hot(np.repeat(np.arange(NUM_CLASSES), 10), NUM_CLASSES)
    figures = {
        "samples.png": lambda: plotting.plot_samples(
            model.decoder, n=100, seed=args.seed, condition=condition,
            title="Samples, one digit per row" if condition is not None else None),
        "reconstructions.png": lambda: plotting.plot_reconstructions(
            model, test_inputs, n=10, seed=args.seed),
        "latent.png": lambda: plotting.plot_latent_scatter(
            model.encoder, test_inputs, labels,
            title=f"Posterior means of the {len(labels)} test images"),
    }
    for file_name, make in figures.items():
        fig = make()
        fig.savefig(os.path.join(run_dir, file_name))
        plt.close(fig)


def _set_data_parallel(args, parser):
    """Turns on ``keras.distribution.DataParallel`` over all local devices; returns their names."""
    import keras

    if keras.backend.backend() != "jax":
        parser.error("--data-parallel uses keras.distribution, which Keras supports on the "
                     f"JAX backend; this run uses {keras.backend.backend()!r}: run with "
                     "KERAS_BACKEND=jax")
    devices = keras.distribution.list_devices()
    if args.batch_size % len(devices):
        parser.error(f"--batch-size {args.batch_size} must be a multiple of the "
                     f"{len(devices)} devices for --data-parallel")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    print(f"Data parallel over {len(devices)} devices: {', '.join(devices)}", flush=True)
    return devices


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=2, sort_keys=True)
        file.write("\n")


def train(args, parser):
    """Trains, evaluates and saves one run; returns the run directory."""
    import keras

    wall_start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    train_data, test_inputs, y_test, protocol, n_train = _load_data(args, parser)
    x_test = test_inputs[0] if args.model == "cvae" else test_inputs
    devices = _set_data_parallel(args, parser) if args.data_parallel else None
    model = _build_model(args, tuple(x_test.shape[1:]))
    run_dir = make_run_dir(args.output_dir, run_name(args))
    print(f"Training a {args.model.upper()} ({args.architecture}, latent_dim={args.latent_dim}, "
          f"beta={args.beta:g}, {args.likelihood}) on {n_train} images; "
          f"validating on {len(x_test)}. Binarisation: {protocol}.", flush=True)

    train_start = time.perf_counter()
    batch_size = None if args.binarization == "dynamic" else args.batch_size  # set by the dataset
    history = model.fit(train_data, epochs=args.epochs, batch_size=batch_size,
                        validation_data=(test_inputs,),
                        verbose=1 if sys.stdout.isatty() else 2)
    train_seconds = time.perf_counter() - train_start
    if devices is not None:  # evaluate on one device: any batch shape works there
        keras.distribution.set_distribution(None)

    metrics = _evaluate(model, test_inputs, args)
    model.save(os.path.join(run_dir, "model.keras"))
    _save_figures(model, test_inputs, y_test, args, run_dir)
    history_dict = {key: [float(v) for v in values] for key, values in history.history.items()}
    _write_json(os.path.join(run_dir, "history.json"), history_dict)
    metrics.update({
        "train_seconds": train_seconds,
        "wall_seconds": time.perf_counter() - wall_start,
        "epochs": args.epochs,
        "n_train": int(n_train),
        "binarization": protocol,
        "n_test": int(len(x_test)),
        "args": {key: value for key, value in vars(args).items() if key != "command"},
        "keras_backend": keras.backend.backend(),
        "data_parallel_devices": devices,
        "keras_version": keras.__version__,
    })
    _write_json(os.path.join(run_dir, "metrics.json"), metrics)
    print(f"Held-out: reconstruction {metrics['reconstruction_loss']:.2f}, "
          f"KL {metrics['kl_loss']:.2f}, negative ELBO {metrics['negative_elbo']:.2f}, "
          f"IW log p(x) {metrics['iw_log_likelihood']:.2f} nats (K={args.num_samples}), "
          f"active units {metrics['active_units']}/{args.latent_dim}; "
          f"trained in {train_seconds:.1f} s.")
    return run_dir


def main(argv=None):
    """Entry point of ``python -m vae_keras`` and the ``vae-keras`` script; returns 0.

    Args:
        argv: Argument list without the program name; ``sys.argv[1:]`` if None.

    Returns:
        0 on success. Bad options exit with ``SystemExit(2)`` and a message.

    Example:

    >>> main(["train", "--epochs", "1", "--max-train", "256"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if "matplotlib.pyplot" not in sys.modules:  # headless: write PNGs, open no windows
        import matplotlib

        matplotlib.use("Agg")
    if args.command == "train":
        run_dir = train(args, parser)
        print(f"Run directory: {run_dir}")
    return 0
