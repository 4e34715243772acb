"""Ready-made encoders and decoders for :func:`vae_keras.VAE` and :func:`vae_keras.CVAE`.

Two families, each as a functional ``keras.Model``:

- MLP: flatten the image, dense layers with ReLU, two dense heads
  ``z_mean`` and ``z_log_var``; the decoder mirrors it.
- Convolutional: two stride-2 ``Conv2D`` layers (28x28 -> 14x14 -> 7x7),
  a dense layer and the two heads; the decoder mirrors it with
  ``Conv2DTranspose``.

With ``condition_shape`` the models become conditional: the encoder takes
``[x, c]`` and the decoder ``[z, c]``; ``c`` is flattened and concatenated
with the features (encoder) or with ``z`` (decoder).
"""

import math

import keras
from keras import layers

from vae_keras.models import _as_shape, _check_positive_int, _is_int

OUTPUT_ACTIVATIONS = ("sigmoid", "linear", None)


def _is_positive_int(value):
    return _is_int(value) and value > 0


def _check_latent_dim(latent_dim):
    return _check_positive_int(latent_dim, "latent_dim")


def _check_units(units, name):
    if (not isinstance(units, (tuple, list)) or not units
            or not all(_is_positive_int(u) for u in units)):
        raise ValueError(
            f"`{name}` must be a non-empty tuple of positive ints such as (512, 256); "
            f"received {units!r}."
        )
    return tuple(units)


def _check_image_shape(shape, name):
    shape = _as_shape(shape, name)
    if len(shape) != 3 or shape[0] % 4 or shape[1] % 4:
        raise ValueError(
            f"`{name}` must be (height, width, channels) with height and width "
            "divisible by 4 (two stride-2 convolutions), such as (28, 28, 1); "
            f"received {shape!r}."
        )
    return shape


def _check_filters(filters):
    if (not isinstance(filters, (tuple, list)) or len(filters) != 2
            or not all(_is_positive_int(f) for f in filters)):
        raise ValueError(
            "`filters` must be a tuple of two positive ints, one per stride-2 "
            f"convolution, such as (32, 64); received {filters!r}."
        )
    return tuple(filters)


def _check_output_activation(output_activation):
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            "`output_activation` must be 'sigmoid' (Bernoulli likelihood: "
            "probabilities) or None / 'linear' (Gaussian likelihood: means); "
            f"received {output_activation!r}."
        )
    return None if output_activation == "linear" else output_activation


def _condition_input(condition_shape):
    """Returns (input, flattened tensor) for a condition, or (None, None)."""
    if condition_shape is None:
        return None, None
    condition_shape = _as_shape(condition_shape, "condition_shape")
    condition = keras.Input(shape=condition_shape, name="condition")
    flat = layers.Flatten(name="flatten_condition")(condition) if len(condition_shape) > 1 \
        else condition
    return condition, flat


def _with_condition(features, condition_flat):
    if condition_flat is None:
        return features
    return layers.Concatenate(name="concatenate_condition")([features, condition_flat])


def _encoder_heads(hidden, latent_dim):
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)
    # A linear head: log-variance may be any real number.
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return [z_mean, z_log_var]


def _output_activation(outputs, activation):
    """A separate ``Activation("sigmoid")`` layer, so the VAE finds the logits.

    ``VAE`` computes the Bernoulli loss from the input of this layer (exact
    even where the sigmoid saturates), while ``decoder.predict`` still
    returns probabilities.
    """
    if activation is None:
        return outputs
    return layers.Activation(activation, name="x_decoded")(outputs)


def _model(inputs, condition, outputs, name):
    model_inputs = inputs if condition is None else [inputs, condition]
    return keras.Model(model_inputs, outputs, name=name)


def mlp_encoder(input_shape, latent_dim, hidden_units=(512, 256), condition_shape=None,
                name="encoder"):
    """Builds a dense encoder ``x -> [z_mean, z_log_var]``.

    The input is flattened, passed through ``Dense(units, relu)`` layers and
    two linear heads named ``"z_mean"`` and ``"z_log_var"``.

    Args:
        input_shape: Shape of one example, e.g. ``(28, 28, 1)`` or ``(784,)``.
        latent_dim: Positive int, the number of latent dimensions.
        hidden_units: Non-empty tuple of positive ints, the hidden layer sizes.
        condition_shape: None for an unconditional encoder; else the shape of
            one condition ``c`` (e.g. ``(10,)`` for a one-hot label): the model
            then takes ``[x, c]`` and concatenates the flattened ``c`` with the
            flattened ``x``.
        name: Model name.

    Returns:
        A ``keras.Model`` with outputs ``[z_mean, z_log_var]``, each of shape
        ``(batch_size, latent_dim)``.

    Example:

    >>> encoder = mlp_encoder((28, 28, 1), latent_dim=2)
    >>> [tuple(t.shape) for t in encoder.outputs]
    [(None, 2), (None, 2)]
    """
    input_shape = _as_shape(input_shape, "input_shape")
    latent_dim = _check_latent_dim(latent_dim)
    hidden_units = _check_units(hidden_units, "hidden_units")
    x_input = keras.Input(shape=input_shape, name="x")
    condition, condition_flat = _condition_input(condition_shape)
    hidden = layers.Flatten(name="flatten")(x_input) if len(input_shape) > 1 else x_input
    hidden = _with_condition(hidden, condition_flat)
    for i, units in enumerate(hidden_units, start=1):
        hidden = layers.Dense(units, activation="relu", name=f"hidden_{i}")(hidden)
    return _model(x_input, condition, _encoder_heads(hidden, latent_dim), name)


