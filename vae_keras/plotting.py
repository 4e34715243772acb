"""Figures for VAEs: image grids, samples, reconstructions, latent space, training curves.

Every function returns a ``matplotlib.figure.Figure`` and never calls
``plt.show()``: in a notebook the figure appears when the cell ends (assign
the result, ``fig = plot_samples(...)``, or it is shown a second time as the
cell's value). Close figures you do not need with ``plt.close(fig)``.

Each image grid is drawn as ONE tiled image on one axes (fast to draw, small
PNGs; row and column labels sit on the tick labels, grey 1-pixel lines separate
the tiles), grey levels in [0, 1] with the ``"gray_r"`` colour map (ink is
dark), and each grid of decoded images comes from ONE batched ``predict``.
"""

import math
from statistics import NormalDist

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

CMAP = "gray_r"
_GAP_COLOR = "0.75"  # the 1-pixel lines between tiles
_TILE_INCHES = 0.55
_MAX_WIDTH = 10.0


# ----------------------------------------------------------------------------
# Array helpers
# ----------------------------------------------------------------------------

def _as_images(images, name="images"):
    """(n, h, w) or (n, h, w, 3) float array from (n, h, w, 1), (n, h, w) or (n, h*w)."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(
                f"`{name}` of shape {images.shape} are flat rows that are not square "
                "images; pass (n, height, width) or (n, height, width, channels)."
            )
        return images.reshape(len(images), side, side)
    if images.ndim == 4 and images.shape[-1] == 1:
        return images[..., 0]
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] == 3):
        return images
    raise ValueError(
        f"`{name}` must have shape (n, 28, 28, 1), (n, 28, 28) or (n, 784); "
        f"received {images.shape}."
    )


def _tile(images, n_cols):
    """One canvas with the images in rows of ``n_cols``; NaN marks the gaps."""
    n, height, width = images.shape[:3]
    n_rows = max(1, math.ceil(n / n_cols))
    channels = images.shape[3:]
    canvas = np.full((n_rows * (height + 1) - 1, n_cols * (width + 1) - 1) + channels,
                     np.nan, dtype="float32")
    for i, image in enumerate(images):
        row, col = divmod(i, n_cols)
        top, left = row * (height + 1), col * (width + 1)
        canvas[top:top + height, left:left + width] = image
    return canvas, n_rows


def _show_grid(ax, images, n_cols, row_labels=None, col_labels=None):
    """Draws ``images`` tiled on ``ax``; labels rows and columns via the ticks."""
    images = _as_images(images)
    canvas, n_rows = _tile(images, n_cols)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad=_GAP_COLOR)
    if canvas.ndim == 3:  # RGB: colour maps do not apply, fill the gaps in white
        canvas = np.nan_to_num(canvas, nan=1.0).clip(0.0, 1.0)
    ax.imshow(canvas, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    height, width = images.shape[1:3]
    ax.set_xticks([] if col_labels is None else
                  [c * (width + 1) + width / 2 - 0.5 for c in range(n_cols)])
    ax.set_yticks([] if row_labels is None else
                  [r * (height + 1) + height / 2 - 0.5 for r in range(n_rows)])
    if col_labels is not None:
        ax.set_xticklabels(col_labels, fontsize=8)
    if row_labels is not None:
        if len(row_labels) != n_rows:
            raise ValueError(
                f"`row_labels` must have one label per row ({n_rows}); "
                f"received {len(row_labels)}."
            )
        ax.set_yticklabels(row_labels, fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return n_rows


def _grid_figure(n_rows, n_cols, extra_height=0.5, extra_width=0.0, max_width=_MAX_WIDTH):
    width = min(max_width, n_cols * _TILE_INCHES + extra_width + 0.4)
    tile = (width - extra_width - 0.4) / n_cols
    return plt.figure(figsize=(width, n_rows * tile + extra_height))


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; received {value!r}.")
    return int(value)


def _predict(model, inputs):
    return model.predict(inputs, verbose=0)


def _decoder_inputs(decoder):
    """Returns (latent_dim, condition_shape or None) read from a functional decoder."""
    inputs = getattr(decoder, "inputs", None)
    if not inputs:
        raise ValueError(
            "`decoder` must be a built functional keras.Model with known inputs "
            f"(z or [z, c]); received {type(decoder).__name__}."
        )
    latent_dim = inputs[0].shape[-1]
    condition_shape = tuple(inputs[1].shape[1:]) if len(inputs) > 1 else None
    return int(latent_dim), condition_shape


def _decoder_batch(decoder, z, condition):
    """``z`` plus the condition, broadcast to the batch, in the decoder's input format."""
    _, condition_shape = _decoder_inputs(decoder)
    if condition_shape is None:
        if condition is not None:
            raise ValueError("`condition` was given but the decoder takes only z.")
        return z
    if condition is None:
        raise ValueError(
            f"The decoder is conditional (condition shape {condition_shape}); "
            "pass `condition`, e.g. a one-hot label."
        )
    condition = np.asarray(condition, dtype="float32")
    if condition.shape == condition_shape:
        condition = condition[None]
    if condition.shape[1:] != condition_shape or len(condition) not in (1, len(z)):
        raise ValueError(
            f"`condition` must have shape {condition_shape}, (1,) + {condition_shape} "
            f"or ({len(z)},) + {condition_shape}; received {condition.shape}."
        )
    return [z, np.broadcast_to(condition, (len(z),) + condition_shape).copy()]


