"""Worked solutions for notebook 05 (beta-VAE); checks in :mod:`vae_keras.exercises.nb05`."""

import numpy as np
from keras import ops

from vae_keras.exercises import nb05


def mutual_information():
    """Exercise 1: ``I(a; b) = sum p(a, b) log(p(a, b) / (p(a) p(b)))`` over the table, in nats.

    Returns:
        The mutual information.

    Example:

    >>> round(mutual_information(), 4)
    0.2163
    """
    joint = nb05.JOINT_TABLE
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    return float(np.sum(joint * np.log(joint / outer)))


def effective_beta():
    """Exercise 2: measure the beta of ``SSE + mean-over-latents KL`` against the unit-variance NLL.

    The tutorial's loss is evaluated as a black box; moving only the decoder
    output gives its weight ``c`` on the Gaussian NLL (``0.5 SSE + const``),
    moving only the latents its weight ``c * beta`` on the summed KL.

    Returns:
        The measured beta.

    Example:

    >>> round(effective_beta(), 4)
    0.025
    """
    from vae_keras.models import kl_divergence, reconstruction_loss

    rng = np.random.default_rng(0)
    shape = (4,) + nb05.EFFECTIVE_BETA_IMAGE_SHAPE
    d = nb05.EFFECTIVE_BETA_LATENT_DIM
    x = rng.random(shape).astype("float32")
    decoded = [rng.random(shape).astype("float32"), x + 0.1]        # two decoder outputs, far apart
    latents = [(rng.normal(0.0, 1.0, (4, d)), rng.normal(0.0, 1.0, (4, d))),    # two posteriors
               (rng.normal(0.0, 2.0, (4, d)), rng.normal(-1.0, 0.5, (4, d)))]
    latents = [tuple(a.astype("float32") for a in pair) for pair in latents]

    def tutorial_loss(x, x_hat, z_mean, z_log_var):
        kl_per_dim = -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        squared_error = ops.sum(ops.square(x - x_hat), axis=(1, 2, 3))
        return ops.mean(squared_error + ops.mean(kl_per_dim, axis=-1))

    value = lambda i, j: float(tutorial_loss(x, decoded[i], *latents[j]))
    nll = [float(ops.mean(reconstruction_loss(x, xh, likelihood="gaussian"))) for xh in decoded]
    kl = [float(ops.mean(kl_divergence(*latent))) for latent in latents]
    c = (value(1, 0) - value(0, 0)) / (nll[1] - nll[0])
    c_beta = (value(0, 1) - value(0, 0)) / (kl[1] - kl[0])
    return c_beta / c


def mig_from_matrix():
    """Exercise 3: per factor, (largest - second largest I(z_j; v_k)) / H(v_k); then the average.

    A uniform factor with K values has entropy ``log K`` nats.

    Returns:
        The MIG.

    Example:

    >>> round(mig_from_matrix(), 4)
    0.3967
    """
    gaps = []
    for k, cardinality in enumerate(nb05.FACTOR_CARDINALITIES):
        column = list(nb05.MI_MATRIX[:, k])
        best = max(column)
        column.remove(best)
        gaps.append((best - max(column)) / np.log(cardinality))
    return float(np.mean(gaps))


def active_units():
    """Exercise 4: count the latent dimensions whose posterior mean varies over the examples.

    Returns:
        The number of dimensions with ``Var_x E[z_i | x] > 0.01``.

    Example:

    >>> active_units()
    2
    """
    z = nb05.Z_MEANS
    count = 0
    for column in z.T:
        variance = np.mean((column - column.mean()) ** 2)
        count += int(variance > nb05.ACTIVE_UNIT_THRESHOLD)
    return count


def beta_vae_loss_solution(x, x_decoded, z_mean, z_log_var, beta):
    """Bernoulli NLL summed over pixels + beta * KL summed over latents, one number per example.

    Args:
        x: Binary data ``(batch, ...)``.
        x_decoded: Bernoulli probabilities, same shape.
        z_mean: Posterior means ``(batch, latent_dim)``.
        z_log_var: Posterior log-variances, same shape.
        beta: Weight of the KL term.

    Returns:
        Tensor ``(batch,)``, in nats.
    """
    from vae_keras.models import kl_divergence, reconstruction_loss

    return reconstruction_loss(x, x_decoded) + beta * kl_divergence(z_mean, z_log_var)


def beta_vae_loss():
    """Exercise 5: the function the student writes.

    Returns:
        :func:`beta_vae_loss_solution`.

    Example:

    >>> loss = beta_vae_loss()(nb05.LOSS_X, nb05.LOSS_X_DECODED, nb05.LOSS_Z_MEAN,
    ...                        nb05.LOSS_Z_LOG_VAR, nb05.LOSS_BETA)
    >>> tuple(loss.shape)
    (3,)
    """
    return beta_vae_loss_solution


def mutual_information_of_labels(a, b):
    """Plug-in ``I(a; b)`` in nats from the empirical joint frequencies of two label arrays.

    Args:
        a: 1-D integer labels (any values).
        b: 1-D integer labels of the same length.

    Returns:
        A float >= 0.
    """
    a, b = np.asarray(a), np.asarray(b)
    _, a_index = np.unique(a, return_inverse=True)        # labels -> 0..K-1, whatever their values
    _, b_index = np.unique(b, return_inverse=True)
    joint = np.zeros((a_index.max() + 1, b_index.max() + 1))
    np.add.at(joint, (a_index, b_index), 1.0)
    joint /= joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    seen = joint > 0                                       # 0 log 0 = 0: empty cells drop out
    return float(np.sum(joint[seen] * np.log(joint[seen] / outer[seen])))


def mutual_information_function():
    """Exercise 6: the function the student writes.

    Returns:
        :func:`mutual_information_of_labels`.

    Example:

    >>> round(mutual_information_function()(np.array([0, 0, 1, 1]), np.array([5, 5, 9, 9])), 4)
    0.6931
    """
    return mutual_information_of_labels