def mlp_decoder(output_shape, latent_dim, hidden_units=(256, 512), condition_shape=None,
                output_activation="sigmoid", name="decoder"):
    """Builds a dense decoder ``z -> x_decoded`` with the shape of the data.

    ``Dense(units, relu)`` layers, a dense output layer with one unit per
    data dimension, reshaped to ``output_shape``.

    Args:
        output_shape: Shape of one example, e.g. ``(28, 28, 1)`` or ``(784,)``.
        latent_dim: Positive int, the size of ``z``.
        hidden_units: Non-empty tuple of positive ints, the hidden layer sizes.
        condition_shape: None for an unconditional decoder; else the shape of
            one condition ``c``: the model takes ``[z, c]`` and concatenates
            the flattened ``c`` with ``z``.
        output_activation: ``"sigmoid"`` for Bernoulli probabilities (a
            final ``Activation("sigmoid")`` layer named ``"x_decoded"``,
            whose input the VAE uses as exact logits), or None /
            ``"linear"`` for Gaussian means.
        name: Model name.

    Returns:
        A ``keras.Model`` with one output of shape ``(batch_size,) + output_shape``.

    Example:

    >>> decoder = mlp_decoder((28, 28, 1), latent_dim=2)
    >>> tuple(decoder.output.shape)
    (None, 28, 28, 1)
    """
    output_shape = _as_shape(output_shape, "output_shape")
    latent_dim = _check_latent_dim(latent_dim)
    hidden_units = _check_units(hidden_units, "hidden_units")
    activation = _check_output_activation(output_activation)
    z_input = keras.Input(shape=(latent_dim,), name="z")
    condition, condition_flat = _condition_input(condition_shape)
    hidden = _with_condition(z_input, condition_flat)
    for i, units in enumerate(hidden_units, start=1):
        hidden = layers.Dense(units, activation="relu", name=f"hidden_{i}")(hidden)
    x_decoded = layers.Dense(math.prod(output_shape), name="output_flat")(hidden)
    if len(output_shape) > 1:
        x_decoded = layers.Reshape(output_shape, name="output")(x_decoded)
    return _model(z_input, condition, _output_activation(x_decoded, activation), name)


def conv_encoder(input_shape=(28, 28, 1), latent_dim=2, filters=(32, 64), dense_units=128,
                 condition_shape=None, name="encoder"):
    """Builds a convolutional encoder ``x -> [z_mean, z_log_var]`` for images.

    ``Conv2D(filters[0], 3, strides=2)`` and ``Conv2D(filters[1], 3,
    strides=2)`` (ReLU, "same" padding) halve the image twice, then
    ``Flatten``, ``Dense(dense_units, relu)`` and the two linear heads
    ``"z_mean"`` and ``"z_log_var"``.

    Args:
        input_shape: ``(height, width, channels)``, height and width divisible
            by 4.
        latent_dim: Positive int, the number of latent dimensions.
        filters: Two positive ints, the filters of the two convolutions.
        dense_units: Positive int, the size of the dense layer.
        condition_shape: None for an unconditional encoder; else the shape of
            one condition ``c``: the model takes ``[x, c]`` and concatenates
            the flattened ``c`` with the flattened convolution features,
            before the dense layer.
        name: Model name.

    Returns:
        A ``keras.Model`` with outputs ``[z_mean, z_log_var]``, each of shape
        ``(batch_size, latent_dim)``.

    Example:

    >>> encoder = conv_encoder((28, 28, 1), latent_dim=2, condition_shape=(10,))
    >>> [tuple(t.shape) for t in encoder.inputs]
    [(None, 28, 28, 1), (None, 10)]
    """
    input_shape = _check_image_shape(input_shape, "input_shape")
    latent_dim = _check_latent_dim(latent_dim)
    filters = _check_filters(filters)
    _check_positive_int(dense_units, "dense_units")
    x_input = keras.Input(shape=input_shape, name="x")
    condition, condition_flat = _condition_input(condition_shape)
    hidden = x_input
    for i, n_filters in enumerate(filters, start=1):
        hidden = layers.Conv2D(n_filters, 3, strides=2, padding="same", activation="relu",
                               name=f"conv_{i}")(hidden)
    hidden = layers.Flatten(name="flatten")(hidden)
    hidden = _with_condition(hidden, condition_flat)
    hidden = layers.Dense(dense_units, activation="relu", name="hidden")(hidden)
    return _model(x_input, condition, _encoder_heads(hidden, latent_dim), name)


