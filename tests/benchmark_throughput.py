"""Training throughput of ``vae_keras.VAE(...).fit`` against a hand-written ``train_step``.

Not a pytest test (the file name does not start with ``test_``). Run it with::

    python tests/benchmark_throughput.py [--architecture mlp|conv] [--epochs 5] [--repeats 3]

The baseline is the classic Keras-2-era VAE: a ``keras.Model`` subclass whose
``train_step`` computes the loss under ``tf.GradientTape`` and applies the
gradients itself (TensorFlow backend only). Both models get the same
encoder/decoder architecture and initial weights, the same Adam optimizer,
batch size and data (MNIST from ``VAE_KERAS_MNIST`` if set, else random
binary images). Each repeat times ``fit`` over ``--epochs`` epochs after one
warm-up epoch (tracing); the two models alternate so that a shared machine's
load hits both alike. Reported: samples per second, median over repeats.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from vae_keras import VAE  # noqa: E402
from vae_keras.architectures import conv_decoder, conv_encoder, mlp_decoder, mlp_encoder  # noqa: E402


def load_data(n):
    path = os.environ.get("VAE_KERAS_MNIST")
    if path:
        from vae_keras.data import load_mnist

        from vae_keras.data import TRAIN_SEED, binarize

        (x_train, _), _ = load_mnist(path)
        x = binarize(x_train[:n], seed=TRAIN_SEED)
        return x, f"binarised MNIST from VAE_KERAS_MNIST ({len(x)} images)"
    rng = np.random.default_rng(0)
    x = (rng.random((n, 28, 28, 1)) < 0.15).astype("float32")
    return x, f"random binary images ({n})"


def build_parts(architecture, latent_dim, seed):
    keras.utils.set_random_seed(seed)
    if architecture == "mlp":
        return mlp_encoder((28, 28, 1), latent_dim), mlp_decoder((28, 28, 1), latent_dim)
    return conv_encoder((28, 28, 1), latent_dim), conv_decoder((28, 28, 1), latent_dim)


def custom_train_step_model(encoder, decoder):
    """The hand-written baseline: its own train_step with tf.GradientTape.

    Same loss as ``vae_keras.VAE``: the exact Bernoulli NLL from the
    decoder's logits, ``beta`` read from a non-trainable variable.
    """
    import tensorflow as tf

    from vae_keras.models import _sigmoid_logits_model

    class CustomVAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder = encoder, decoder
            object.__setattr__(self, "logits_decoder", _sigmoid_logits_model(decoder))
            self.beta = self.add_weight(shape=(), initializer="ones", trainable=False,
                                        name="beta")
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
            self.kl_tracker = keras.metrics.Mean(name="kl_loss")

        @property
        def metrics(self):
            return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            with tf.GradientTape() as tape:
                z_mean, z_log_var = self.encoder(x, training=True)
                epsilon = tf.random.normal(tf.shape(z_mean))
                z = z_mean + tf.exp(0.5 * z_log_var) * epsilon
                logits = self.logits_decoder(z, training=True)
                reconstruction = tf.reduce_mean(tf.reduce_sum(
                    tf.math.softplus(logits) - x * logits, axis=[1, 2, 3]))
                kl = tf.reduce_mean(tf.reduce_sum(
                    -0.5 * (1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var)), axis=1))
                total = reconstruction + self.beta * kl
            gradients = tape.gradient(total, self.trainable_weights)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
            self.loss_tracker.update_state(total)
            self.reconstruction_tracker.update_state(reconstruction)
            self.kl_tracker.update_state(kl)
            return {m.name: m.result() for m in self.metrics}

    model = CustomVAE(encoder, decoder)
    model.compile(optimizer=keras.optimizers.Adam())
    return model


def timed_fit(model, x, epochs, batch_size):
    start = time.perf_counter()
    history = model.fit(x, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    return len(x) * epochs / seconds, history.history["loss"][-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", choices=("mlp", "conv"), default="mlp")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--n", type=int, default=8000, help="training images")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    x, description = load_data(args.n)
    backend = keras.backend.backend()
    models = {"vae_keras.VAE fit": VAE((28, 28, 1), *build_parts(args.architecture,
                                                                   args.latent_dim, 0))}
    if backend == "tensorflow":
        models["custom train_step"] = custom_train_step_model(
            *build_parts(args.architecture, args.latent_dim, 0))
    else:
        print(f"Backend {backend}: the tf.GradientTape baseline needs TensorFlow; "
              "timing the VAE only.")
    print(f"Data: {description}; {args.architecture} encoder/decoder, latent_dim="
          f"{args.latent_dim}, batch {args.batch_size}, Adam; keras {keras.__version__} "
          f"({backend}); {args.repeats} repeats x {args.epochs} epochs after 1 warm-up epoch.")

    for model in models.values():  # warm-up: tracing and first-call costs
        timed_fit(model, x, 1, args.batch_size)
    rates = {name: [] for name in models}
    final_loss = {}
    for _ in range(args.repeats):
        for name, model in models.items():  # alternate: shared-machine load hits both
            rate, final_loss[name] = timed_fit(model, x, args.epochs, args.batch_size)
            rates[name].append(rate)

    print(f"\n{'model':<20} {'median samples/s':>17} {'min':>8} {'max':>8} {'last loss':>10}")
    for name, values in rates.items():
        jit = getattr(models[name], "jit_compile", None)
        print(f"{name:<20} {statistics.median(values):>17.0f} {min(values):>8.0f} "
              f"{max(values):>8.0f} {final_loss[name]:>10.2f}   (jit_compile={jit})")
    if len(rates) == 2:
        paired = [a / b for a, b in zip(rates["vae_keras.VAE fit"], rates["custom train_step"])]
        print("\nratio VAE.fit / custom train_step per round: "
              + ", ".join(f"{r:.3f}" for r in paired))
        print(f"median of the paired ratios: {statistics.median(paired):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
