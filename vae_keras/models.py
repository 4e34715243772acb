"""The lecture's VAE builder, re-made for Keras 3.

This file is self-contained on purpose: it imports only ``keras``, ``numpy``
and the standard library, so an instructor can copy it into an assignment.
It holds the sampling layer, the two loss terms, and the ``VAE`` / ``CVAE``
builders. Notebooks 03 (sampling) and 04 (KL loss, first VAE) teach it.

Why not the lecture code? Keras 3 removed symbolic ``model.add_loss(...)`` on
functional models and the ``keras.backend`` helpers (``K.flatten``,
``K.random_normal``). Here the model is a small ``keras.Model`` subclass whose
``call`` adds the two loss terms with ``add_loss`` on real tensors, and whose
``compute_loss`` weights them by ``beta``; that works on every backend.
"""

import math

import keras
import numpy as np
from keras import ops

LIKELIHOODS = ("bernoulli", "gaussian")
_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)


def _sum_over_non_batch_axes(values):
    axes = tuple(range(1, len(values.shape)))
    return ops.sum(values, axis=axes) if axes else values


def _check_likelihood(likelihood):
    if likelihood not in LIKELIHOODS:
        raise ValueError(
            f"`likelihood` must be one of {LIKELIHOODS}; received {likelihood!r}."
        )


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
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
        ):
            raise ValueError(f"`seed` must be an int or None; received {seed!r}.")
        self.seed = None if seed is None else int(seed)
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
    z_mean = ops.convert_to_tensor(z_mean)
    z_log_var = ops.convert_to_tensor(z_log_var)
    if tuple(z_mean.shape) != tuple(z_log_var.shape):
        raise ValueError(
            "`z_mean` and `z_log_var` must have the same shape; received "
            f"{tuple(z_mean.shape)} and {tuple(z_log_var.shape)}."
        )
    per_dim = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
    return _sum_over_non_batch_axes(per_dim)


def reconstruction_loss(x, x_decoded, likelihood="bernoulli"):
    """Negative log-likelihood ``-log p(x | z)`` per example, in nats.

    Summed over all data dimensions (pixels), so the value is comparable with
    the KL term and with ``log p(x)`` estimates.

    Args:
        x: Data tensor ``(batch_size, ...)``.
        x_decoded: Decoder output of the same shape: Bernoulli probabilities
            in (0, 1), or Gaussian means.
        likelihood: ``"bernoulli"``: binary cross-entropy; probabilities are
            clipped to ``[eps, 1 - eps]`` with ``eps = keras.config.epsilon()``
            so a saturated sigmoid never gives ``log(0)``.
            ``"gaussian"``: unit-variance Gaussian,
            ``0.5 * ||x - x_decoded||^2 + 0.5 * D * log(2 pi)``. The constant
            is kept so that the value is a true NLL; it does not change
            gradients.

    Returns:
        Tensor ``(batch_size,)``.

    Example:

    >>> x = keras.ops.ones((2, 4))
    >>> reconstruction_loss(x, 0.5 * x).shape
    (2,)
    """
    _check_likelihood(likelihood)
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
    if likelihood == "bernoulli":
        eps = keras.config.epsilon()
        p = ops.clip(x_decoded, eps, 1.0 - eps)
        per_dim = -(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p))
    else:
        per_dim = 0.5 * ops.square(x - x_decoded) + _HALF_LOG_TWO_PI
    return _sum_over_non_batch_axes(per_dim)


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


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.number)):
        raise TypeError(f"`beta` must be a number; received {type(beta).__name__}.")
    if not math.isfinite(float(beta)) or beta < 0:
        raise ValueError(f"`beta` must be finite and >= 0; received {beta!r}.")
    return float(beta)


def _check_data(name, values, likelihood=None):
    """Fails fast on NaN, and on data a Bernoulli likelihood cannot model."""
    if not _is_array_like(values):
        return  # datasets, generators and PyDatasets are not scanned
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"`{name}` must be numeric; received dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(f"`{name}` contains NaN or inf; remove or impute those values.")
    if likelihood == "bernoulli" and array.size:
        low, high = float(array.min()), float(array.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"`{name}` must lie in [0, 1] for likelihood='bernoulli'; received "
                f"values in [{low:g}, {high:g}]. Scale images to [0, 1] "
                "(e.g. x / 255.0) or build the model with likelihood='gaussian'."
            )


def _is_array_like(values):
    return isinstance(values, (np.ndarray, list, tuple)) or ops.is_tensor(values)


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