def _encode_mean(encoder, x):
    return np.asarray(_predict(encoder, x)[0])


def _split_conditional(x):
    """(x, c) for a CVAE input [x, c], (x, None) for plain data."""
    if isinstance(x, (list, tuple)):
        if len(x) != 2:
            raise ValueError(f"A conditional input must be [x, c]; received {len(x)} arrays.")
        return np.asarray(x[0]), np.asarray(x[1])
    return np.asarray(x), None


# ----------------------------------------------------------------------------
# Image grids
# ----------------------------------------------------------------------------

def plot_images(images, n_cols=10, title=None, row_labels=None):
    """Shows images in a grid of ``n_cols`` columns.

    Args:
        images: Array ``(n, 28, 28, 1)``, ``(n, 28, 28)`` or ``(n, 784)`` of
            grey levels in [0, 1] (any square size works).
        n_cols: Positive int, images per row.
        title: Optional figure title.
        row_labels: Optional list of one label per row.

    Returns:
        The ``matplotlib.figure.Figure`` (one axes holding the tiled images).

    Example:

    >>> fig = plot_images(x_test[:20], n_cols=10, title="Test digits")  # doctest: +SKIP
    """
    images = _as_images(images)
    n_cols = min(_check_positive_int(n_cols, "n_cols"), max(1, len(images)))
    n_rows = max(1, math.ceil(len(images) / n_cols))
    fig = _grid_figure(n_rows, n_cols, extra_width=0.0 if row_labels is None else 1.0)
    ax = fig.add_subplot()
    _show_grid(ax, images, n_cols, row_labels=row_labels)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_reconstructions(model, x, n=10, seed=0):
    """Shows ``n`` originals (top row) above their reconstructions (bottom row).

    The reconstruction is deterministic: the decoder's output at the posterior
    mean, ``decoder(z_mean(x))`` (one batched predict per part).

    Args:
        model: A VAE or CVAE with ``.encoder`` and ``.decoder``.
        x: Images, or ``[x, c]`` for a CVAE.
        n: Number of examples shown.
        seed: Which examples: a random subset of ``n`` drawn with this seed
            (kept in data order); ``None`` takes the first ``n``. When ``x``
            has at most ``n`` rows, all are shown.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_reconstructions(vae, x_test, n=10)  # doctest: +SKIP
    """
    n = _check_positive_int(n, "n")
    images, condition = _split_conditional(x)
    if len(images) > n:
        index = (np.arange(n) if seed is None else
                 np.sort(np.random.default_rng(seed).choice(len(images), n, replace=False)))
    else:
        index = np.arange(len(images))
    images = images[index]
    if condition is not None:
        condition = condition[index]
        z_mean = _encode_mean(model.encoder, [images, condition])
        decoded = _predict(model.decoder, [z_mean, condition])
    else:
        z_mean = _encode_mean(model.encoder, images)
        decoded = _predict(model.decoder, z_mean)
    both = np.concatenate([_as_images(images), _as_images(decoded, "reconstructions")])
    fig = _grid_figure(2, len(images), extra_width=1.1)
    ax = fig.add_subplot()
    _show_grid(ax, both, len(images), row_labels=["original", "reconstruction"])
    ax.set_title("Reconstructions: decoder(z_mean) below each original")
    fig.tight_layout()
    return fig


