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
from typing import NamedTuple

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
    _is_int,
    _reconstruction_nll_per_dim,
    _sum_over_non_batch_axes,
    check_data,
    reconstruction_loss,
)
from vae_keras.stats import Estimate, mean_se

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
                   verbose="auto", mask=None):
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
        mask: Optional 0/1 array, the shape of the data ``(n, ...)`` or of
            one example: 1 where a dimension is *scored*. The estimate is
            then of ``log p(x_obs)``, the scored dimensions only: the
            likelihood term sums over them, which marginalises the others
            exactly for a decoder that factorises over dimensions (all the
            course's decoders). The encoder still sees ``x`` as passed, so
            the values in unscored dimensions only change the proposal
            ``q(z | x)``: the estimate stays a lower bound in expectation.

    Returns:
        Numpy array ``(n,)`` of ``log p(x)`` (or ``log p(x_obs)``) estimates
        in nats. Average it for a test-set log-likelihood; its negative is
        the NLL usually reported.

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

    return _estimate(model, x, num_samples, batch_size, seed, verbose, reduce, mask)


def elbo(model, x, num_samples=1, batch_size=100, seed=None, mask=None):
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
        mask: Optional 0/1 array (see :func:`log_likelihood`): the ELBO of
            ``log p(x_obs)``, the dimensions where ``mask`` is 1.

    Returns:
        Numpy array ``(n,)`` of ELBO estimates in nats.

    Example:

    >>> bound = elbo(vae, x_test, num_samples=10, seed=0)             # doctest: +SKIP
    >>> log_px = log_likelihood(vae, x_test, num_samples=1000, seed=0)  # doctest: +SKIP
    >>> assert log_px.mean() >= bound.mean()                          # doctest: +SKIP
    """

    def reduce(log_weights):
        return ops.mean(log_weights, axis=1)

    return _estimate(model, x, num_samples, batch_size, seed, 0, reduce, mask)


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


class PriorMismatch(NamedTuple):
    """How far the aggregate posterior is from the prior (see :func:`prior_mismatch`)."""

    rate: float
    kl_q_p: Estimate
    kl_p_q: Estimate
    information: float
    in_holes: float
    codes: np.ndarray
    prior_draws: np.ndarray
    log_q_over_p: np.ndarray


def prior_mismatch(model, x, num_samples=2, num_prior=2000, seed=0, hole_ratio=0.1):
    """The aggregate posterior ``q(z)`` against the prior ``N(0, I)``, both ways, in nats.

    ``q(z) = (1/N) sum_n q(z | x_n)`` is where the encoder puts the codes of
    the ``N`` examples ``x``; ``p(z) = N(0, I)`` is where samples are drawn
    from (for a CVAE with a learned prior, ``p(z | c)`` of the one condition
    that all examples share). The average rate splits exactly (Hoffman & Johnson, 2016)::

        rate = E_x KL(q(z | x) || p(z)) = I_q(x; z) + KL(q(z) || p(z)),

    so the information is at most the rate. Both KL directions are Monte
    Carlo estimates for this ``N``-component mixture, with ``log q(z)``
    exact (a log-sum-exp over the ``N`` Gaussians):

    - ``KL(q(z) || p(z))``, averaged over codes ``z ~ q(z | x_n)``: the
      *mismatch* term of the split. It weighs regions by ``q``, so it barely
      sees prior mass where ``q`` is nearly zero (holes).
    - ``KL(p(z) || q(z))``, averaged over prior draws: large when prior
      samples land where the codes are not, the direction that *measures
      holes*, beside ``in_holes``, the fraction of prior draws with
      ``q(z) / p(z) < hole_ratio``.

    With ``N`` examples ``I_q <= log N``; when the rate approaches ``log N``
    the finite mixture overstates the mismatch.

    Args:
        model: A VAE or CVAE (anything with an ``encoder`` returning
            ``[z_mean, z_log_var]`` of a diagonal Gaussian). For a CVAE, the
            examples of one condition give the conditional aggregate
            posterior ``q(z | c)``.
        x: The examples, as the model is called on them (for a CVAE a list
            ``[x, c]``), at least 2.
        num_samples: Positive int, codes drawn per example for ``KL(q || p)``.
        num_prior: Positive int, prior draws for ``KL(p || q)`` and ``in_holes``.
        seed: Int seed of the codes and the prior draws.
        hole_ratio: Number in ``(0, 1)``: a prior draw is in a hole when
            ``q(z) < hole_ratio * p(z)``.

    Returns:
        :class:`PriorMismatch` with ``rate`` (float, mean closed-form KL of
        the posteriors to the prior), ``kl_q_p`` and ``kl_p_q``
        (:class:`~vae_keras.stats.Estimate`, ± the standard error over the
        draws), ``information`` (``rate - kl_q_p.mean``), ``in_holes``,
        ``codes`` ``(N * num_samples, latent_dim)``, ``prior_draws``
        ``(num_prior, latent_dim)`` and ``log_q_over_p`` (per prior draw).

    Example:

    >>> result = prior_mismatch(vae, x_train, seed=0)              # doctest: +SKIP
    >>> print(f"KL(q||p) {result.kl_q_p}, KL(p||q) {result.kl_p_q}, "
    ...       f"{100 * result.in_holes:.1f}% of prior draws in holes")  # doctest: +SKIP
    """
    if not hasattr(model, "encoder"):
        raise TypeError(
            "`model` must be a VAE or CVAE with an `encoder`; received "
            f"{type(model).__name__}."
        )
    num_samples = _check_positive_int(num_samples, "num_samples")
    num_prior = _check_positive_int(num_prior, "num_prior")
    if not _is_int(seed):
        raise ValueError(f"`seed` must be an int; received {seed!r}.")
    if isinstance(hole_ratio, bool) or not isinstance(hole_ratio, (int, float, np.floating)) \
            or not 0.0 < hole_ratio < 1.0:
        raise ValueError(f"`hole_ratio` must be a number in (0, 1); received {hole_ratio!r}.")
    z_mean, z_log_var = _posterior_parameters(model.encoder, x)
    if len(z_mean) < 2:
        raise ValueError(
            f"`x` must hold at least 2 examples to form a mixture; received {len(z_mean)}."
        )
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((num_samples,) + z_mean.shape)
    codes = (z_mean + np.exp(0.5 * z_log_var) * noise).reshape(-1, z_mean.shape[1])
    density = getattr(model, "prior", None)
    if density is not None and hasattr(density, "log_prob"):  # a learned p(z), e.g. a mixture
        prior_draws = density.draw(num_prior, rng)
        log_q_over_p_codes = _log_q_over_p(codes, z_mean, z_log_var, density=density)
        log_q_over_p = _log_q_over_p(prior_draws, z_mean, z_log_var, density=density)
        # No closed form: the rate is E log q(z | x) - log p(z) over the same codes.
        log_q_codes = -0.5 * np.sum(np.square(noise) + z_log_var + math.log(2 * math.pi), axis=-1)
        log_p_codes = ops.convert_to_numpy(density.log_prob(
            ops.convert_to_tensor(codes, "float32"))).astype(np.float64)
        rate = float(np.mean(log_q_codes.reshape(-1) - log_p_codes))
    else:
        p_mean, p_log_var = _prior_of(model, x, z_mean.shape[1])
        prior_draws = p_mean + np.exp(0.5 * p_log_var) * rng.standard_normal(
            (num_prior, z_mean.shape[1]))
        log_q_over_p_codes = _log_q_over_p(codes, z_mean, z_log_var, p_mean, p_log_var)
        log_q_over_p = _log_q_over_p(prior_draws, z_mean, z_log_var, p_mean, p_log_var)
        rate = float(np.mean(np.sum(0.5 * (
            p_log_var - z_log_var + (np.exp(z_log_var) + np.square(z_mean - p_mean))
            * np.exp(-p_log_var) - 1.0), axis=1)))
    kl_q_p = mean_se(log_q_over_p_codes)
    return PriorMismatch(
        rate=rate,
        kl_q_p=kl_q_p,
        kl_p_q=mean_se(-log_q_over_p),
        information=rate - kl_q_p.mean,
        in_holes=float(np.mean(log_q_over_p < math.log(hole_ratio))),
        codes=codes,
        prior_draws=prior_draws,
        log_q_over_p=log_q_over_p,
    )


def _prior_of(model, x, latent_dim):
    """The prior's ``(mean, log_var)`` rows ``(latent_dim,)``: N(0, I), or a CVAE's p(z | c)."""
    prior = getattr(model, "prior", None)
    zeros = np.zeros(latent_dim)
    if prior is None:
        return zeros, zeros.copy()
    condition = np.asarray(x[1])
    if not np.all(condition == condition[:1]):
        raise ValueError(
            "With a learned prior p(z | c), q(z | c) is compared with p(z | c) for one "
            "condition: pass the examples of one condition (every row of x[1] the same); "
            f"received {len(np.unique(condition.reshape(len(condition), -1), axis=0))} "
            "different conditions."
        )
    p_mean, p_log_var = model.prior_parameters(condition[:1])
    return p_mean[0].astype(np.float64), p_log_var[0].astype(np.float64)


def _log_q_over_p(z, z_mean, z_log_var, p_mean=None, p_log_var=None, density=None):
    """``log q(z) - log p(z)`` per row of ``z``, q the mixture of posteriors.

    ``p`` is ``N(p_mean, e^p_log_var)``, or with ``density`` a learned prior's ``log_prob``.
    """
    if density is not None:
        log_q = _log_q_over_p(z, z_mean, z_log_var, np.zeros(z.shape[1]), np.zeros(z.shape[1]))
        log_q += -0.5 * np.sum(np.square(z) + math.log(2 * math.pi), axis=1)  # + log N(z; 0, I)
        log_p = ops.convert_to_numpy(density.log_prob(ops.convert_to_tensor(z, "float32")))
        return log_q - log_p.astype(np.float64)
    n, latent_dim = z_mean.shape
    # Rows per call so that a (rows, n, latent_dim) temporary stays ~ 16M numbers.
    rows = max(1, 2**24 // (n * latent_dim))
    mean = ops.convert_to_tensor(z_mean, "float32")
    log_var = ops.convert_to_tensor(z_log_var, "float32")
    inverse_var = ops.exp(-log_var)
    log_det = ops.sum(log_var, axis=-1)
    prior_mean = ops.convert_to_tensor(p_mean, "float32")
    prior_inverse_var = ops.exp(-ops.convert_to_tensor(p_log_var, "float32"))
    prior_log_det = float(np.sum(p_log_var))
    out = []
    for start in range(0, len(z), rows):
        chunk = ops.convert_to_tensor(z[start:start + rows], "float32")
        # log N(z; mu_n, var_n) - log N(z; p_mean, p_var): the log(2 pi) terms cancel.
        squared = ops.sum(ops.square(chunk[:, None, :] - mean[None]) * inverse_var[None], axis=-1)
        prior_squared = ops.sum(ops.square(chunk - prior_mean) * prior_inverse_var, axis=-1)
        log_ratio = -0.5 * (squared + log_det[None] - prior_squared[:, None] - prior_log_det)
        out.append(ops.convert_to_numpy(ops.logsumexp(log_ratio, axis=1)))
    return np.concatenate(out).astype(np.float64) - math.log(n)


# --- importance sampling machinery -----------------------------------------


def _estimate(model, x, num_samples, batch_size, seed, verbose, reduce, mask=None):
    """Runs ``reduce`` over the ``(batch, num_samples)`` log-weights of every batch."""
    _check_model(model)
    num_samples = _check_positive_int(num_samples, "num_samples")
    batch_size = _check_positive_int(batch_size, "batch_size")
    seed = _check_seed(seed)
    if seed is None:  # numpy's global generator: seeded by keras.utils.set_random_seed
        seed = int(np.random.randint(2**31 - 1))
    data, condition = _split_inputs(model, x)
    n = data.shape[0]
    mask = _check_mask(mask, data)
    progbar = _progbar(verbose, n, num_samples, batch_size)
    # Equal batches and equal chunks: every compiled call sees one shape, so
    # it is traced/compiled once (the last batch is padded, then dropped).
    num_batches = math.ceil(n / batch_size)
    rows = math.ceil(n / num_batches)
    num_chunks = math.ceil(num_samples / max(1, MAX_ROWS_PER_CALL // rows))
    samples_per_call = math.ceil(num_samples / num_chunks)
    log_weights_of = _log_weights_model(model, samples_per_call, mask is not None)
    latent_dim = _latent_dim(model, data, condition)
    results = []
    for step in range(num_batches):
        indices = np.minimum(np.arange(step * rows, (step + 1) * rows), n - 1)
        inputs = [part[indices] for part in (data, condition, mask) if part is not None]
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


def _log_weights_model(model, samples_per_call, masked=False):
    """A :class:`_LogWeights` for ``model``, cached per model, chunk size and masking."""
    try:
        cache = _LOG_WEIGHT_MODELS.setdefault(model, {})
    except TypeError:  # neither hashable nor weak-referenceable: no cache
        cache = {}
    log_weights = cache.get((samples_per_call, masked))
    if log_weights is None or any(
        getattr(log_weights, name) is not getattr(model, name, None)
        for name in ("encoder", "decoder", "likelihood", "prior")
    ):
        log_weights = cache[samples_per_call, masked] = _LogWeights(
            model, samples_per_call, masked)
    return log_weights


class _LogWeights(keras.Model):
    """``log w`` for given noise ``epsilon`` of shape ``(batch, samples_per_call, latent_dim)``.

    A throw-away model around the VAE's encoder and decoder. On JAX,
    ``predict_on_batch`` compiles the whole step once (op-by-op JAX compiles
    every op for every new shape, and fuses nothing). TensorFlow's eager ops
    are fast already, and a ``tf.function`` per call would retrace and warn,
    so there the model is simply called.
    """

    def __init__(self, model, samples_per_call, masked=False):
        super().__init__(name="log_weights")
        self.encoder = model.encoder
        self.decoder = model.decoder
        self.likelihood = model.likelihood
        self.prior = getattr(model, "prior", None)  # a CVAE's learned p(z | c), or None
        # The decoder the loss uses: the logits model when the VAE has one.
        object.__setattr__(self, "_head", getattr(model, "_logits_decoder", None) or model.decoder)
        object.__setattr__(self, "_from_logits", bool(getattr(model, "_loss_from_logits", False)))
        self.samples_per_call = samples_per_call
        self.masked = masked
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
        mask = parts.pop() if self.masked else None
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
        if mask is None:
            nll = reconstruction_loss(ops.repeat(x, k, axis=0), head, self.likelihood,
                                      from_logits=self._from_logits)
        else:  # only the scored dimensions: the others are marginalised out
            per_dim = _reconstruction_nll_per_dim(ops.repeat(x, k, axis=0), head,
                                                  self.likelihood, self._from_logits)
            nll = _sum_over_non_batch_axes(per_dim * ops.repeat(mask, k, axis=0))
        # log p(z) - log N(z; z_mean, var): the log(2 pi) terms cancel, and
        # (z - z_mean)^2 / var is epsilon^2, so no division by a tiny variance.
        if self.prior is not None and hasattr(self.prior, "log_prob"):  # a learned p(z)
            log_posterior = -0.5 * ops.sum(ops.square(epsilon) + z_log_var[:, None, :]
                                           + math.log(2.0 * math.pi), axis=-1)
            log_prior_over_posterior = (
                ops.reshape(self.prior.log_prob(z_rows), (batch, k)) - log_posterior)
        elif self.prior is None or c is None:  # p(z) = N(0, I)
            log_prior_over_posterior = -0.5 * ops.sum(
                ops.square(z) - ops.square(epsilon) - z_log_var[:, None, :], axis=-1
            )
        else:  # the learned p(z | c) = N(p_mean, exp(p_log_var))
            p_mean, p_log_var = self.prior(c, training=False)
            log_prior_over_posterior = -0.5 * ops.sum(
                ops.square(z - p_mean[:, None, :]) * ops.exp(-p_log_var)[:, None, :]
                + p_log_var[:, None, :] - ops.square(epsilon) - z_log_var[:, None, :], axis=-1
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


def _check_mask(mask, data):
    """``None``, or a float 0/1 array of ``data``'s shape (one example's shape is broadcast)."""
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise ValueError(
            f"`mask` must be an array of 0s and 1s; received dtype {array.dtype}."
        )
    if array.shape == data.shape[1:]:
        array = np.broadcast_to(array, data.shape)
    if array.shape != data.shape:
        raise ValueError(
            "`mask` must have the shape of the data "
            f"{data.shape} or of one example {data.shape[1:]}; received {array.shape}."
        )
    if not np.all((array == 0) | (array == 1)):
        bad = array[(array != 0) & (array != 1)]
        raise ValueError(
            "`mask` must hold only 0 (left out) and 1 (scored); received "
            f"{bad.size} other value(s), e.g. {bad.flat[0]!r}."
        )
    return np.ascontiguousarray(array, dtype=keras.config.floatx())


def _check_threshold(threshold):
    return _check_non_negative_number(threshold, "threshold")
