"""Evaluating a trained VAE: importance-weighted log p(x), the ELBO, latent usage.

The training loss is the negative ELBO, a *lower bound* on ``-log p(x)``. To
compare models fairly we estimate ``log p(x)`` itself with importance
sampling, using the encoder as the proposal (Burda, Grosse & Salakhutdinov,
"Importance Weighted Autoencoders", 2016): with ``z_k ~ q(z | x)``,

    log w_k = log p(x | z_k) + log N(z_k; 0, I) - log q(z_k | x)
    log p(x) ~= logsumexp_k(log w_k) - log K.

In expectation the estimate is a lower bound for every ``K``, it never
decreases as ``K`` grows, and it tends to ``log p(x)`` as ``K -> inf``; with
``K = 1`` it is an unbiased estimate of the ELBO. ``q(z | x)`` is the
diagonal Gaussian ``N(z_mean, exp(z_log_var))`` that the encoder outputs (what
:class:`vae_keras.Sampling` draws from; a custom ``sampling_layer`` is not
used here). ``log p(x | z)`` is the
model's own :func:`vae_keras.models.reconstruction_loss` (constants included),
so the numbers are in nats per example and comparable with the loss.

The maths runs in ``keras.ops`` / ``keras.random`` (any backend); the results
come back as numpy arrays.
"""

import math
import weakref

import keras
import numpy as np
from keras import ops

from vae_keras.models import (
    LIKELIHOODS,
    ConditionalVariationalAutoencoder,
    VariationalAutoencoder,
    reconstruction_loss,
)

# Rows (examples x samples) per decoder call. Bounds memory: 10000 rows of a
# 784-pixel output are ~31 MB in float32, and a few such temporaries live at
# once. Calls this large already keep the per-call overhead negligible.
MAX_ROWS_PER_CALL = 10000
# verbose="auto" shows a progress bar only above this many rows in total.
_AUTO_VERBOSE_ROWS = 200000
# model -> {samples_per_call: _LogWeights}: repeated calls on one model reuse
# the compiled step (JAX compiles once per model and shape, not per call).
_LOG_WEIGHT_MODELS = weakref.WeakKeyDictionary()


def log_likelihood(model, x, num_samples=1000, batch_size=100, seed=None,
                   verbose="auto"):
    """Importance-weighted estimate of ``log p(x)`` per example, in nats.

    Draws ``K = num_samples`` latent codes from the encoder's posterior
    ``q(z | x)`` and returns ``logsumexp_k(log w_k) - log K`` with
    ``log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x)`` (the IWAE bound
    of Burda et al., 2016). It is a lower bound on ``log p(x)`` in
    expectation, tightens as ``num_samples`` grows and converges to
    ``log p(x)``; ``num_samples=1`` gives a one-sample ELBO.

    Args:
        model: A :class:`~vae_keras.models.VariationalAutoencoder` (or any
            object with ``encoder``, ``decoder`` and ``likelihood``
            attributes), e.g. from :func:`vae_keras.VAE`.
        x: Data array ``(n, ...)``. For a conditional VAE a list ``[x, c]``;
            the encoder is called on ``[x, c]`` and the decoder on ``[z, c]``.
        num_samples: Positive int ``K``, importance samples per example.
        batch_size: Positive int, the most examples per step (batches are
            evened out so that every step has the same shape). The ``K``
            samples of a batch are decoded in chunks of at most
            ``MAX_ROWS_PER_CALL`` rows (examples x samples; at least one
            sample per example), so memory stays bounded for any ``K``.
        seed: Optional int; the same seed gives the same estimates.
        verbose: ``"auto"`` (a progress bar only for large jobs, more than
            200000 decoded rows), ``0``/``False`` (silent), ``1``/``True``
            (progress bar) or ``2`` (one line at the end).

    Returns:
        Numpy array ``(n,)`` of ``log p(x)`` estimates in nats. Average it for
        a test-set log-likelihood; its negative is the NLL usually reported.

    Example:

    >>> vae = vae_keras.VAE((784,), encoder, decoder)            # doctest: +SKIP
    >>> vae.fit(x_train, epochs=10, verbose=2)                   # doctest: +SKIP
    >>> log_px = log_likelihood(vae, x_test, num_samples=1000, seed=0)  # doctest: +SKIP
    >>> print(f"test log p(x) ~ {log_px.mean():.1f} nats")      # doctest: +SKIP
    """
    log_k = math.log(_check_positive_int(num_samples, "num_samples"))

    def reduce(log_weights):
        # logsumexp subtracts the maximum first: no overflow/underflow.
        return ops.logsumexp(log_weights, axis=1) - log_k

    return _estimate(model, x, num_samples, batch_size, seed, verbose, reduce)