def conv_decoder(output_shape=(28, 28, 1), latent_dim=2, filters=(64, 32), dense_units=128,
                 condition_shape=None, output_activation="sigmoid", name="decoder"):
    """Builds a convolutional decoder ``z -> x_decoded``, mirroring :func:`conv_encoder`.

    ``Dense(dense_units, relu)``, ``Dense(h/4 * w/4 * filters[0], relu)``,
    ``Reshape((h/4, w/4, filters[0]))``, then ``Conv2DTranspose(filters[0],
    3, strides=2)`` and ``Conv2DTranspose(filters[1], 3, strides=2)`` (ReLU)
    double the size twice, and ``Conv2DTranspose(channels, 3)`` with
    ``output_activation`` gives the image.

    Args:
        output_shape: ``(height, width, channels)``, height and width divisible
            by 4.
        latent_dim: Positive int, the size of ``z``.
        filters: Two positive ints, the filters of the two stride-2
            transposed convolutions.
        dense_units: Positive int, the size of the first dense layer.
        condition_shape: None for an unconditional decoder; else the shape of
            one condition ``c``: the model takes ``[z, c]`` and concatenates
            the flattened ``c`` with ``z`` before the first dense layer.
        output_activation: ``"sigmoid"`` for Bernoulli probabilities (a
            final ``Activation("sigmoid")`` layer named ``"x_decoded"``,
            whose input the VAE uses as exact logits), or None /
            ``"linear"`` for Gaussian means.
        name: Model name.

    Returns:
        A ``keras.Model`` with one output of shape ``(batch_size,) + output_shape``.

    Example:

    >>> decoder = conv_decoder((28, 28, 1), latent_dim=2)
    >>> tuple(decoder.output.shape)
    (None, 28, 28, 1)
    """
    output_shape = _check_image_shape(output_shape, "output_shape")
    latent_dim = _check_latent_dim(latent_dim)
    filters = _check_filters(filters)
    _check_positive_int(dense_units, "dense_units")
    activation = _check_output_activation(output_activation)
    height, width, channels = output_shape[0] // 4, output_shape[1] // 4, output_shape[2]
    z_input = keras.Input(shape=(latent_dim,), name="z")
    condition, condition_flat = _condition_input(condition_shape)
    hidden = _with_condition(z_input, condition_flat)
    hidden = layers.Dense(dense_units, activation="relu", name="hidden")(hidden)
    hidden = layers.Dense(height * width * filters[0], activation="relu",
                          name="hidden_spatial")(hidden)
    hidden = layers.Reshape((height, width, filters[0]), name="reshape")(hidden)
    for i, n_filters in enumerate(filters, start=1):
        hidden = layers.Conv2DTranspose(n_filters, 3, strides=2, padding="same",
                                        activation="relu", name=f"deconv_{i}")(hidden)
    x_decoded = layers.Conv2DTranspose(channels, 3, padding="same", name="output")(hidden)
    return _model(z_input, condition, _output_activation(x_decoded, activation), name)


def mlp_prior(condition_shape, latent_dim, hidden_units=(64,), name="prior"):
    """Builds a prior network ``c -> [p_mean, p_log_var]`` for a CVAE's learned ``p(z | c)``.

    The condition is flattened, passed through ``Dense(units, relu)`` layers
    (none with ``hidden_units=()``: the heads are then affine in ``c``, e.g.
    one mean and variance per one-hot class) and two linear heads named
    ``"p_mean"`` and ``"p_log_var"``, initialised to zero so that training
    starts from ``p(z | c) = N(0, I)``.

    Args:
        condition_shape: Shape of one condition, e.g. ``(10,)``.
        latent_dim: Positive int, the encoder's latent size.
        hidden_units: Tuple of positive ints (may be empty).
        name: Model name.

    Returns:
        A ``keras.Model`` for ``vae_keras.CVAE(..., prior=...)``.

    Example:

    >>> prior = mlp_prior((10,), latent_dim=2)
    >>> [tuple(t.shape) for t in prior.outputs]
    [(None, 2), (None, 2)]
    >>> cvae = CVAE((784,), (10,), encoder, decoder, prior=prior)   # doctest: +SKIP
    """
    condition_shape = _as_shape(condition_shape, "condition_shape")
    latent_dim = _check_latent_dim(latent_dim)
    if hidden_units != () and hidden_units != []:
        hidden_units = _check_units(hidden_units, "hidden_units")
    condition = keras.Input(shape=condition_shape, name="condition")
    hidden = layers.Flatten()(condition) if len(condition_shape) > 1 else condition
    for i, units in enumerate(hidden_units):
        hidden = layers.Dense(units, activation="relu", name=f"prior_dense_{i}")(hidden)
    p_mean = layers.Dense(latent_dim, kernel_initializer="zeros", name="p_mean")(hidden)
    p_log_var = layers.Dense(latent_dim, kernel_initializer="zeros", name="p_log_var")(hidden)
    return keras.Model(condition, [p_mean, p_log_var], name=name)
