"""The lecture's VAE builder, re-made for Keras 3.

This file is self-contained on purpose: it imports only ``keras``, ``numpy``
and the standard library, so an instructor can copy it into an assignment.
It holds the sampling layer, the two loss terms, and the ``VAE`` / ``CVAE``
builders. Notebooks 03 (sampling) and 04 (KL loss, first VAE) teach it.

Why not the lecture code? Keras 3 removed symbolic ``model.add_loss(...)`` on
functional models and the ``keras.backend`` helpers (``K.flatten``,
``K.random_normal``). Here the model is a small ``keras.Model`` subclass whose
``call`` adds the loss terms with ``add_loss`` on real tensors, and whose
``compute_loss`` weights the KL term by ``beta``, a non-trainable Keras
variable (so a callback can change it during ``fit``); that works on every
backend.

Likelihoods (``likelihood=``):

- ``"bernoulli"``: for binary data (pixels exactly 0 or 1). Grey-level data
  is refused: binary cross-entropy on grey levels is not a normalised
  likelihood. Binarise it (``vae_keras.data.binarize``,
  ``vae_keras.data.DynamicBinarization``) or use
- ``"continuous_bernoulli"``: the normalised density on ``[0, 1]`` of
  Loaiza-Ganem & Cunningham (NeurIPS 2019), for grey levels.
- ``"gaussian"``: unit variance, constant ``0.5 * D * log(2 pi)`` kept.

The Bernoulli-family losses are computed from *logits* whenever the decoder
ends in ``keras.layers.Activation("sigmoid")`` (as the package's own
decoders do) or ``from_logits=True``: exact values and gradients even where
the sigmoid saturates in float32. A decoder whose last layer applies the
sigmoid itself (``Dense(784, activation="sigmoid")``, the lecture's style)
still works, through probabilities clipped to ``[eps, 1 - eps]``.
"""

import math

import keras
import numpy as np
from keras import ops

LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")
_LOGIT_LIKELIHOODS = ("bernoulli", "continuous_bernoulli")
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
_LOG_TWO_PI = math.log(2.0 * math.pi)
_LOG_TWO = math.log(2.0)
# |logit| below this uses the Taylor series of the continuous Bernoulli's
# log-normaliser: the direct formula is 0/0 at logit 0.
_CB_TAYLOR_LIMIT = 0.1


# --- argument checks (one helper per job; evaluation.py and data.py reuse them)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_positive_int(value, name):
    if not _is_int(value) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; received {value!r}.")
    return int(value)


def _check_seed(seed, name="seed"):
    if seed is not None and not _is_int(seed):
        raise ValueError(f"`{name}` must be an int or None; received {seed!r}.")
    return None if seed is None else int(seed)


def _check_non_negative_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"`{name}` must be a number; received {type(value).__name__}.")
    if not math.isfinite(float(value)) or value < 0:
        raise ValueError(f"`{name}` must be finite and >= 0; received {value!r}.")
    return float(value)


def _check_beta(beta):
    return _check_non_negative_number(beta, "beta")


def _check_likelihood(likelihood):
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"`likelihood` must be one of {LIKELIHOODS}; received {likelihood!r}."
        )


def _check_from_logits(from_logits, likelihood, allow_none=True):
    if not (from_logits is None and allow_none) and not isinstance(from_logits, bool):
        raise ValueError(
            f"`from_logits` must be True, False{' or None' if allow_none else ''}; "
            f"received {from_logits!r}."
        )
    if from_logits and likelihood not in _LOGIT_LIKELIHOODS:
        raise ValueError(
            f"`from_logits=True` needs a Bernoulli-family likelihood {_LOGIT_LIKELIHOODS}; "
            f"received likelihood={likelihood!r} (a Gaussian decoder outputs means)."
        )
    return from_logits


def _as_shape(value, name):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value
    ):
        raise ValueError(
            f"`{name}` must be a tuple of positive ints such as (28, 28, 1); "
            f"received {value!r}."
        )
    return tuple(value)