def elbo(model, x, num_samples=1, batch_size=100, seed=None):
    """Monte Carlo estimate of the ELBO per example, in nats.

    The mean over ``num_samples`` draws ``z_k ~ q(z | x)`` of
    ``log p(x | z_k) + log p(z_k) - log q(z_k | x)``: the same sampled
    log-weights as :func:`log_likelihood`, averaged instead of
    log-sum-exp'd. More samples lower the noise, not the bias: the ELBO
    stays below ``log p(x)`` by ``KL(q(z | x) || p(z | x))``. Its negative
    (with ``beta=1``) is what the VAE's training loss estimates.

    Args:
        model: A :class:`~vae_keras.models.VariationalAutoencoder` (or any
            object with ``encoder``, ``decoder`` and ``likelihood``).
        x: Data array ``(n, ...)``; a list ``[x, c]`` for a conditional VAE.
        num_samples: Positive int, samples of ``z`` per example.
        batch_size: Positive int, the most examples per step.
        seed: Optional int; the same seed gives the same estimates (and the
            same draws as :func:`log_likelihood` with that seed and ``K``).

    Returns:
        Numpy array ``(n,)`` of ELBO estimates in nats.

    Example:

    >>> bound = elbo(vae, x_test, num_samples=10, seed=0)             # doctest: +SKIP
    >>> log_px = log_likelihood(vae, x_test, num_samples=1000, seed=0)  # doctest: +SKIP
    >>> assert log_px.mean() >= bound.mean()                          # doctest: +SKIP
    """

    def reduce(log_weights):
        return ops.mean(log_weights, axis=1)

    return _estimate(model, x, num_samples, batch_size, seed, 0, reduce)


def active_units(encoder, x, threshold=0.01):
    """Counts the latent dimensions the encoder actually uses.

    A dimension ``i`` is *active* when its posterior mean moves with the
    data: ``Var_x(E_q[z_i | x]) > threshold`` (Burda, Grosse & Salakhutdinov,
    2016, who use ``threshold=0.01``). Inactive dimensions have collapsed to
    the prior: they carry no information about ``x``.

    Args:
        encoder: Keras model ``x -> [z_mean, z_log_var]`` (or
            ``[x, c] -> [z_mean, z_log_var]``), e.g. ``vae.encoder``.
        x: Data array ``(n, ...)`` with ``n >= 2``, or a list ``[x, c]``.
        threshold: Non-negative number; variances above it count as active.

    Returns:
        Python int, the number of active latent dimensions.

    Example:

    >>> active_units(vae.encoder, x_test)  # doctest: +SKIP
    2
    """
    threshold = _check_threshold(threshold)
    z_mean, _ = _posterior_parameters(encoder, x)
    if z_mean.shape[0] < 2:
        raise ValueError(
            "`x` must hold at least 2 examples to measure a variance; "
            f"received {z_mean.shape[0]}."
        )
    return int(np.sum(np.var(z_mean, axis=0) > threshold))


def kl_per_dimension(encoder, x):
    """Mean over the data of ``KL(q(z_i | x) || N(0, 1))`` for each latent dim.

    Per dimension the closed form is
    ``-0.5 * (1 + z_log_var - z_mean**2 - exp(z_log_var))``; the values sum
    to the mean KL term of the loss. Dimensions with KL near 0 have collapsed
    to the prior; the KL is where a beta-VAE spends its information budget.

    Args:
        encoder: Keras model ``x -> [z_mean, z_log_var]`` (or taking
            ``[x, c]``).
        x: Data array ``(n, ...)``, or a list ``[x, c]``.

    Returns:
        Numpy array ``(latent_dim,)`` of mean KL per dimension, in nats.

    Example:

    >>> kl = kl_per_dimension(vae.encoder, x_test)  # doctest: +SKIP
    >>> kl.shape                                    # doctest: +SKIP
    (2,)
    """
    z_mean, z_log_var = _posterior_parameters(encoder, x)
    per_dim = -0.5 * (1.0 + z_log_var - np.square(z_mean) - np.exp(z_log_var))
    return per_dim.mean(axis=0)


# --- importance sampling machinery -----------------------------------------