def plot_samples(decoder, n=100, seed=0, condition=None, title=None):
    """Decodes ``n`` draws ``z ~ N(0, I)`` from the prior in one batched predict.

    Args:
        decoder: Decoder model ``z -> x`` (or ``[z, c] -> x``).
        n: Number of samples (10 per row).
        seed: Seed of the numpy generator that draws ``z``.
        condition: For a conditional decoder: one condition (broadcast to all
            samples) or an array with one row per sample.
        title: Optional title; default "Samples from the prior".

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_samples(vae.decoder, n=50, seed=1)  # doctest: +SKIP
    """
    n = _check_positive_int(n, "n")
    latent_dim, _ = _decoder_inputs(decoder)
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32")
    decoded = _predict(decoder, _decoder_batch(decoder, z, condition))
    fig = plot_images(decoded, n_cols=min(10, n))
    fig.axes[0].set_title(title or f"{n} samples: decoder(z), z ~ N(0, I)")
    fig.tight_layout()
    return fig


def plot_manifold(decoder, n=15, limit=None, condition=None, title=None):
    """Decodes an ``n x n`` grid of a 2-D latent space in one batched predict.

    By default the grid spaces ``z`` evenly in probability: the standard
    normal quantiles of ``linspace(0.05, 0.95, n)``, so each cell covers the
    same prior mass. ``z[0]`` grows left to right, ``z[1]`` bottom to top.

    Args:
        decoder: Decoder with a 2-D latent (``[z, c]`` if conditional).
        n: Grid size per axis.
        limit: None for the quantile grid; a positive number for an even grid
            on ``[-limit, limit]``.
        condition: For a conditional decoder: one condition for the whole grid.
        title: Optional title.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_manifold(vae.decoder, n=15)  # doctest: +SKIP
    """
    n = _check_positive_int(n, "n")
    latent_dim, _ = _decoder_inputs(decoder)
    if latent_dim != 2:
        raise ValueError(
            f"plot_manifold needs a 2-D latent space; the decoder takes z of size {latent_dim}. "
            "Use plot_traversal for other sizes."
        )
    if limit is None:
        probabilities = np.linspace(0.05, 0.95, n) if n > 1 else np.array([0.5])
        values = np.array([NormalDist().inv_cdf(p) for p in probabilities], dtype="float32")
    else:
        if isinstance(limit, bool) or not isinstance(limit, (int, float, np.number)) \
                or not limit > 0 or not math.isfinite(limit):
            raise ValueError(f"`limit` must be None or a positive number; received {limit!r}.")
        values = np.linspace(-limit, limit, n, dtype="float32")
    values = np.round(values, 6) + 0.0  # no "-0.00" tick labels
    # Row r shows z[1] = values[n - 1 - r] (top is high), column c shows z[0] = values[c].
    z1, z0 = np.meshgrid(values[::-1], values, indexing="ij")
    z = np.stack([z0.ravel(), z1.ravel()], axis=1).astype("float32")
    decoded = _predict(decoder, _decoder_batch(decoder, z, condition))
    fig = _grid_figure(n, n, extra_height=0.9, extra_width=0.9, max_width=7.0)
    ax = fig.add_subplot()
    _show_grid(ax, decoded, n, row_labels=[f"{v:.2f}" for v in values[::-1]],
               col_labels=[f"{v:.2f}" for v in values])
    ax.tick_params(axis="x", labelrotation=90)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    if title is None:
        title = ("Decoded latent grid at standard-normal quantiles 5%...95%" if limit is None
                 else f"Decoded latent grid on [-{limit:g}, {limit:g}]")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_traversal(decoder, z, dims=None, values=np.linspace(-3, 3, 9), condition=None,
                   title=None):
    """Changes one latent coordinate at a time from a base code ``z``.

    Row ``i`` decodes ``z`` with ``z[dims[i]]`` replaced by each of ``values``;
    all rows come from one batched predict.

    Args:
        decoder: Decoder model.
        z: Base latent vector, shape ``(latent_dim,)`` or ``(1, latent_dim)``.
        dims: Latent dimensions to traverse (default: all).
        values: The values placed in each traversed coordinate.
        condition: For a conditional decoder: one condition for all images.
        title: Optional title.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_traversal(vae.decoder, np.zeros(4), dims=[0, 3])  # doctest: +SKIP
    """
    latent_dim, _ = _decoder_inputs(decoder)
    z = np.asarray(z, dtype="float32").reshape(-1)
    if z.shape != (latent_dim,):
        raise ValueError(
            f"`z` must have {latent_dim} entries (the decoder's latent size); "
            f"received shape {np.shape(z)}."
        )
    dims = list(range(latent_dim)) if dims is None else [int(d) for d in dims]
    if not dims or any(d < 0 or d >= latent_dim for d in dims):
        raise ValueError(f"`dims` must be latent indices in [0, {latent_dim}); received {dims}.")
    values = np.asarray(values, dtype="float32").reshape(-1)
    if values.size == 0:
        raise ValueError("`values` must not be empty.")
    codes = np.repeat(z[None], len(dims) * len(values), axis=0)
    for row, dim in enumerate(dims):
        codes[row * len(values):(row + 1) * len(values), dim] = values
    decoded = _predict(decoder, _decoder_batch(decoder, codes, condition))
    fig = _grid_figure(len(dims), len(values), extra_height=0.9, extra_width=0.7)
    ax = fig.add_subplot()
    _show_grid(ax, decoded, len(values), row_labels=[f"z[{d}]" for d in dims],
               col_labels=[f"{v:.2g}" for v in values])
    ax.set_xlabel("value of the traversed coordinate")
    ax.set_title(title or "Latent traversal: one coordinate changes per row")
    fig.tight_layout()
    return fig


