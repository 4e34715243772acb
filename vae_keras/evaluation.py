"""Evaluating a trained VAE: importance-weighted log p(x), the ELBO, latent usage.

The training loss (with ``beta=1``) is the negative ELBO, an *upper* bound on
``-log p(x)``. To compare models fairly we estimate ``log p(x)`` more tightly
with importance sampling, using the encoder as the proposal (Burda, Grosse &
Salakhutdinov, "Importance Weighted Autoencoders", 2016): with
``z_k ~ q(z | x)``,

    log w_k = log p(x | z_k) + log N(z_k; 0, I) - log q(z_k | x)
    log p(x) ~= logsumexp_k(log w_k) - log K.

In expectation the estimate is a lower bound for every ``K`` (so quote it as
"a bound with K samples"), it never decreases as ``K`` grows, and it tends
to ``log p(x)`` as ``K -> inf``; with ``K = 1`` it is an unbiased estimate
of the ELBO. ``q(z | x)`` is the diagonal Gaussian
``N(z_mean, exp(z_log_var))`` that the encoder outputs, which is what
:class:`vae_keras.Sampling` draws from; a model with another sampling layer
is refused. ``log p(x | z)`` is the model's own
:func:`vae_keras.models.reconstruction_loss` (constants included, from logits
when the model has them), so the numbers are in nats per example and
comparable with the loss.

Every example gets its own noise, drawn from ``seed`` and the example's
index: the same seed gives the same estimates whatever the batch size.

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
    Sampling,
    VariationalAutoencoder,
    _check_non_negative_number,
    _check_positive_int,
    _check_seed,
    check_data,
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
    if seed is None:  # numpy's global generator: seeded by keras.utils.set_random_seed
        seed = int(np.random.randint(2**31 - 1))
    data, condition = _split_inputs(model, x)
    n = data.shape[0]
    progbar = _progbar(verbose, n, num_samples, batch_size)
    # Equal batches and equal chunks: every compiled call sees one shape, so
    # it is traced/compiled once (the last batch is padded, then dropped).
    num_batches = math.ceil(n / batch_size)
    rows = math.ceil(n / num_batches)
    num_chunks = math.ceil(num_samples / max(1, MAX_ROWS_PER_CALL // rows))
    samples_per_call = math.ceil(num_samples / num_chunks)
    log_weights_of = _log_weights_model(model, samples_per_call)
    latent_dim = _latent_dim(model, data, condition)
    results = []
    for step in range(num_batches):
        indices = np.minimum(np.arange(step * rows, (step + 1) * rows), n - 1)
        inputs = [part[indices] for part in (data, condition) if part is not None]
        # One generator per example, from (seed, index): the draws of an
        # example do not depend on the batch it lands in.
        generators = [np.random.default_rng([seed, int(i)]) for i in indices]
        chunks = []
        for _ in range(num_chunks):
            epsilon = np.stack([g.standard_normal((samples_per_call, latent_dim))
                                for g in generators]).astype(keras.config.floatx())
            chunks.append(log_weights_of.compute(inputs + [epsilon]))
        log_weights = np.concatenate(chunks, axis=1)[:, :num_samples]
        results.append(ops.convert_to_numpy(reduce(log_weights)))
        if progbar is not None:
            progbar.update(step + 1)
    return np.concatenate(results)[:n].astype(np.float64)


def _latent_dim(model, data, condition):
    c = None if condition is None else condition[:1]
    z_mean, _ = _encode(model.encoder, data[:1], c)
    return int(z_mean.shape[-1])


def _log_weights_model(model, samples_per_call):
    """A :class:`_LogWeights` for ``model``, cached per model and chunk size."""
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
    return log_weights


class _LogWeights(keras.Model):
    """``log w`` for given noise ``epsilon`` of shape ``(batch, samples_per_call, latent_dim)``.

    A throw-away model around the VAE's encoder and decoder. On JAX,
    ``predict_on_batch`` compiles the whole step once (op-by-op JAX compiles
    every op for every new shape, and fuses nothing). TensorFlow's eager ops
    are fast already, and a ``tf.function`` per call would retrace and warn,
    so there the model is simply called.
    """

    def __init__(self, model, samples_per_call):
        super().__init__(name="log_weights")
        self.encoder = model.encoder
        self.decoder = model.decoder
        self.likelihood = model.likelihood
        # The decoder the loss uses: the logits model when the VAE has one.
        object.__setattr__(self, "_head", getattr(model, "_logits_decoder", None) or model.decoder)
        object.__setattr__(self, "_from_logits", bool(getattr(model, "_loss_from_logits", False)))
        self.samples_per_call = samples_per_call
        self.built = True

    def compute(self, inputs):
        """Numpy ``(batch, samples_per_call)`` log-weights for numpy inputs."""
        floatx = keras.config.floatx()
        inputs = [np.asarray(part, dtype=floatx) for part in inputs]
        if keras.backend.backend() == "jax":
            return self.predict_on_batch(inputs)
        return ops.convert_to_numpy(self(inputs))

    def call(self, inputs):
        *parts, epsilon = inputs
        x, c = (parts[0], None) if len(parts) == 1 else parts
        # Re-encoding per chunk costs `batch` rows against `batch * k` decoded
        # rows, and keeps the whole step one function of the data.
        z_mean, z_log_var = _encode(self.encoder, x, c)
        k = self.samples_per_call
        batch, latent_dim = ops.shape(z_mean)
        z = z_mean[:, None, :] + ops.exp(0.5 * z_log_var)[:, None, :] * epsilon
        # Rows are example-major (x0 z0, x0 z1, ..., x1 z0, ...), as repeat makes them.
        z_rows = ops.reshape(z, (batch * k, latent_dim))
        if c is None:
            head = self._head(z_rows, training=False)
        else:
            head = self._head([z_rows, ops.repeat(c, k, axis=0)], training=False)
        nll = reconstruction_loss(ops.repeat(x, k, axis=0), head, self.likelihood,
                                  from_logits=self._from_logits)
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
    sampling_layer = getattr(model, "sampling_layer", None)
    if sampling_layer is not None and not isinstance(sampling_layer, Sampling):
        raise ValueError(
            "The importance weights need the density of q(z | x); they are computed "
            "for the diagonal Gaussian N(z_mean, exp(z_log_var)) that "
            "vae_keras.Sampling draws from, but this model samples with "
            f"{type(sampling_layer).__name__}. Evaluate a model built with "
            "sampling_layer=vae_keras.Sampling() (the same encoder and decoder "
            "can be reused: VAE(input_shape, model.encoder, model.decoder, Sampling()))."
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
    array = check_data(values, name, likelihood)
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty batch of shape (n, ...); received "
            f"shape {array.shape}."
        )
    return array


def _check_threshold(threshold):
    return _check_non_negative_number(threshold, "threshold")