def _estimate(model, x, num_samples, batch_size, seed, verbose, reduce):
    """Runs ``reduce`` over the ``(batch, num_samples)`` log-weights of every batch."""
    _check_model(model)
    num_samples = _check_positive_int(num_samples, "num_samples")
    batch_size = _check_positive_int(batch_size, "batch_size")
    seed = _check_seed(seed)
    data, condition = _split_inputs(model, x)
    n = data.shape[0]
    progbar = _progbar(verbose, n, num_samples, batch_size)
    # Equal batches and equal chunks: every compiled call sees one shape, so
    # it is traced/compiled once (the last batch is padded, then dropped).
    num_batches = math.ceil(n / batch_size)
    rows = math.ceil(n / num_batches)
    num_chunks = math.ceil(num_samples / max(1, MAX_ROWS_PER_CALL // rows))
    log_weights_of = _log_weights_model(model, math.ceil(num_samples / num_chunks), seed)
    results = []
    for step in range(num_batches):
        inputs = [_padded_rows(part, step * rows, rows)
                  for part in (data, condition) if part is not None]
        log_weights = np.concatenate(
            [log_weights_of.compute(inputs) for _ in range(num_chunks)], axis=1
        )[:, :num_samples]
        results.append(ops.convert_to_numpy(reduce(log_weights)))
        if progbar is not None:
            progbar.update(step + 1)
    return np.concatenate(results)[:n].astype(np.float64)


def _padded_rows(array, start, rows):
    """``array[start:start + rows]``, padded by repeating the last row."""
    part = array[start:start + rows]
    if len(part) == rows:
        return part
    return np.concatenate([part, np.repeat(part[-1:], rows - len(part), axis=0)])


def _log_weights_model(model, samples_per_call, seed):
    """A :class:`_LogWeights` for ``model``, cached, its seed reset to ``seed``."""
    try:
        cache = _LOG_WEIGHT_MODELS.setdefault(model, {})
    except TypeError:  # neither hashable nor weak-referenceable: no cache
        cache = {}
    log_weights = cache.get(samples_per_call)
    if log_weights is None or any(
        getattr(log_weights, name) is not getattr(model, name)
        for name in ("encoder", "decoder", "likelihood")
    ):
        log_weights = cache[samples_per_call] = _LogWeights(model, samples_per_call)
    # Same state as a new SeedGenerator(seed): same seed, same draws.
    log_weights.seed_generator.state.assign(keras.random.SeedGenerator(seed).state.value)
    return log_weights


class _LogWeights(keras.Model):
    """``log w`` for ``samples_per_call`` fresh draws of ``z`` per example.

    A throw-away model around the VAE's encoder and decoder. On JAX,
    ``predict_on_batch`` compiles the whole step once (op-by-op JAX compiles
    every op for every new shape, and fuses nothing). TensorFlow's eager ops
    are fast already, and a ``tf.function`` per call would retrace and warn,
    so there the model is simply called. Its ``SeedGenerator`` state
    advances with every call either way.
    """

    def __init__(self, model, samples_per_call):
        super().__init__(name="log_weights")
        self.encoder = model.encoder
        self.decoder = model.decoder
        self.likelihood = model.likelihood
        self.samples_per_call = samples_per_call
        self.seed_generator = keras.random.SeedGenerator()
        self.built = True

    def compute(self, inputs):
        """Numpy ``(batch, samples_per_call)`` log-weights for numpy inputs."""
        floatx = keras.config.floatx()
        inputs = [np.asarray(part, dtype=floatx) for part in inputs]
        inputs = inputs if len(inputs) > 1 else inputs[0]
        if keras.backend.backend() == "jax":
            return self.predict_on_batch(inputs)
        return ops.convert_to_numpy(self(inputs))

    def call(self, inputs):
        x, c = (inputs, None) if not isinstance(inputs, (list, tuple)) else inputs
        # Re-encoding per chunk costs `batch` rows against `batch * k` decoded
        # rows, and keeps the whole step one function of the data.
        z_mean, z_log_var = _encode(self.encoder, x, c)
        k = self.samples_per_call
        batch, latent_dim = ops.shape(z_mean)
        epsilon = keras.random.normal(
            (batch, k, latent_dim), dtype=z_mean.dtype, seed=self.seed_generator
        )
        z = z_mean[:, None, :] + ops.exp(0.5 * z_log_var)[:, None, :] * epsilon
        # Rows are example-major (x0 z0, x0 z1, ..., x1 z0, ...), as repeat makes them.
        z_rows = ops.reshape(z, (batch * k, latent_dim))
        if c is None:
            x_decoded = self.decoder(z_rows, training=False)
        else:
            x_decoded = self.decoder([z_rows, ops.repeat(c, k, axis=0)], training=False)
        nll = reconstruction_loss(ops.repeat(x, k, axis=0), x_decoded, self.likelihood)
        # log N(z; 0, I) - log N(z; z_mean, var): the log(2 pi) terms cancel, and
        # (z - z_mean)^2 / var is epsilon^2, so no division by a tiny variance.
        log_prior_over_posterior = -0.5 * ops.sum(
            ops.square(z) - ops.square(epsilon) - z_log_var[:, None, :], axis=-1
        )
        return -ops.reshape(nll, (batch, k)) + log_prior_over_posterior


def _encode(encoder, x, c):
    outputs = encoder(x if c is None else [x, c], training=False)
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        raise ValueError(
            "The encoder must return [z_mean, z_log_var]; it returned "
            f"{len(outputs) if isinstance(outputs, (list, tuple)) else 1} tensor(s)."
        )
    return outputs


def _progbar(verbose, n, num_samples, batch_size):
    if verbose == "auto":
        verbose = 1 if n * num_samples > _AUTO_VERBOSE_ROWS else 0
    elif isinstance(verbose, bool):
        verbose = int(verbose)
    elif verbose not in (0, 1, 2) or not isinstance(verbose, (int, np.integer)):
        raise ValueError(
            f"`verbose` must be 'auto', 0, 1, 2 or a bool; received {verbose!r}."
        )
    if not verbose:
        return None
    return keras.utils.Progbar(
        math.ceil(n / batch_size), verbose=int(verbose), unit_name="batch"
    )


def _posterior_parameters(encoder, x):
    """Runs the encoder over ``x``; returns float64 ``(z_mean, z_log_var)``."""
    if not callable(getattr(encoder, "predict", None)):
        raise TypeError(
            "`encoder` must be a Keras model x -> [z_mean, z_log_var] (e.g. "
            f"vae.encoder); received {type(encoder).__name__}."
        )
    if isinstance(x, (list, tuple)):
        inputs = [_as_array(part, f"x[{i}]") for i, part in enumerate(x)]
        if len({len(part) for part in inputs}) > 1:
            raise ValueError(
                "All parts of `x` must have the same number of examples; received "
                f"{[len(part) for part in inputs]}."
            )
    else:
        inputs = _as_array(x, "x")
    outputs = encoder.predict(inputs, batch_size=256, verbose=0)
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        raise ValueError(
            "The encoder must return [z_mean, z_log_var]; it returned "
            f"{len(outputs) if isinstance(outputs, (list, tuple)) else 1} array(s)."
        )
    z_mean, z_log_var = (np.asarray(part, dtype=np.float64) for part in outputs)
    if z_mean.shape != z_log_var.shape or z_mean.ndim != 2:
        raise ValueError(
            "The encoder's outputs must both have shape (n, latent_dim); "
            f"received {z_mean.shape} and {z_log_var.shape}."
        )
    return z_mean, z_log_var


# --- argument checks ---------------------------------------------------------


def _check_model(model):
    missing = [name for name in ("encoder", "decoder", "likelihood")
               if not hasattr(model, name)]
    if missing:
        raise TypeError(
            "`model` must be a VariationalAutoencoder (e.g. from vae_keras.VAE) "
            f"with encoder, decoder and likelihood; received {type(model).__name__} "
            f"without {', '.join(missing)}."
        )
    if model.likelihood not in LIKELIHOODS:
        raise ValueError(
            f"`model.likelihood` must be one of {LIKELIHOODS}; received "
            f"{model.likelihood!r}."
        )


def _split_inputs(model, x):
    """Returns ``(data, condition)`` numpy arrays; ``condition`` is None if unconditional."""
    conditional = isinstance(model, ConditionalVariationalAutoencoder) or (
        not isinstance(model, VariationalAutoencoder) and isinstance(x, (list, tuple))
    )
    if not conditional:
        if isinstance(x, (list, tuple)):
            raise ValueError(
                "This model is unconditional: pass `x` as one array; received a "
                f"{type(x).__name__} of length {len(x)}."
            )
        return _as_array(x, "x", model.likelihood), None
    if not isinstance(x, (list, tuple)) or len(x) != 2:
        raise ValueError(
            "A conditional VAE needs `x` as a list [x, c] of data and condition; "
            f"received {type(x).__name__}."
        )
    data = _as_array(x[0], "x[0] (data)", model.likelihood)
    condition = _as_array(x[1], "x[1] (condition)")
    if len(data) != len(condition):
        raise ValueError(
            "Data and condition must have the same number of examples; received "
            f"{len(data)} and {len(condition)}."
        )
    return data, condition


def _as_array(values, name, likelihood=None):
    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"`{name}` must be numeric; received dtype {array.dtype}.")
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty batch of shape (n, ...); received "
            f"shape {array.shape}."
        )
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise ValueError(f"`{name}` contains NaN; remove or impute those values.")
    if likelihood == "bernoulli" and (array.min() < 0 or array.max() > 1):
        raise ValueError(
            f"`{name}` must lie in [0, 1] for likelihood='bernoulli'; received "
            f"values in [{float(array.min()):g}, {float(array.max()):g}]."
        )
    return array


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"`{name}` must be a positive int; received {value!r} "
            f"({type(value).__name__})."
        )
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int; received {value!r}.")
    return int(value)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool)
                             or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"`seed` must be an int or None; received {seed!r}.")
    return None if seed is None else int(seed)


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise TypeError(
            f"`threshold` must be a number; received {type(threshold).__name__}."
        )
    if not math.isfinite(float(threshold)) or threshold < 0:
        raise ValueError(
            f"`threshold` must be finite and >= 0; received {threshold!r}."
        )
    return float(threshold)
