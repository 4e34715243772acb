"""Training throughput of ``vae_keras.VAE(...).fit`` per backend, against the GEMM ceiling.

Usage::

    python tools/benchmark_backends.py [--rounds 3] [--epochs 3] [--backends tensorflow jax]

For each backend (a fresh process each, since Keras picks its backend at
import) this times ``fit`` of the MLP VAE 784-500-500-20 (batch 128, Adam,
8,000 binarised images: MNIST from ``VAE_KERAS_MNIST`` if set, else random
binary images) under each setting: ``steps_per_execution`` 1 (Keras'
default) and 16 (vae_keras' default), with and without XLA
(``jit_compile``; JAX always compiles with XLA: there ``jit_compile=False``
would run the step op by op, about 7x slower). Each model is warmed up
one epoch (tracing and compiling, timed separately), then the settings
alternate for ``--rounds`` rounds of ``--epochs`` epochs, so that a shared
machine's load hits all alike; the median is reported. The backends
alternate too: each round is one process per backend.

Beside each rate: the GEMM rate it implies (the model's dense-layer FLOPs
per trained example times examples per second) and, as the ceiling, the
rate of the same matrix products (batch 128, the same shapes, forward and
backward) run back to back in one compiled function of that backend.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

LAYERS = [(784, 500), (500, 500), (500, 40), (20, 500), (500, 500), (500, 784)]
BATCH, N_IMAGES = 128, 8000
SETTINGS = {  # name: compile arguments
    "spe=1": {"steps_per_execution": 1, "jit_compile": False},
    "spe=16": {"steps_per_execution": 16, "jit_compile": False},
    "spe=1+XLA": {"steps_per_execution": 1, "jit_compile": True},
    "spe=16+XLA": {"steps_per_execution": 16, "jit_compile": True},
}


def train_flops_per_example():
    """Dense-layer FLOPs of one training example: forward, weight and input gradients."""
    forward = sum(2 * m * n for m, n in LAYERS)
    input_grads = forward - 2 * LAYERS[0][0] * LAYERS[0][1]  # none for the data itself
    return 2 * forward + input_grads


def _data():
    import numpy as np

    path = os.environ.get("VAE_KERAS_MNIST")
    if path:
        from vae_keras import TRAIN_SEED, binarize, load_mnist

        (x, _), _ = load_mnist(path, n_train=N_IMAGES, n_test=1)
        return binarize(x, seed=TRAIN_SEED), "binarised MNIST"
    rng = np.random.default_rng(0)
    return (rng.random((N_IMAGES, 28, 28, 1)) < 0.15).astype("float32"), "random binary images"


def _model(settings):
    import keras

    from vae_keras import VAE
    from vae_keras.architectures import mlp_decoder, mlp_encoder

    keras.utils.set_random_seed(0)
    vae = VAE((28, 28, 1), mlp_encoder((28, 28, 1), 20, hidden_units=(500, 500)),
              mlp_decoder((28, 28, 1), 20, hidden_units=(500, 500)))
    vae.compile(optimizer=keras.optimizers.Adam(), **settings)
    return vae


def _gemm_seconds(repeats=50):
    """Seconds for the model's matrix products (forward + backward) at batch 128."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = []
    for m, n in LAYERS:  # forward x@W, weight grad x.T@g, input grad g@W.T
        shapes += [((BATCH, m), (m, n)), ((m, BATCH), (BATCH, n))]
        if (m, n) != LAYERS[0]:
            shapes.append(((BATCH, n), (n, m)))
    pairs = [(rng.standard_normal(a).astype("float32"), rng.standard_normal(b).astype("float32"))
             for a, b in shapes]
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def body(ps):
            total = 0.0
            for _ in range(repeats):
                for a, b in ps:  # the whole product is used: nothing to skip
                    total = total + (a @ b).sum()
                ps = [(a * 1.0000001, b) for a, b in ps]
            return total

        fn = jax.jit(body)
        fn(pairs).block_until_ready()
        start = time.perf_counter()
        fn(pairs).block_until_ready()
    else:
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def fn(ps):
            total = tf.constant(0.0)
            for _ in range(repeats):
                for a, b in ps:  # the whole product is used: nothing to skip
                    total = total + tf.reduce_sum(tf.matmul(a, b))
                ps = [(a * 1.0000001, b) for a, b in ps]
            return total

        tensors = [(tf.constant(a), tf.constant(b)) for a, b in pairs]
        fn(tensors).numpy()
        start = time.perf_counter()
        fn(tensors).numpy()
    return (time.perf_counter() - start) / repeats