@keras.saving.register_keras_serializable(package="vae_keras")
class Sampling(keras.layers.Layer):
    """Draws ``z ~ N(z_mean, exp(z_log_var))`` with the reparameterisation trick.

    ``z = z_mean + exp(0.5 * z_log_var) * epsilon`` with ``epsilon ~ N(0, I)``:
    the randomness sits in ``epsilon``, so gradients reach both inputs.
    Introduced step by step in ``notebooks/03_sampling_layer.ipynb``.

    Args:
        seed: Optional integer seed for the layer's ``SeedGenerator``; the
            same seed gives the same sequence of draws.
        **kwargs: Base layer keyword arguments (``name``, ``dtype``...).

    Call arguments:
        inputs: A list ``[z_mean, z_log_var]`` of two tensors of equal shape
            ``(batch_size, latent_dim)``.

    Returns:
        A tensor ``z`` with the shape of ``z_mean``.

    Example:

    >>> z_mean = keras.ops.zeros((4, 2))
    >>> z_log_var = keras.ops.zeros((4, 2))
    >>> Sampling(seed=0)([z_mean, z_log_var]).shape
    (4, 2)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = False
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "Sampling expects a list [z_mean, z_log_var]; "
                f"received {type(inputs).__name__} of length "
                f"{len(inputs) if isinstance(inputs, (list, tuple)) else 1}."
            )
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(
            ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
        )
        # exp(0.5 * log var) is the standard deviation; predicting the
        # log-variance keeps sigma positive without a constraint.
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config


def _sum_over_non_batch_axes(values):
    axes = tuple(range(1, len(values.shape)))
    return ops.sum(values, axis=axes) if axes else values


def _kl_per_dimension(z_mean, z_log_var):
    """KL(N(mu_i, sigma_i^2) || N(0, 1)) for every example and latent dimension.

    ``-0.5 * (1 + z_log_var - z_mean**2 - exp(z_log_var))`` elementwise; its
    sum over the last axis is :func:`kl_divergence`. Free bits floor its
    batch mean per dimension.

    Args:
        z_mean: Tensor ``(batch_size, latent_dim)``, posterior means.
        z_log_var: Tensor of the same shape, posterior log-variances.

    Returns:
        Tensor ``(batch_size, latent_dim)`` in nats, never negative (up to
        rounding).

    Example:

    >>> _kl_per_dimension(keras.ops.zeros((1, 3)), keras.ops.zeros((1, 3))).shape
    (1, 3)
    """
    z_mean = ops.convert_to_tensor(z_mean)
    z_log_var = ops.convert_to_tensor(z_log_var)
    if tuple(z_mean.shape) != tuple(z_log_var.shape):
        raise ValueError(
            "`z_mean` and `z_log_var` must have the same shape; received "
            f"{tuple(z_mean.shape)} and {tuple(z_log_var.shape)}."
        )
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def _gaussian_kl_per_dimension(q_mean, q_log_var, p_mean, p_log_var):
    """KL(N(q_mean, e^q_log_var) || N(p_mean, e^p_log_var)) per example and dimension.

    ``0.5 * (p_log_var - q_log_var + (exp(q_log_var) + (q_mean - p_mean)**2)
    / exp(p_log_var) - 1)``: the closed form between two diagonal Gaussians,
    used with a learned conditional prior ``p(z | c)``; with ``p_mean = 0,
    p_log_var = 0`` it is :func:`_kl_per_dimension`.
    """
    return 0.5 * (p_log_var - q_log_var
                  + (ops.exp(q_log_var) + ops.square(q_mean - p_mean)) * ops.exp(-p_log_var)
                  - 1.0)


def kl_divergence(z_mean, z_log_var):
    """KL(N(z_mean, diag(exp(z_log_var))) || N(0, I)) per example, in nats.

    Closed form, summed over latent dimensions (derived in notebook 04):
    ``-0.5 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var))``.

    Args:
        z_mean: Tensor ``(batch_size, latent_dim)``, posterior means.
        z_log_var: Tensor of the same shape, posterior log-variances.

    Returns:
        Tensor ``(batch_size,)``, never negative (up to rounding).

    Example:

    >>> float(kl_divergence(keras.ops.zeros((1, 3)), keras.ops.zeros((1, 3)))[0])
    0.0
    """
    return _sum_over_non_batch_axes(_kl_per_dimension(z_mean, z_log_var))


def continuous_bernoulli_log_normalizer(logits):
    """``log C(lambda)`` of the continuous Bernoulli, from ``logits = log(lambda / (1 - lambda))``.

    The continuous Bernoulli density on ``[0, 1]`` is
    ``C(lambda) * lambda**x * (1 - lambda)**(1 - x)`` with
    ``C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)`` (``C(1/2) = 2``).
    In logits this is ``C = logit / tanh(logit / 2)``; near ``logit = 0`` the
    Taylor series ``log 2 + logit**2 / 12 - 7 logit**4 / 1440`` replaces the
    0/0 form, so value and gradient are finite everywhere.

    Args:
        logits: Tensor of any shape.

    Returns:
        Tensor of the same shape, ``log C`` in nats (at least ``log 2``).

    Example:

    >>> round(float(continuous_bernoulli_log_normalizer(keras.ops.zeros(()))), 6)
    0.693147
    """
    logits = ops.convert_to_tensor(logits)
    small = ops.abs(logits) < _CB_TAYLOR_LIMIT
    safe = ops.where(small, ops.ones_like(logits), logits)  # no 0/0, no NaN gradient
    direct = ops.log(ops.abs(safe)) - ops.log(ops.abs(ops.tanh(0.5 * safe)))
    square = ops.square(logits)
    taylor = _LOG_TWO + square / 12.0 - 7.0 * ops.square(square) / 1440.0
    return ops.where(small, taylor, direct)


def _probabilities_to_logits(probabilities):
    eps = keras.config.epsilon()
    p = ops.clip(probabilities, eps, 1.0 - eps)
    return ops.log(p) - ops.log1p(-p)


def reconstruction_loss(x, x_decoded, likelihood="bernoulli", from_logits=False):
    """Negative log-likelihood ``-log p(x | z)`` per example, in nats.

    Summed over all data dimensions (pixels), so the value is comparable with
    the KL term and with ``log p(x)`` estimates.

    Args:
        x: Data tensor ``(batch_size, ...)``.
        x_decoded: Decoder output of the same shape: logits (with
            ``from_logits=True``) or probabilities for the Bernoulli family,
            means for the Gaussian.
        likelihood: ``"bernoulli"``: ``softplus(l) - x * l`` from logits
            ``l``, exact in value and gradient however large ``|l|``; from
            probabilities, binary cross-entropy with the probabilities
            clipped to ``[eps, 1 - eps]`` (``eps = keras.config.epsilon()``),
            which caps a confidently wrong pixel at about 16.1 nats and
            zeroes its gradient — give logits for exact numbers.
            ``"continuous_bernoulli"``: the same minus ``log C`` (see
            :func:`continuous_bernoulli_log_normalizer`), a normalised
            density for ``x`` in ``[0, 1]``.
            ``"gaussian"``: unit-variance Gaussian,
            ``0.5 * ||x - x_decoded||^2 + 0.5 * D * log(2 pi)``; the constant
            is kept so that the value is a true NLL.
        from_logits: Whether ``x_decoded`` holds logits (Bernoulli family only).

    Returns:
        Tensor ``(batch_size,)``.

    Example:

    >>> x = keras.ops.convert_to_tensor([[0.0, 0.0, 1.0, 0.0]])
    >>> logits = keras.ops.convert_to_tensor([[20.0, 30.0, -25.0, 5.0]])
    >>> round(float(reconstruction_loss(x, logits, from_logits=True)[0]), 3)
    80.007
    """
    return _sum_over_non_batch_axes(
        _reconstruction_nll_per_dim(x, x_decoded, likelihood, from_logits)
    )


def _reconstruction_nll_per_dim(x, x_decoded, likelihood, from_logits):
    """:func:`reconstruction_loss` before the sum: ``-log p(x_d | z)`` per data dimension."""
    _check_likelihood(likelihood)
    _check_from_logits(from_logits, likelihood, allow_none=False)
    x = ops.convert_to_tensor(x)
    x_decoded = ops.convert_to_tensor(x_decoded)
    if len(x.shape) != len(x_decoded.shape) or any(
        a is not None and b is not None and a != b for a, b in zip(x.shape, x_decoded.shape)
    ):  # None (unknown while tracing) matches anything
        raise ValueError(
            "`x` and `x_decoded` must have the same shape; received "
            f"{tuple(x.shape)} and {tuple(x_decoded.shape)}."
        )
    x = ops.cast(x, x_decoded.dtype)
    if likelihood == "gaussian":
        per_dim = 0.5 * ops.square(x - x_decoded) + _HALF_LOG_TWO_PI
    elif from_logits or likelihood == "continuous_bernoulli":
        logits = x_decoded if from_logits else _probabilities_to_logits(x_decoded)
        # -[x log(sigmoid l) + (1 - x) log(1 - sigmoid l)] = softplus(l) - x l
        per_dim = ops.softplus(logits) - x * logits
        if likelihood == "continuous_bernoulli":
            per_dim = per_dim - continuous_bernoulli_log_normalizer(logits)
    else:
        eps = keras.config.epsilon()
        p = ops.clip(x_decoded, eps, 1.0 - eps)
        per_dim = -(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p))
    return per_dim


def continuous_bernoulli_mean(logits):
    """Mean of the continuous Bernoulli with the given logits (numpy, float64).

    ``E[x] = lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda))``, which
    in logits is ``1 / (1 - exp(-l)) - 1 / l`` (``1/2`` at ``l = 0``). It is
    not ``lambda``: show this, not the decoder's ``lambda``, as the picture.

    Args:
        logits: Array of any shape.

    Returns:
        Numpy float64 array of the same shape, in ``(0, 1)``.

    Example:

    >>> float(continuous_bernoulli_mean(np.array(0.0)))
    0.5
    """
    logits = np.asarray(logits, dtype=np.float64)
    small = np.abs(logits) < 1e-3
    safe = np.where(small, 1.0, logits)
    direct = -1.0 / np.expm1(-safe) - 1.0 / safe  # 1/(1 - e^-l) - 1/l
    return np.where(small, 0.5 + logits / 12.0, direct)


# --- data checks --------------------------------------------------------------

_BINARIZE_HINT = (
    "binarize it (vae_keras.binarize(x, seed=...) for one fixed draw, or "
    "vae_keras.DynamicBinarization(x, batch_size) for a fresh draw every epoch), "
    "or build the model with likelihood='continuous_bernoulli' for grey levels"
)


def _is_array_like(values):
    return isinstance(values, (np.ndarray, list, tuple)) or ops.is_tensor(values)


def check_data(values, name="x", likelihood=None):
    """Refuses data a model cannot score honestly; returns it as a numpy array.

    Checks, in order: numeric dtype; not raw ``uint8`` pixels in 0..255; no
    NaN or +-inf; for the Bernoulli family, values in ``[0, 1]``; for
    ``"bernoulli"``, values exactly 0 or 1 (a Bernoulli likelihood on grey
    levels is not a normalised likelihood). Nothing is converted or clipped.

    Args:
        values: Array-like data ``(n, ...)``.
        name: Name used in the error messages.
        likelihood: None (only the generic checks) or one of ``LIKELIHOODS``.

    Returns:
        ``np.asarray(values)``.

    Raises:
        TypeError, ValueError: saying what was expected, what was received,
            and how to fix it.

    Example:

    >>> check_data(np.array([[0.0, 1.0]]), likelihood="bernoulli").shape
    (1, 2)
    """
    array = np.asarray(values)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"`{name}` must be numeric; received dtype {array.dtype}.")
    if array.size == 0:
        return array
    if array.dtype == np.uint8 and array.max() > 1:
        raise ValueError(
            f"`{name}` holds raw uint8 pixels in 0..{int(array.max())}; scale them "
            "to [0, 1] first: x.astype('float32') / 255.0 (vae_keras.load_mnist does this)."
        )
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(
            f"`{name}` contains NaN or +-inf ({int(np.isnan(array).sum())} NaN, "
            f"{int(np.isinf(array).sum())} inf); remove or impute those values."
        )
    if likelihood in _LOGIT_LIKELIHOODS:
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"`{name}` must lie in [0, 1] for likelihood={likelihood!r}; received "
                f"values in [{low:g}, {high:g}]. Scale images to [0, 1] "
                "(e.g. x / 255.0) or build the model with likelihood='gaussian'."
            )
    if likelihood == "bernoulli":
        grey = int(np.count_nonzero((array != 0) & (array != 1)))
        if grey:
            raise ValueError(
                f"`{name}` has {grey} values strictly between 0 and 1, but "
                "likelihood='bernoulli' is a likelihood for binary data only (on grey "
                "levels binary cross-entropy is not a normalised likelihood, so its "
                f"'nats' are not a bound on anything). Either {_BINARIZE_HINT}."
            )
    return array


def _check_data(name, values, likelihood=None):
    if _is_array_like(values):  # datasets, generators and PyDatasets are not scanned
        check_data(values, name, likelihood)


def _unpack_validation(validation_data):
    if validation_data is None or hasattr(validation_data, "element_spec"):
        return None
    if isinstance(validation_data, tuple):
        if len(validation_data) != 1 and not (
            len(validation_data) == 2 and validation_data[1] is None
        ):
            raise ValueError(
                "A VAE validates without targets: pass validation_data=(x_val,); "
                f"received a tuple of length {len(validation_data)}."
            )
        return validation_data[0]
    return validation_data


def _element_spec_shapes(spec):
    return [tuple(s.shape) for s in keras.tree.flatten(spec)]


def _check_dataset_elements(name, data, parts):
    """A ``tf.data.Dataset`` must yield ``x`` (``parts=1``) or ``(x, c)`` (``parts=2``).

    Returns the dataset, mapped from ``(x, c)`` to ``((x, c),)`` for a
    conditional model so that Keras does not read ``c`` as a target.
    """
    spec = getattr(data, "element_spec", None)
    if spec is None:
        return data
    flat = keras.tree.flatten(spec)
    if parts == 1:
        if len(flat) == 1:
            return data
        raise ValueError(
            f"`{name}`: a VAE's dataset must yield batches x of shape (batch,) + "
            f"input_shape, without labels; received elements of shapes "
            f"{_element_spec_shapes(spec)}. Drop the labels: dataset.map(lambda x, y: x)."
        )
    if len(flat) == 2 and isinstance(spec, tuple):
        if len(spec) == 2:
            return data.map(lambda x, c: ((x, c),))
        if len(spec) == 1 and isinstance(spec[0], tuple):
            return data
    raise ValueError(
        f"`{name}`: a CVAE's dataset must yield pairs (x, c) of shapes "
        "(batch,) + input_shape and (batch,) + condition_shape; received elements "
        f"of shapes {_element_spec_shapes(spec)}."
    )


def _reject_weights(kwargs):
    for key in ("sample_weight", "class_weight"):
        if kwargs.get(key) is not None:
            raise ValueError(
                f"A VAE does not support `{key}`: every example counts once in "
                f"the ELBO; received {key} of type {type(kwargs[key]).__name__}."
            )


def _sigmoid_logits_model(decoder):
    """A model ``decoder.inputs -> logits`` sharing the decoder's layers, or None.

    Found when the decoder is a functional model whose output comes from a
    ``keras.layers.Activation("sigmoid")`` layer: the logits are that layer's
    input. (A ``Dense(..., activation="sigmoid")`` output has no logits tensor
    in the graph, so it is not found.)
    """
    outputs = getattr(decoder, "outputs", None)
    if not isinstance(decoder, keras.Model) or not outputs or len(outputs) != 1:
        return None
    history = getattr(outputs[0], "_keras_history", None)
    layer = getattr(history, "operation", None)
    if not isinstance(layer, keras.layers.Activation):
        return None
    if getattr(layer.activation, "__name__", None) != "sigmoid":
        return None
    return keras.Model(decoder.inputs, layer.input, name=f"{decoder.name}_logits")


# --- the models ---------------------------------------------------------------


DEFAULT_STEPS_PER_EXECUTION = 16  # see VariationalAutoencoder.compile


@keras.saving.register_keras_serializable(package="vae_keras")
class VariationalAutoencoder(keras.Model):
    """A VAE as a Keras model: ``fit(x)`` minimises ``reconstruction + beta * KL``.

    Usually built with :func:`VAE`, which checks the parts and compiles.
    The loss per batch is the mean over examples of the reconstruction NLL
    (summed over data dimensions) plus ``beta`` times the KL (summed over
    latent dimensions), so it reads in nats per example; with ``beta=1`` and
    no free bits it is the negative ELBO.

    ``beta`` is a non-trainable Keras variable: assign it (``model.beta =
    0.5`` or ``model.beta.assign(0.5)``), also from a callback during
    ``fit`` (see :class:`vae_keras.callbacks.KLWarmup`); it is saved with the
    model.

    Args:
        encoder: Model ``x -> [z_mean, z_log_var]``.
        decoder: Model ``z -> x_decoded`` with the shape of ``x``.
        sampling_layer: Layer ``[z_mean, z_log_var] -> z``; ``Sampling()`` if None.
        beta: Initial weight of the KL term, finite and >= 0.
        likelihood: ``"bernoulli"`` (binary data), ``"continuous_bernoulli"``
            (data in [0, 1]) or ``"gaussian"``; see :func:`reconstruction_loss`.
        input_shape: Shape of one example, without the batch axis.
        from_logits: ``None`` (default): losses from logits when the decoder
            ends in ``Activation("sigmoid")``, else from its probabilities.
            ``True``: the decoder outputs logits. ``False``: it outputs
            probabilities (clipped in the loss).
        free_bits: ``lambda >= 0`` nats per latent dimension (Kingma et al.,
            2016): the KL term of the *loss* is
            ``sum_i max(lambda, mean_batch KL_i)``. ``kl_loss`` in the
            history stays the true KL. 0 disables it.
        prior: None for ``p(z) = N(0, I)`` (KL in closed form), or a learned
            prior layer with ``log_prob(z)`` and ``draw(n, rng)`` such as
            :class:`vae_keras.priors.MixturePrior`, trained with the model;
            the KL term is then the one-sample Monte Carlo estimate
            ``log q(z | x) - log p(z)`` (no free bits).
        **kwargs: Base model arguments (``name``, ``dtype``...).

    Call arguments:
        inputs: Data batch ``x``.

    Returns:
        The mean of ``p(x | z)`` for one sampled ``z`` per example:
        probabilities (Bernoulli family, also when the decoder outputs
        logits) or means (Gaussian). So ``predict(x)`` gives stochastic
        reconstructions; :meth:`encode`, :meth:`decode` and :meth:`sample`
        give the parts.

    Example:

    >>> vae = VAE((784,), encoder, decoder)   # doctest: +SKIP
    >>> vae.fit(x_train, epochs=5)            # doctest: +SKIP
    """

    def __init__(self, encoder, decoder, sampling_layer=None, beta=1.0,
                 likelihood="bernoulli", input_shape=None, from_logits=None,
                 free_bits=0.0, prior=None, **kwargs):
        super().__init__(**kwargs)
        _check_likelihood(likelihood)
        self.likelihood = likelihood
        self.from_logits = _check_from_logits(from_logits, likelihood)
        self.free_bits = _check_non_negative_number(free_bits, "free_bits")
        self.encoder = encoder
        self.decoder = decoder
        self.sampling_layer = sampling_layer if sampling_layer is not None else Sampling()
        self.data_shape = None if input_shape is None else _as_shape(input_shape, "input_shape")
        self._beta = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(_check_beta(beta)),
            trainable=False, name="beta", dtype="float32",
        )
        self.prior = _check_density_prior(prior, self.free_bits)
        self._resolve_output_head()
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # The encoder and decoder arrive built; the only own weight is beta.
        self.built = True

    def compile(self, optimizer="rmsprop", *args, steps_per_execution=None, **kwargs):
        """``keras.Model.compile`` with a faster default ``steps_per_execution``.

        Args:
            optimizer, *args, **kwargs: As ``keras.Model.compile``; a VAE
                needs no ``loss`` (its loss is built in).
            steps_per_execution: Batches per compiled call. None (default):
                ``DEFAULT_STEPS_PER_EXECUTION`` (16), which trains these
                small models about 1.3x faster on a CPU by calling the
                compiled step less often from Python (measured with
                ``tools/benchmark_backends.py``); 1 on the torch backend,
                which does not support more. Callbacks' batch hooks then run
                once per call (``KLWarmup`` counts the batches it skipped).

        Example:

        >>> vae.compile(optimizer=keras.optimizers.Adam(1e-3))  # doctest: +SKIP
        """
        if steps_per_execution is None:
            steps_per_execution = (1 if keras.backend.backend() == "torch"
                                   else DEFAULT_STEPS_PER_EXECUTION)
        super().compile(optimizer, *args, steps_per_execution=steps_per_execution, **kwargs)

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved (``keras.models.load_model`` calls it)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:  # optimizer variables, so that the saved ones load into them
            self.optimizer.build(self.trainable_variables)

    def _resolve_output_head(self):
        """Decides whether the loss sees logits, and from which model."""
        logits_model = None
        if self.likelihood in _LOGIT_LIKELIHOODS and self.from_logits is None:
            logits_model = _sigmoid_logits_model(self.decoder)
        # Not tracked as a sub-layer: it shares the decoder's weights, which
        # must be saved and trained once.
        object.__setattr__(self, "_logits_decoder", logits_model)
        object.__setattr__(self, "_loss_from_logits",
                           bool(self.from_logits) or logits_model is not None)

    @property
    def beta(self):
        """Weight of the KL term: a non-trainable ``keras.Variable``, assignable."""
        return self._beta

    @beta.setter
    def beta(self, value):
        self._beta.assign(_check_beta(value))

    @property
    def logits_decoder(self):
        """The model ``z -> logits`` the loss uses, sharing the decoder's weights.

        The decoder up to its final ``Activation("sigmoid")`` when it has one,
        the decoder itself with ``from_logits=True``, else None (the loss then
        uses clipped probabilities).
        """
        if self._logits_decoder is not None:
            return self._logits_decoder
        return self.decoder if self.from_logits else None

    @property
    def exact_likelihood(self):
        """True when the loss is computed exactly (from logits, or Gaussian)."""
        return self.likelihood == "gaussian" or self._loss_from_logits

    # Hooks that CVAE overrides: how inputs reach the encoder and decoder.
    def _data(self, inputs):
        return inputs

    def _encode(self, inputs):
        return self.encoder(inputs)

    def _decoder_inputs(self, z, inputs):
        return z

    def _kl_dims(self, z_mean, z_log_var, z, inputs):
        """KL(q(z | x) || p(z)) per example and latent dimension (closed form, p(z) = N(0, I)).

        With a learned density prior, ``(batch, 1)``: the one-sample estimate
        ``log q(z | x) - log p(z)`` at the sampled ``z``.
        """
        if self.prior is None:
            return _kl_per_dimension(z_mean, z_log_var)
        log_q = -0.5 * ops.sum(ops.square(z - z_mean) * ops.exp(-z_log_var) + z_log_var
                               + _LOG_TWO_PI, axis=-1)
        return (log_q - self.prior.log_prob(z))[:, None]

    def _loss_head(self, z, inputs):
        """The decoder's output as the loss wants it: logits or probabilities/means."""
        decoder = self._logits_decoder if self._logits_decoder is not None else self.decoder
        return decoder(self._decoder_inputs(z, inputs))

    def call(self, inputs, training=None):
        z_mean, z_log_var = self._encode(inputs)
        z = self.sampling_layer([z_mean, z_log_var])
        head = self._loss_head(z, inputs)
        kl_dims = self._kl_dims(z_mean, z_log_var, z, inputs)
        if not isinstance(kl_dims, keras.KerasTensor):  # no losses in symbolic calls
            reconstruction = ops.mean(reconstruction_loss(
                self._data(inputs), head, self.likelihood, self._loss_from_logits))
            kl = ops.mean(ops.sum(kl_dims, axis=-1))
            if self.free_bits > 0:
                kl_objective = ops.sum(ops.maximum(ops.mean(kl_dims, axis=0), self.free_bits))
            else:
                kl_objective = kl
            # Order matters: compute_loss reads these three first.
            self.add_loss(reconstruction)
            self.add_loss(kl)
            self.add_loss(kl_objective)
        return ops.sigmoid(head) if self._loss_from_logits else head

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        losses = self.losses
        if len(losses) < 3:
            raise RuntimeError("compute_loss needs the losses added by call().")
        reconstruction, kl, kl_objective, *others = losses
        total = reconstruction + ops.cast(self._beta, kl_objective.dtype) * kl_objective
        for other in others:  # e.g. weight regularizers in the encoder
            total = total + ops.sum(other)
        batch_size = ops.shape(keras.tree.flatten(x)[0])[0]
        self.reconstruction_loss_tracker.update_state(reconstruction, sample_weight=batch_size)
        self.kl_loss_tracker.update_state(kl, sample_weight=batch_size)
        return total

    # --- input checks shared by fit / evaluate / predict / encode ----------

    def _check_inputs(self, name, inputs):
        _check_data(name, inputs, self.likelihood)

    def _prepare_data(self, name, data):
        return _check_dataset_elements(name, data, parts=1)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        if y is not None:
            raise ValueError(
                "A VAE trains without targets: call fit(x) (the reconstruction "
                f"target is x itself); received y of type {type(y).__name__}."
            )
        _reject_weights(kwargs)
        validation_data = self._as_validation_tuple(validation_data)
        self._check_inputs("x", x)
        self._check_inputs("validation_data", _unpack_validation(validation_data))
        x = self._prepare_data("x", x)
        if hasattr(validation_data, "element_spec"):
            validation_data = self._prepare_data("validation_data", validation_data)
        return super().fit(x, None, *args, validation_data=validation_data, **kwargs)

    def _as_validation_tuple(self, validation_data):
        return validation_data

    def evaluate(self, x=None, y=None, *args, **kwargs):
        if y is not None:
            raise ValueError(
                "A VAE evaluates without targets: call evaluate(x); received y "
                f"of type {type(y).__name__}."
            )
        _reject_weights(kwargs)
        self._check_inputs("x", x)
        return super().evaluate(self._prepare_data("x", x), None, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """Stochastic reconstructions: the mean of ``p(x | z)`` for one ``z ~ q(z | x)``.

        Args:
            x: Data as for :meth:`fit`.
            *args, **kwargs: As ``keras.Model.predict`` (``batch_size``,
                ``verbose``...).

        Returns:
            Numpy array with the shape of ``x``: probabilities (Bernoulli
            family) or means (Gaussian). Use :meth:`encode` for the posterior
            and :meth:`decode` for ``E[x | z]`` at chosen codes.
        """
        self._check_inputs("x", x)
        return super().predict(self._prepare_data("x", x), *args, **kwargs)

    # --- the parts, for users ------------------------------------------------

    @property
    def latent_dim(self):
        """Number of latent dimensions (the width of ``z_mean``)."""
        inputs = getattr(self.decoder, "inputs", None)
        if inputs:
            return int(keras.tree.flatten(inputs)[0].shape[-1])
        outputs = getattr(self.encoder, "outputs", None)
        if outputs:
            return int(outputs[0].shape[-1])
        raise ValueError("The latent size is unknown: the decoder has no `inputs`.")

    def encode(self, x, batch_size=256):
        """The posterior ``q(z | x)``: ``(z_mean, z_log_var)`` as numpy arrays.

        Args:
            x: Data ``(n,) + input_shape`` (a CVAE: ``[x, c]``).
            batch_size: Positive int, examples per encoder call.

        Returns:
            Two float arrays ``(n, latent_dim)``.

        Example:

        >>> z_mean, z_log_var = vae.encode(x_test)   # doctest: +SKIP
        """
        self._check_inputs("x", x)
        outputs = self.encoder.predict(x, batch_size=_check_positive_int(batch_size, "batch_size"),
                                       verbose=0)
        return tuple(np.asarray(part) for part in outputs)

    def decode(self, z, condition=None, batch_size=256):
        """``E[x | z]``: the decoder's probabilities (or means) at codes ``z``.

        Args:
            z: Array ``(n, latent_dim)``.
            condition: None for a VAE; for a CVAE an array ``(n,) + condition_shape``.
            batch_size: Positive int, codes per decoder call.

        Returns:
            Numpy array ``(n,) + input_shape``: probabilities for the
            Bernoulli family (the sigmoid is applied when the decoder
            outputs logits), means for the Gaussian. For the continuous
            Bernoulli this is its parameter ``lambda``; its mean is
            :func:`continuous_bernoulli_mean` of the logits.

        Example:

        >>> images = vae.decode(np.zeros((1, vae.latent_dim)))   # doctest: +SKIP
        """
        z = check_data(z, "z")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"`z` must have shape (n, {self.latent_dim}); received {z.shape}."
            )
        inputs = self._decoder_predict_inputs(z.astype(keras.config.floatx()), condition)
        out = np.asarray(self.decoder.predict(
            inputs, batch_size=_check_positive_int(batch_size, "batch_size"), verbose=0))
        if self.from_logits:  # the decoder outputs logits
            out = 1.0 / (1.0 + np.exp(-out.astype(np.float64)))
        return out

    def _decoder_predict_inputs(self, z, condition):
        if condition is not None:
            raise ValueError("This model is unconditional: call decode(z) without a condition.")
        return z

    def sample(self, n, seed=None, condition=None):
        """Draws ``n`` codes from the prior and decodes them (one batched call).

        The prior is ``N(0, I)``, or for a CVAE with a learned prior
        ``p(z | c)`` the Gaussian its prior network gives for each row of
        ``condition``.

        Args:
            n: Positive int, the number of samples.
            seed: Optional int; the same seed gives the same codes (None uses
                numpy's global generator, seeded by ``keras.utils.set_random_seed``).
            condition: For a CVAE, an array ``(n,) + condition_shape``.

        Returns:
            Numpy array ``(n,) + input_shape`` of ``E[x | z]`` (see :meth:`decode`).

        Example:

        >>> digits = vae.sample(16, seed=0)   # doctest: +SKIP
        """
        n = _check_positive_int(n, "n")
        seed = _check_seed(seed)
        rng = np.random if seed is None else np.random.default_rng(seed)
        if self.prior is not None and hasattr(self.prior, "draw"):
            z = self.prior.draw(n, np.random.default_rng(rng.randint(2**31 - 1))
                                if rng is np.random else rng)
        else:
            z = rng.standard_normal((n, self.latent_dim))
            z = self._from_standard_normal(z, condition)
        return self.decode(z, condition=condition)

    def _from_standard_normal(self, epsilon, condition):
        return epsilon

    def get_config(self):
        config = super().get_config()
        config.update({
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "sampling_layer": keras.saving.serialize_keras_object(self.sampling_layer),
            "beta": float(ops.convert_to_numpy(self._beta)),
            "likelihood": self.likelihood,
            "input_shape": self.data_shape,
            "from_logits": self.from_logits,
            "free_bits": self.free_bits,
            "prior": (None if self.prior is None
                      else keras.saving.serialize_keras_object(self.prior)),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "sampling_layer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        if isinstance(config.get("prior"), dict):
            config["prior"] = keras.saving.deserialize_keras_object(config["prior"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="vae_keras")
class ConditionalVariationalAutoencoder(VariationalAutoencoder):
    """A conditional VAE: ``fit([x, c])`` models ``p(x | c)``.

    The encoder sees ``[x, c]`` and the decoder ``[z, c]``. The prior is
    ``N(0, I)`` for every ``c`` (the simplification), or with ``prior`` a
    network ``c -> [p_mean, p_log_var]`` giving a diagonal Gaussian
    ``p(z | c)``, trained with the rest (Sohn et al., 2015's prior network);
    the KL term is then the closed form between the two Gaussians. Usually
    built with :func:`CVAE`; taught in notebook 06. A ``tf.data.Dataset``
    yielding ``(x, c)`` pairs trains it too.

    Args:
        encoder: Model ``[x, c] -> [z_mean, z_log_var]``.
        decoder: Model ``[z, c] -> x_decoded``.
        sampling_layer, beta, likelihood, input_shape, from_logits, free_bits:
            as in :class:`VariationalAutoencoder`.
        condition_shape: Shape of one condition ``c``, without the batch axis.
        prior: None (``p(z | c) = N(0, I)``) or a Keras model
            ``c -> [p_mean, p_log_var]``, each ``(batch, latent_dim)``.

    Call arguments:
        inputs: A list ``[x, c]``.

    Returns:
        The mean of ``p(x | z, c)`` for one sampled ``z``.

    Example:

    >>> cvae = CVAE((784,), (10,), encoder, decoder)   # doctest: +SKIP
    >>> cvae.fit([x_train, y_onehot], epochs=5)        # doctest: +SKIP
    """

    def __init__(self, encoder, decoder, sampling_layer=None, beta=1.0,
                 likelihood="bernoulli", input_shape=None, condition_shape=None,
                 from_logits=None, free_bits=0.0, prior=None, **kwargs):
        super().__init__(encoder, decoder, sampling_layer, beta, likelihood,
                         input_shape, from_logits, free_bits, prior=None, **kwargs)
        self.condition_shape = (
            None if condition_shape is None else _as_shape(condition_shape, "condition_shape")
        )
        if prior is not None:
            _check_part(prior, "prior")
        self.prior = prior

    def _kl_dims(self, z_mean, z_log_var, z, inputs):
        if self.prior is None:
            return _kl_per_dimension(z_mean, z_log_var)
        p_mean, p_log_var = self.prior(self._split(inputs)[1])
        return _gaussian_kl_per_dimension(z_mean, z_log_var, p_mean, p_log_var)

    def prior_parameters(self, condition, batch_size=256):
        """``p(z | c)``: ``(p_mean, p_log_var)`` as numpy arrays, one row per condition.

        Args:
            condition: Array ``(n,) + condition_shape``.
            batch_size: Positive int, conditions per call.

        Returns:
            Two float arrays ``(n, latent_dim)``: zeros for the fixed prior
            ``N(0, I)``, the prior network's outputs otherwise.

        Example:

        >>> p_mean, p_log_var = cvae.prior_parameters(one_hot(np.arange(10)))  # doctest: +SKIP
        """
        condition = check_data(condition, "condition")
        if self.prior is None:
            zeros = np.zeros((len(condition), self.latent_dim), dtype=keras.config.floatx())
            return zeros, zeros.copy()
        outputs = self.prior.predict(condition.astype(keras.config.floatx()),
                                     batch_size=_check_positive_int(batch_size, "batch_size"),
                                     verbose=0)
        return tuple(np.asarray(part) for part in outputs)

    def _from_standard_normal(self, epsilon, condition):
        if self.prior is None or condition is None:
            return epsilon
        p_mean, p_log_var = self.prior_parameters(condition)
        if len(p_mean) != len(epsilon):
            raise ValueError(
                f"`condition` must have one row per sample: {len(epsilon)} samples, "
                f"received {len(p_mean)} rows."
            )
        return p_mean + np.exp(0.5 * p_log_var) * epsilon

    @staticmethod
    def _split(inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "A CVAE takes a list [x, c] of data and condition; received "
                f"{type(inputs).__name__}."
            )
        return inputs

    def _data(self, inputs):
        return self._split(inputs)[0]

    def _encode(self, inputs):
        x, c = self._split(inputs)
        return self.encoder([x, c])

    def _decoder_inputs(self, z, inputs):
        return [z, self._split(inputs)[1]]

    def _as_validation_tuple(self, validation_data):
        # Keras would read a list [x_val, c_val] as (x, y): wrap it as (inputs,).
        if isinstance(validation_data, list):
            return (validation_data,)
        return validation_data

    def _prepare_data(self, name, data):
        return _check_dataset_elements(name, data, parts=2)

    def _check_inputs(self, name, inputs):
        if not _is_array_like(inputs):
            return
        x, c = self._split(inputs)
        _check_data(name + "[0] (x)", x, self.likelihood)
        _check_data(name + "[1] (condition)", c)

    def _decoder_predict_inputs(self, z, condition):
        if condition is None:
            raise ValueError("A CVAE decodes [z, c]: pass condition=c with one row per code.")
        condition = check_data(condition, "condition")
        if len(condition) != len(z):
            raise ValueError(
                f"`condition` must have one row per code: {len(z)} codes, received "
                f"{len(condition)} rows."
            )
        return [z, condition.astype(keras.config.floatx())]

    def get_config(self):
        config = super().get_config()
        config["condition_shape"] = self.condition_shape
        return config


def _symbolic_outputs(part, name, inputs):
    try:
        outputs = part(inputs)
    except Exception as error:  # report which part failed and on what shape
        shapes = [tuple(t.shape) for t in keras.tree.flatten(inputs)]
        raise ValueError(
            f"The {name} could not be called on inputs of shape {shapes}: {error}"
        ) from error
    return outputs


def _check_encoder_outputs(outputs):
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        count = len(outputs) if isinstance(outputs, (list, tuple)) else 1
        raise ValueError(
            "The encoder must return exactly two tensors [z_mean, z_log_var]; "
            f"it returned {count}."
        )
    z_mean, z_log_var = outputs
    if tuple(z_mean.shape) != tuple(z_log_var.shape) or len(z_mean.shape) != 2:
        raise ValueError(
            "The encoder's two outputs must both have shape (batch, latent_dim); "
            f"received {tuple(z_mean.shape)} and {tuple(z_log_var.shape)}."
        )
    return z_mean.shape[1]


def _check_density_prior(prior, free_bits):
    """A VAE's learned prior: None, or a layer with ``log_prob(z)`` and ``draw(n, rng)``."""
    if prior is None:
        return None
    if not isinstance(prior, keras.layers.Layer) or not all(
            callable(getattr(prior, name, None)) for name in ("log_prob", "draw")):
        raise TypeError(
            "`prior` must be a Keras layer with log_prob(z) and draw(n, rng), such as "
            f"vae_keras.priors.MixturePrior; received {type(prior).__name__}."
        )
    if free_bits > 0:
        raise ValueError(
            "Free bits need the KL per latent dimension, which a learned prior does not "
            f"give: use free_bits=0 with `prior`; received free_bits={free_bits!r}."
        )
    return prior


def _check_prior_outputs(outputs, latent_dim):
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        count = len(outputs) if isinstance(outputs, (list, tuple)) else 1
        raise ValueError(
            "The prior must return exactly two tensors [p_mean, p_log_var]; "
            f"it returned {count}."
        )
    shapes = [tuple(t.shape) for t in outputs]
    if any(len(shape) != 2 or shape[1] != latent_dim for shape in shapes):
        raise ValueError(
            f"The prior's two outputs must both have shape (batch, {latent_dim}) (the "
            f"encoder's latent size); received {shapes[0]} and {shapes[1]}."
        )


def _check_decoder_output(output, input_shape):
    if isinstance(output, (list, tuple)) or tuple(output.shape[1:]) != input_shape:
        shape = [tuple(t.shape) for t in output] if isinstance(output, (list, tuple)) \
            else tuple(output.shape)
        raise ValueError(
            f"The decoder must return one tensor of shape (batch,) + {input_shape} "
            f"(the input_shape); it returned {shape}."
        )


def _check_part(part, name):
    if not isinstance(part, keras.layers.Layer):
        raise TypeError(
            f"`{name}` must be a Keras model or layer; received {type(part).__name__}."
        )


def VAE(input_shape, encoder, decoder, sampling_layer=None, beta=1.0, *,
        likelihood="bernoulli", from_logits=None, free_bits=0.0, prior=None, optimizer="adam"):
    """Builds and compiles the lecture's VAE on Keras 3.

    Same signature as the lecture's ``VAE(input_shape, encoder, decoder,
    sampling_layer, beta)``; the returned model trains with ``fit(x)``, no
    targets. ``history.history`` holds ``loss`` (reconstruction + beta * KL),
    ``reconstruction_loss`` and ``kl_loss`` (unweighted), all in nats per
    example, plus ``val_*`` with ``validation_data=(x_val,)``.

    Args:
        input_shape: Shape of one example, e.g. ``(28, 28, 1)`` or ``(784,)``.
        encoder: Keras model ``x -> [z_mean, z_log_var]``.
        decoder: Keras model ``z -> x_decoded`` with shape ``input_shape``
            (Bernoulli: probabilities; Gaussian: means).
        sampling_layer: Layer ``[z_mean, z_log_var] -> z``; ``Sampling()`` if None.
        beta: KL weight, finite and >= 0 (``beta=1`` is the ELBO); stored
            in the non-trainable variable ``model.beta``.
        likelihood: ``"bernoulli"`` (binary data), ``"continuous_bernoulli"``
            (grey levels in [0, 1]) or ``"gaussian"`` (unit variance,
            constant kept).
        from_logits: None (detect: exact losses from logits when the decoder
            ends in ``Activation("sigmoid")``), True (the decoder outputs
            logits) or False (probabilities, clipped in the loss).
        free_bits: Nats per latent dimension below which the KL is not
            penalised (0: off); see :class:`VariationalAutoencoder`.
        prior: None (``N(0, I)``) or a learned prior layer, e.g.
            :class:`vae_keras.priors.MixturePrior` (KL by Monte Carlo).
        optimizer: Anything ``Model.compile`` accepts.

    Returns:
        A compiled :class:`VariationalAutoencoder`.

    Raises:
        TypeError, ValueError: before any training, when a part does not fit.

    Example:

    >>> vae = VAE((28, 28, 1), encoder, decoder, Sampling(), beta=1.0)  # doctest: +SKIP
    >>> history = vae.fit(x_train, epochs=10, batch_size=128)          # doctest: +SKIP
    """
    input_shape = _as_shape(input_shape, "input_shape")
    _check_parts(encoder, decoder, sampling_layer, beta, likelihood, from_logits, free_bits)
    z_mean_dim = _check_encoder_outputs(
        _symbolic_outputs(encoder, "encoder", keras.Input(shape=input_shape))
    )
    _check_decoder_output(
        _symbolic_outputs(decoder, "decoder", keras.Input(shape=(z_mean_dim,))), input_shape
    )
    _check_density_prior(prior, _check_non_negative_number(free_bits, "free_bits"))
    if prior is not None and getattr(prior, "latent_dim", z_mean_dim) != z_mean_dim:
        raise ValueError(
            f"The prior's latent_dim must be the encoder's latent size {z_mean_dim}; "
            f"received {prior.latent_dim}."
        )
    model = VariationalAutoencoder(encoder, decoder, sampling_layer, beta, likelihood,
                                   input_shape=input_shape, from_logits=from_logits,
                                   free_bits=free_bits, prior=prior, name="vae")
    model.compile(optimizer=optimizer)
    return model


def CVAE(input_shape, condition_shape, encoder, decoder, sampling_layer=None, beta=1.0,
         *, likelihood="bernoulli", from_logits=None, free_bits=0.0, prior=None,
         optimizer="adam"):
    """Builds and compiles a conditional VAE; trains with ``fit([x, c])``.

    Args:
        input_shape: Shape of one example ``x``.
        condition_shape: Shape of one condition ``c`` (a one-hot label, a
            column of pixels, ...).
        encoder: Keras model ``[x, c] -> [z_mean, z_log_var]``.
        decoder: Keras model ``[z, c] -> x_decoded`` with shape ``input_shape``.
        sampling_layer, beta, likelihood, from_logits, free_bits, optimizer:
            as in :func:`VAE`.
        prior: None for the fixed prior ``p(z | c) = N(0, I)``, or a Keras
            model ``c -> [p_mean, p_log_var]`` (a learned diagonal Gaussian
            ``p(z | c)``, trained with the encoder and decoder; e.g.
            :func:`vae_keras.architectures.mlp_prior`).

    Returns:
        A compiled :class:`ConditionalVariationalAutoencoder`.

    Example:

    >>> cvae = CVAE((784,), (10,), encoder, decoder, beta=1.0)   # doctest: +SKIP
    >>> cvae.fit([x_train, one_hot(y_train)], epochs=10)         # doctest: +SKIP
    """
    input_shape = _as_shape(input_shape, "input_shape")
    condition_shape = _as_shape(condition_shape, "condition_shape")
    _check_parts(encoder, decoder, sampling_layer, beta, likelihood, from_logits, free_bits)
    condition = keras.Input(shape=condition_shape)
    z_mean_dim = _check_encoder_outputs(
        _symbolic_outputs(encoder, "encoder", [keras.Input(shape=input_shape), condition])
    )
    _check_decoder_output(
        _symbolic_outputs(decoder, "decoder", [keras.Input(shape=(z_mean_dim,)), condition]),
        input_shape,
    )
    if prior is not None:
        _check_part(prior, "prior")
        _check_prior_outputs(_symbolic_outputs(prior, "prior", condition), z_mean_dim)
    model = ConditionalVariationalAutoencoder(
        encoder, decoder, sampling_layer, beta, likelihood, input_shape=input_shape,
        condition_shape=condition_shape, from_logits=from_logits, free_bits=free_bits,
        prior=prior, name="cvae",
    )
    model.compile(optimizer=optimizer)
    return model


def _check_parts(encoder, decoder, sampling_layer, beta, likelihood, from_logits, free_bits):
    _check_part(encoder, "encoder")
    _check_part(decoder, "decoder")
    if sampling_layer is not None:
        _check_part(sampling_layer, "sampling_layer")
    _check_beta(beta)
    _check_likelihood(likelihood)
    _check_from_logits(from_logits, likelihood)
    _check_non_negative_number(free_bits, "free_bits")