@keras.saving.register_keras_serializable(package="vae_keras")
class VariationalAutoencoder(keras.Model):
    """A VAE as a Keras model: ``fit(x)`` minimises ``reconstruction + beta * KL``.

    Usually built with :func:`VAE`, which checks the parts and compiles.
    ``call`` returns the decoded mean of ``x`` through one sampled ``z``.
    The loss per batch is the mean over examples of the reconstruction NLL
    (summed over data dimensions) plus ``beta`` times the KL (summed over
    latent dimensions), so it reads in nats per example; with ``beta=1`` it
    is the negative ELBO.

    Args:
        encoder: Model ``x -> [z_mean, z_log_var]``.
        decoder: Model ``z -> x_decoded`` with the shape of ``x``.
        sampling_layer: Layer ``[z_mean, z_log_var] -> z``; ``Sampling()`` if None.
        beta: Weight of the KL term, finite and >= 0.
        likelihood: ``"bernoulli"`` or ``"gaussian"``; see
            :func:`reconstruction_loss`.
        input_shape: Shape of one example, without the batch axis.

    Call arguments:
        inputs: Data batch ``x``.

    Returns:
        ``x_decoded``: the decoder's output for one sample of ``z``.

    Example:

    >>> vae = VAE((784,), encoder, decoder)   # doctest: +SKIP
    >>> vae.fit(x_train, epochs=5)            # doctest: +SKIP
    """

    def __init__(self, encoder, decoder, sampling_layer=None, beta=1.0,
                 likelihood="bernoulli", input_shape=None, **kwargs):
        super().__init__(**kwargs)
        _check_likelihood(likelihood)
        self.encoder = encoder
        self.decoder = decoder
        self.sampling_layer = sampling_layer if sampling_layer is not None else Sampling()
        self._beta = _check_beta(beta)
        self.likelihood = likelihood
        self.data_shape = None if input_shape is None else _as_shape(input_shape, "input_shape")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # The encoder and decoder arrive built; this model owns no weights.
        self.built = True

    @property
    def beta(self):
        """Weight of the KL term (read-only: build a new model to change it)."""
        return self._beta

    # Hooks that CVAE overrides: how inputs reach the encoder and decoder.
    def _data(self, inputs):
        return inputs

    def _encode(self, inputs):
        return self.encoder(inputs)

    def _decode(self, z, inputs):
        return self.decoder(z)

    def call(self, inputs, training=None):
        z_mean, z_log_var = self._encode(inputs)
        z = self.sampling_layer([z_mean, z_log_var])
        x_decoded = self._decode(z, inputs)
        reconstruction = ops.mean(
            reconstruction_loss(self._data(inputs), x_decoded, self.likelihood)
        )
        kl = ops.mean(kl_divergence(z_mean, z_log_var))
        if not isinstance(kl, keras.KerasTensor):  # no losses in symbolic calls
            # Order matters: compute_loss reads these two first.
            self.add_loss(reconstruction)
            self.add_loss(kl)
        return x_decoded

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        losses = self.losses
        if len(losses) < 2:
            raise RuntimeError("compute_loss needs the losses added by call().")
        reconstruction, kl, *others = losses
        total = reconstruction + self._beta * kl
        for other in others:  # e.g. weight regularizers in the encoder
            total = total + ops.sum(other)
        batch_size = ops.shape(keras.tree.flatten(x)[0])[0]
        self.reconstruction_loss_tracker.update_state(reconstruction, sample_weight=batch_size)
        self.kl_loss_tracker.update_state(kl, sample_weight=batch_size)
        return total

    def _check_inputs(self, name, inputs):
        _check_data(name, inputs, self.likelihood)

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
        return super().evaluate(x, None, *args, **kwargs)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "sampling_layer": keras.saving.serialize_keras_object(self.sampling_layer),
            "beta": self._beta,
            "likelihood": self.likelihood,
            "input_shape": self.data_shape,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder", "sampling_layer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