def worker(epochs):
    """One round in this process: every setting warmed up, then timed once."""
    import keras

    x, description = _data()
    backend = keras.backend.backend()
    settings = dict(SETTINGS)
    if backend == "jax":  # JAX always compiles with XLA: jit_compile=False would run op by op
        settings = {k: {"steps_per_execution": v["steps_per_execution"]}
                    for k, v in SETTINGS.items() if not v["jit_compile"]}
    result = {"backend": backend, "data": description, "rates": {}, "warmup_s": {}}
    models = {}
    for name, kwargs in settings.items():
        start = time.perf_counter()
        models[name] = _model(kwargs)
        models[name].fit(x, epochs=1, batch_size=BATCH, verbose=0)
        result["warmup_s"][name] = time.perf_counter() - start
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(x, epochs=epochs, batch_size=BATCH, verbose=0)
        result["rates"][name] = len(x) * epochs / (time.perf_counter() - start)
    result["gemm_flops"] = train_flops_per_example() * BATCH / _gemm_seconds()
    print(json.dumps(result))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per round")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.epochs)

    runs = {b: [] for b in args.backends}
    for _ in range(args.rounds):
        for backend in args.backends:
            env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
            out = subprocess.run([sys.executable, __file__, "--worker", "--epochs",
                                  str(args.epochs)], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            runs[backend].append(json.loads(out.stdout.strip().splitlines()[-1]))

    flops = train_flops_per_example()
    first = runs[args.backends[0]][0]
    print(f"MLP VAE 784-500-500-20, batch {BATCH}, Adam, {N_IMAGES:,} {first['data']}; "
          f"{flops / 1e6:.2f} MFLOP of dense-layer GEMMs per trained example; "
          f"median of {args.rounds} rounds x {args.epochs} epochs after a warm-up epoch.\n")
    print(f"{'backend':<11} {'setting':<12} {'samples/s':>10} {'GFLOP/s':>8} "
          f"{'of ceiling':>10} {'warm-up s':>9}")
    best = {}
    for backend, rounds in runs.items():
        ceiling = statistics.median(r["gemm_flops"] for r in rounds)
        for name in rounds[0]["rates"]:
            rate = statistics.median(r["rates"][name] for r in rounds)
            warm = statistics.median(r["warmup_s"][name] for r in rounds)
            best[backend, name] = rate
            print(f"{backend:<11} {name:<12} {rate:>10,.0f} {rate * flops / 1e9:>8.1f} "
                  f"{rate * flops / ceiling:>10.2f} {warm:>9.2f}")
        print(f"{backend:<11} {'GEMM ceiling':<12} {'':>10} {ceiling / 1e9:>8.1f}")
    if ("tensorflow", "spe=16") in best and ("jax", "spe=16") in best:
        print("\nratios in this run (vae_keras' default, spe=16): TensorFlow / JAX = "
              f"{best['tensorflow', 'spe=16'] / best['jax', 'spe=16']:.2f}; "
              f"TensorFlow spe=16 / spe=1 = "
              f"{best['tensorflow', 'spe=16'] / best['tensorflow', 'spe=1']:.2f}; "
              f"JAX spe=16 / spe=1 = {best['jax', 'spe=16'] / best['jax', 'spe=1']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