def plot_interpolation(encoder, decoder, x_a, x_b, steps=10, title=None):
    """Compares blending two images in pixel space with walking between their codes.

    Row 1: ``(1 - t) * x_a + t * x_b``. Row 2: ``decoder((1 - t) * z_a + t * z_b)``
    with ``z_a``, ``z_b`` the posterior means, for ``t`` in ``linspace(0, 1, steps)``.
    For a conditional model pass ``x_a = [x, c]`` and ``x_b = [x, c]``; the
    condition is blended along with the code.

    Args:
        encoder: Encoder model (``x -> [z_mean, z_log_var]``).
        decoder: Decoder model.
        x_a, x_b: One image each, with or without the batch axis.
        steps: Number of points from ``t = 0`` to ``t = 1``, at least 2.
        title: Optional title.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_interpolation(vae.encoder, vae.decoder, x_test[0], x_test[1])  # doctest: +SKIP
    """
    steps = _check_positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"`steps` must be at least 2; received {steps}.")
    (image_a, c_a), (image_b, c_b) = _split_conditional(x_a), _split_conditional(x_b)
    shape = tuple(encoder.inputs[0].shape[1:])
    pair = np.stack([image_a.reshape(shape), image_b.reshape(shape)]).astype("float32")
    t = np.linspace(0.0, 1.0, steps, dtype="float32")
    blend = lambda a, b: (1.0 - t.reshape((-1,) + (1,) * a.ndim)) * a + t.reshape(  # noqa: E731
        (-1,) + (1,) * a.ndim) * b
    if c_a is None:
        z_a, z_b = _encode_mean(encoder, pair)
        decoded = _predict(decoder, blend(z_a, z_b))
    else:
        c_shape = tuple(encoder.inputs[1].shape[1:])
        conditions = np.stack([c_a.reshape(c_shape), c_b.reshape(c_shape)]).astype("float32")
        z_a, z_b = _encode_mean(encoder, [pair, conditions])
        decoded = _predict(decoder, [blend(z_a, z_b), blend(conditions[0], conditions[1])])
    both = np.concatenate([_as_images(blend(pair[0], pair[1])), _as_images(decoded)])
    fig = _grid_figure(2, steps, extra_height=0.9, extra_width=1.0)
    ax = fig.add_subplot()
    _show_grid(ax, both, steps, row_labels=["pixel space", "latent space"],
               col_labels=[f"{v:.2g}" for v in t])
    ax.set_xlabel("t")
    ax.set_title(title or "Interpolation from x_a (t = 0) to x_b (t = 1)")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------