@keras.saving.register_keras_serializable(package="vae_keras")
class ConditionalVariationalAutoencoder(VariationalAutoencoder):
    """A conditional VAE: ``fit([x, c])`` models ``p(x | c)``.

    The encoder sees ``[x, c]`` and the decoder ``[z, c]``; the prior stays
    ``N(0, I)``. Usually built with :func:`CVAE`; taught in notebook 06.

    Args:
        encoder: Model ``[x, c] -> [z_mean, z_log_var]``.
        decoder: Model ``[z, c] -> x_decoded``.
        sampling_layer, beta, likelihood, input_shape: as in
            :class:`VariationalAutoencoder`.
        condition_shape: Shape of one condition ``c``, without the batch axis.

    Call arguments:
        inputs: A list ``[x, c]``.

    Returns:
        ``x_decoded`` for one sample of ``z``.

    Example:

    >>> cvae = CVAE((784,), (10,), encoder, decoder)   # doctest: +SKIP
    >>> cvae.fit([x_train, y_onehot], epochs=5)        # doctest: +SKIP
    """

    def __init__(self, encoder, decoder, sampling_layer=None, beta=1.0,
                 likelihood="bernoulli", input_shape=None, condition_shape=None,
                 **kwargs):
        super().__init__(encoder, decoder, sampling_layer, beta, likelihood,
                         input_shape, **kwargs)
        self.condition_shape = (
            None if condition_shape is None else _as_shape(condition_shape, "condition_shape")
        )

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

    def _decode(self, z, inputs):
        return self.decoder([z, self._split(inputs)[1]])

    def _as_validation_tuple(self, validation_data):
        # Keras would read a list [x_val, c_val] as (x, y): wrap it as (inputs,).
        if isinstance(validation_data, list):
            return (validation_data,)
        return validation_data

    def _check_inputs(self, name, inputs):
        if not _is_array_like(inputs):
            return
        x, c = self._split(inputs)
        _check_data(name + "[0] (x)", x, self.likelihood)
        _check_data(name + "[1] (condition)", c)

    def get_config(self):
        config = super().get_config()
        config["condition_shape"] = self.condition_shape
        return config


def _reject_weights(kwargs):
    for key in ("sample_weight", "class_weight"):
        if kwargs.get(key) is not None:
            raise ValueError(
                f"A VAE does not support `{key}`: every example counts once in "
                f"the ELBO; received {key} of type {type(kwargs[key]).__name__}."
            )


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
        likelihood="bernoulli", optimizer="adam"):
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
        beta: KL weight, finite and >= 0 (``beta=1`` is the ELBO).
        likelihood: ``"bernoulli"`` (data in [0, 1]) or ``"gaussian"``
            (unit variance, constant kept).
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
    _check_parts(encoder, decoder, sampling_layer, beta, likelihood)
    z_mean_dim = _check_encoder_outputs(
        _symbolic_outputs(encoder, "encoder", keras.Input(shape=input_shape))
    )
    _check_decoder_output(
        _symbolic_outputs(decoder, "decoder", keras.Input(shape=(z_mean_dim,))), input_shape
    )
    model = VariationalAutoencoder(encoder, decoder, sampling_layer, beta, likelihood,
                                   input_shape=input_shape, name="vae")
    model.compile(optimizer=optimizer)
    return model


def CVAE(input_shape, condition_shape, encoder, decoder, sampling_layer=None, beta=1.0,
         *, likelihood="bernoulli", optimizer="adam"):
    """Builds and compiles a conditional VAE; trains with ``fit([x, c])``.

    Args:
        input_shape: Shape of one example ``x``.
        condition_shape: Shape of one condition ``c`` (a one-hot label, a
            column of pixels, ...).
        encoder: Keras model ``[x, c] -> [z_mean, z_log_var]``.
        decoder: Keras model ``[z, c] -> x_decoded`` with shape ``input_shape``.
        sampling_layer, beta, likelihood, optimizer: as in :func:`VAE`.

    Returns:
        A compiled :class:`ConditionalVariationalAutoencoder`.

    Example:

    >>> cvae = CVAE((784,), (10,), encoder, decoder, beta=1.0)   # doctest: +SKIP
    >>> cvae.fit([x_train, one_hot(y_train)], epochs=10)         # doctest: +SKIP
    """
    input_shape = _as_shape(input_shape, "input_shape")
    condition_shape = _as_shape(condition_shape, "condition_shape")
    _check_parts(encoder, decoder, sampling_layer, beta, likelihood)
    condition = keras.Input(shape=condition_shape)
    z_mean_dim = _check_encoder_outputs(
        _symbolic_outputs(encoder, "encoder", [keras.Input(shape=input_shape), condition])
    )
    _check_decoder_output(
        _symbolic_outputs(decoder, "decoder", [keras.Input(shape=(z_mean_dim,)), condition]),
        input_shape,
    )
    model = ConditionalVariationalAutoencoder(
        encoder, decoder, sampling_layer, beta, likelihood, input_shape=input_shape,
        condition_shape=condition_shape, name="cvae",
    )
    model.compile(optimizer=optimizer)
    return model


def _check_parts(encoder, decoder, sampling_layer, beta, likelihood):
    _check_part(encoder, "encoder")
    _check_part(decoder, "decoder")
    if sampling_layer is not None:
        _check_part(sampling_layer, "sampling_layer")
    _check_beta(beta)
    _check_likelihood(likelihood)