# Latent space and training curves
# ----------------------------------------------------------------------------

def plot_latent_scatter(encoder, x, labels, title=None):
    """Scatters the posterior means ``z_mean[:, :2]``, coloured by label.

    With a 1-D latent space the single coordinate ``z[0]`` is plotted against
    the label instead.

    Args:
        encoder: Encoder model (``x`` or ``[x, c]`` -> ``[z_mean, z_log_var]``).
        x: Inputs for the encoder (``[x, c]`` for a conditional encoder).
        labels: One label per example (e.g. the digit), or None for one colour.
        title: Optional title.

    Returns:
        The ``matplotlib.figure.Figure``.

    Example:

    >>> fig = plot_latent_scatter(vae.encoder, x_test, y_test)  # doctest: +SKIP
    """
    z_mean = _encode_mean(encoder, x)
    if z_mean.ndim != 2:
        raise ValueError(f"z_mean must have shape (n, latent_dim); received {z_mean.shape}.")
    one_dim = z_mean.shape[1] == 1
    if one_dim:  # nothing to put on the second axis but the label
        second = np.zeros(len(z_mean)) if labels is None else np.asarray(labels, "float64")
        z_mean = np.stack([z_mean[:, 0], second.reshape(-1)[:len(z_mean)]], axis=1)
    fig, ax = plt.subplots(figsize=(6, 5))
    if labels is None:
        ax.scatter(z_mean[:, 0], z_mean[:, 1], s=4, alpha=0.6)
    else:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(z_mean):
            raise ValueError(
                f"`labels` must have one entry per example ({len(z_mean)}); "
                f"received {len(labels)}."
            )
        # Digits 0-9 get one distinct colour each; anything else a continuous map.
        discrete = (np.issubdtype(labels.dtype, np.integer) and labels.size > 0
                    and labels.min() >= 0 and labels.max() <= 9)
        cmap = "tab10" if discrete else "viridis"
        kwargs = dict(vmin=-0.5, vmax=9.5) if discrete else {}
        points = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=labels, cmap=cmap, s=4, alpha=0.7,
                            **kwargs)
        colorbar = fig.colorbar(points, ax=ax, label="label")
        if discrete:
            colorbar.set_ticks(range(10))
        colorbar.solids.set_alpha(1.0)
    ax.set_xlabel("z[0]")
    ax.set_ylabel("label" if one_dim else "z[1]")
    ax.set_title(title or f"Posterior means of {len(z_mean)} examples")
    fig.tight_layout()
    return fig


def _history_dict(history):
    history = getattr(history, "history", history)
    if not isinstance(history, dict):
        raise ValueError(
            "`history` must be a keras History or its .history dict; received "
            f"{type(history).__name__}."
        )
    return history


def plot_history(history, keys=("loss", "reconstruction_loss", "kl_loss"), title=None):
    """Plots training curves, one panel per key, with ``val_<key>`` when present.

    Args:
        history: The ``History`` returned by ``fit`` or its ``.history`` dict.
        keys: Metric names to plot; each must be in the history.
        title: Optional figure title.

    Returns:
        The ``matplotlib.figure.Figure`` (one axes per key).

    Example:

    >>> fig = plot_history(vae.fit(x_train, epochs=5, verbose=2))  # doctest: +SKIP
    """
    history = _history_dict(history)
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    missing = [k for k in keys if k not in history]
    if not keys or missing:
        raise ValueError(
            f"`keys` must name entries of the history; missing {missing or 'all'}, "
            f"available {sorted(history)}."
        )
    fig, axes = plt.subplots(1, len(keys), figsize=(min(_MAX_WIDTH, 3.4 * len(keys)), 3.2),
                             squeeze=False)
    for ax, key in zip(axes[0], keys):
        epochs = np.arange(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], marker="o", markersize=3, label="train")
        if f"val_{key}" in history:
            ax.plot(np.arange(1, len(history[f"val_{key}"]) + 1), history[f"val_{key}"],
                    marker="o", markersize=3, label="validation")
            ax.legend()
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats per example")
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
