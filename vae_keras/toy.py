"""A linear-Gaussian latent-variable model where everything is exact.

``LinearGaussian`` is probabilistic PCA: ``z ~ N(0, I_d)`` and
``x | z ~ N(W z + b, s^2 I_D)``. Its marginal ``log p(x)``, its posterior
``p(z | x)`` and the ELBO of any Gaussian ``q(z)`` have closed forms, so the
notebooks 01 and 02 use it to check Monte Carlo estimates and bounds against
exact numbers. Everything here is numpy (float64): it is the reference, not
a model to train.

With ``noise_std=1`` the decoder's log-likelihood equals minus the package's
``reconstruction_loss(x, W z + b, likelihood="gaussian")``.
"""

import numpy as np

_LOG_TWO_PI = np.log(2.0 * np.pi)


def _as_float_array(value, name, ndim):
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"`{name}` must be a real numeric array; received dtype {array.dtype}.")
    if array.ndim not in ndim:
        expected = " or ".join(str(n) for n in ndim)
        raise ValueError(
            f"`{name}` must have {expected} dimensions; received shape {array.shape}."
        )
    array = array.astype("float64")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must be finite; received NaN or inf values.")
    return array


def _check_last_dim(array, size, name):
    if array.shape[-1] != size:
        raise ValueError(
            f"`{name}` must have last dimension {size}; received shape {array.shape}."
        )


def _check_covariance(cov, dim, name):
    """Validates a covariance of shape (dim, dim) or (n, dim, dim)."""
    cov = _as_float_array(cov, name, (2, 3))
    if cov.shape[-2:] != (dim, dim):
        raise ValueError(
            f"`{name}` must have shape ({dim}, {dim}) or (n, {dim}, {dim}); "
            f"received {cov.shape}."
        )
    if not np.allclose(cov, np.swapaxes(cov, -1, -2)):
        raise ValueError(f"`{name}` must be symmetric.")
    if np.any(np.linalg.eigvalsh(cov) <= 0.0):
        raise ValueError(f"`{name}` must be positive definite.")
    return cov


def covariance_from_log_var(z_log_var):
    """Diagonal covariance matrices ``diag(exp(z_log_var))``.

    Args:
        z_log_var: Array ``(d,)`` or ``(n, d)`` of log-variances, as an
            encoder outputs them.

    Returns:
        Array ``(d, d)`` or ``(n, d, d)``.

    Example:

    >>> covariance_from_log_var(np.zeros(2))
    array([[1., 0.],
           [0., 1.]])
    """
    z_log_var = _as_float_array(z_log_var, "z_log_var", (1, 2))
    variances = np.exp(z_log_var)
    return variances[..., :, None] * np.eye(z_log_var.shape[-1])


def gaussian_log_density(z, mean, cov):
    """Log-density of ``N(mean, cov)`` at each row of ``z``, in nats.

    Args:
        z: Points, array ``(..., n, d)``; the leading axes broadcast against
            ``mean`` (e.g. ``(K, n, d)`` samples for ``n`` means).
        mean: Array ``(n, d)`` or ``(d,)``.
        cov: Covariance ``(d, d)`` shared by all rows, or ``(n, d, d)``.

    Returns:
        Array of ``z``'s shape without its last axis.

    Example:

    >>> float(gaussian_log_density(np.zeros((1, 1)), np.zeros(1), np.eye(1))[0])
    -0.9189385332046727
    """
    mean = _as_float_array(mean, "mean", (1, 2))
    dim = mean.shape[-1]
    z = _as_float_array(z, "z", (1, 2, 3))
    _check_last_dim(z, dim, "z")
    cov = _check_covariance(cov, dim, "cov")
    chol = np.linalg.cholesky(cov)
    diff = z - mean
    if cov.ndim == 2:
        solved = np.linalg.solve(chol, np.moveaxis(diff, -1, 0).reshape(dim, -1))
        maha = np.sum(solved**2, axis=0).reshape(diff.shape[:-1])
        log_det = 2.0 * np.sum(np.log(np.diag(chol)))
    else:
        diff = np.broadcast_to(diff, np.broadcast_shapes(diff.shape, (len(cov), dim)))
        solved = np.linalg.solve(chol, diff[..., None])[..., 0]
        maha = np.sum(solved**2, axis=-1)
        log_det = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * (dim * _LOG_TWO_PI + log_det + maha)


def kl_gaussians(mean_q, cov_q, mean_p, cov_p):
    """KL(N(mean_q, cov_q) || N(mean_p, cov_p)) in nats, closed form.

    ``0.5 * (tr(P^-1 Q) + (m_p - m_q)^T P^-1 (m_p - m_q) - d + log det P - log det Q)``.

    Args:
        mean_q: Array ``(n, d)`` or ``(d,)``.
        cov_q: Array ``(d, d)`` or ``(n, d, d)``.
        mean_p: Array ``(n, d)`` or ``(d,)``.
        cov_p: Array ``(d, d)`` or ``(n, d, d)``.

    Returns:
        Array ``(n,)`` (or a 0-d array when every input is unbatched).

    Example:

    >>> float(kl_gaussians(np.zeros(1), np.eye(1), np.zeros(1), np.eye(1)))
    0.0
    """
    mean_q = _as_float_array(mean_q, "mean_q", (1, 2))
    mean_p = _as_float_array(mean_p, "mean_p", (1, 2))
    dim = mean_q.shape[-1]
    _check_last_dim(mean_p, dim, "mean_p")
    cov_q = _check_covariance(cov_q, dim, "cov_q")
    cov_p = _check_covariance(cov_p, dim, "cov_p")
    precision_p = np.linalg.inv(cov_p)
    diff = mean_p - mean_q
    trace = np.trace(precision_p @ cov_q, axis1=-2, axis2=-1)
    maha = np.einsum("...i,...ij,...j->...", diff, precision_p, diff)
    log_det_p = np.linalg.slogdet(cov_p)[1]
    log_det_q = np.linalg.slogdet(cov_q)[1]
    return 0.5 * (trace + maha - dim + log_det_p - log_det_q)


class LinearGaussian:
    """Probabilistic PCA: ``p(z) = N(0, I_d)``, ``p(x | z) = N(W z + b, s^2 I_D)``.

    The marginal is Gaussian, ``x ~ N(b, W W^T + s^2 I)``, and so is the
    posterior: ``p(z | x) = N(S W^T (x - b) / s^2, S)`` with
    ``S = (I + W^T W / s^2)^-1`` (the same for every ``x``). All methods take
    and return numpy float64 arrays, one row per data point.

    Args:
        weights: Decoder matrix ``W``, shape ``(D, d)`` (data dim, latent dim).
        bias: Decoder offset ``b``, shape ``(D,)``; zeros if None.
        noise_std: Observation noise ``s > 0``. The default 1.0 matches the
            package's unit-variance ``likelihood="gaussian"``.

    Example:

    >>> model = LinearGaussian(np.array([[2.0]]), np.array([0.0]))
    >>> x, z = model.sample(3, seed=0)
    >>> x.shape, z.shape
    ((3, 1), (3, 1))
    >>> round(float(model.log_marginal(np.array([[0.0]]))[0]), 6)  # log N(0; 0, 2^2 + 1)
    -1.723657
    """

    def __init__(self, weights, bias=None, noise_std=1.0):
        self.weights = _as_float_array(weights, "weights", (2,))
        data_dim, latent_dim = self.weights.shape
        if data_dim == 0 or latent_dim == 0:
            raise ValueError(f"`weights` must be non-empty; received shape {self.weights.shape}.")
        if bias is None:
            bias = np.zeros(data_dim)
        self.bias = _as_float_array(bias, "bias", (1,))
        if self.bias.shape != (data_dim,):
            raise ValueError(
                f"`bias` must have shape ({data_dim},) to match `weights` {self.weights.shape}; "
                f"received {self.bias.shape}."
            )
        if isinstance(noise_std, bool) or not np.isscalar(noise_std) \
                or not np.isfinite(noise_std) or noise_std <= 0:
            raise ValueError(f"`noise_std` must be a finite number > 0; received {noise_std!r}.")
        self.noise_std = float(noise_std)

    @property
    def data_dim(self):
        """``D``, the dimension of ``x``."""
        return self.weights.shape[0]

    @property
    def latent_dim(self):
        """``d``, the dimension of ``z``."""
        return self.weights.shape[1]

    def _x(self, x):
        x = _as_float_array(x, "x", (2,))
        _check_last_dim(x, self.data_dim, "x")
        return x

    def _z(self, z):
        z = _as_float_array(z, "z", (2, 3))
        _check_last_dim(z, self.latent_dim, "z")
        return z

    def decode(self, z):
        """Decoder mean ``W z + b`` for ``z`` of shape ``(..., d)`` -> ``(..., D)``."""
        return self._z(z) @ self.weights.T + self.bias

    def sample(self, n, seed=0):
        """Draws ``n`` pairs ``(x, z)`` from the joint ``p(x, z)``.

        Args:
            n: Number of samples, an int >= 1.
            seed: Seed for ``numpy.random.default_rng``.

        Returns:
            ``(x, z)`` with shapes ``(n, D)`` and ``(n, d)``.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be an int >= 1; received {n!r}.")
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.latent_dim))
        x = self.decode(z) + self.noise_std * rng.standard_normal((n, self.data_dim))
        return x, z

    def marginal_covariance(self):
        """Covariance of ``x`` under ``p(x)``: ``W W^T + s^2 I``, shape ``(D, D)``."""
        return self.weights @ self.weights.T + self.noise_std**2 * np.eye(self.data_dim)

    def log_marginal(self, x):
        """Exact ``log p(x)`` in nats, for ``x`` of shape ``(n, D)`` -> ``(n,)``."""
        return gaussian_log_density(self._x(x), self.bias, self.marginal_covariance())

    def log_prior(self, z):
        """``log p(z)`` for ``z`` of shape ``(..., d)`` -> ``(...)``."""
        z = self._z(z)
        return -0.5 * (self.latent_dim * _LOG_TWO_PI + np.sum(z**2, axis=-1))

    def log_likelihood(self, x, z):
        """``log p(x | z)`` in nats.

        Args:
            x: Array ``(n, D)``.
            z: Array ``(n, d)``, or ``(K, n, d)`` for ``K`` latent samples per
                data point.

        Returns:
            Array ``(n,)`` or ``(K, n)``.
        """
        x = self._x(x)
        z = self._z(z)
        if z.shape[-2] != x.shape[0]:
            raise ValueError(
                f"`z` must hold one row per row of `x` ({x.shape[0]}); received shape {z.shape}."
            )
        residual = (x - self.decode(z)) / self.noise_std
        return -0.5 * (self.data_dim * (_LOG_TWO_PI + 2.0 * np.log(self.noise_std))
                       + np.sum(residual**2, axis=-1))

    def log_joint(self, x, z):
        """``log p(x, z) = log p(x | z) + log p(z)``; shapes as in :meth:`log_likelihood`."""
        return self.log_likelihood(x, z) + self.log_prior(z)

    def posterior(self, x):
        """Exact posterior ``p(z | x) = N(mean, covariance)``.

        Args:
            x: Array ``(n, D)``.

        Returns:
            ``(mean, covariance)``: ``mean`` of shape ``(n, d)``; ``covariance``
            of shape ``(d, d)``, shared by all ``x`` in this model.
        """
        x = self._x(x)
        precision = np.eye(self.latent_dim) + self.weights.T @ self.weights / self.noise_std**2
        covariance = np.linalg.inv(precision)
        covariance = 0.5 * (covariance + covariance.T)  # exact symmetry
        mean = (x - self.bias) @ self.weights @ covariance / self.noise_std**2
        return mean, covariance

    def _q(self, x, q_mean, q_cov):
        x = self._x(x)
        q_mean = _as_float_array(q_mean, "q_mean", (2,))
        if q_mean.shape != (x.shape[0], self.latent_dim):
            raise ValueError(
                f"`q_mean` must have shape ({x.shape[0]}, {self.latent_dim}); "
                f"received {q_mean.shape}."
            )
        q_cov = _check_covariance(q_cov, self.latent_dim, "q_cov")
        if q_cov.ndim == 3 and len(q_cov) != len(x):
            raise ValueError(
                f"`q_cov` must have {len(x)} matrices (one per row of `x`); received {len(q_cov)}."
            )
        return x, q_mean, q_cov

    def expected_log_likelihood(self, x, q_mean, q_cov):
        """``E_q[log p(x | z)]`` for ``q = N(q_mean, q_cov)``, closed form.

        ``-D/2 log(2 pi s^2) - (||x - W m - b||^2 + tr(W^T W C)) / (2 s^2)``:
        the squared error at the mean plus the spread of ``q`` seen through ``W``.

        Args:
            x: Array ``(n, D)``.
            q_mean: Array ``(n, d)``.
            q_cov: Array ``(d, d)`` or ``(n, d, d)``; use
                :func:`covariance_from_log_var` for a diagonal ``q``.

        Returns:
            Array ``(n,)`` in nats (minus the reconstruction term of the loss).
        """
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        residual = x - self.decode(q_mean)
        spread = np.trace(self.weights.T @ self.weights @ q_cov, axis1=-2, axis2=-1)
        variance = self.noise_std**2
        return -0.5 * (self.data_dim * np.log(2.0 * np.pi * variance)
                       + (np.sum(residual**2, axis=-1) + spread) / variance)

    def elbo(self, x, q_mean, q_cov):
        """Closed-form ELBO ``E_q[log p(x | z)] - KL(q || p(z))`` for a Gaussian ``q``.

        Args:
            x: Array ``(n, D)``.
            q_mean: Array ``(n, d)``.
            q_cov: Array ``(d, d)`` or ``(n, d, d)``.

        Returns:
            Array ``(n,)`` in nats, never above :meth:`log_marginal`.

        Example:

        >>> model = LinearGaussian(np.array([[2.0]]))
        >>> x = np.array([[1.0]])
        >>> mean, cov = model.posterior(x)
        >>> bool(np.isclose(model.elbo(x, mean, cov)[0], model.log_marginal(x)[0]))
        True
        """
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        kl = kl_gaussians(q_mean, q_cov, np.zeros(self.latent_dim), np.eye(self.latent_dim))
        return self.expected_log_likelihood(x, q_mean, q_cov) - kl

    def kl_to_posterior(self, x, q_mean, q_cov):
        """``KL(q || p(z | x))``: the gap ``log p(x) - ELBO`` for ``q = N(q_mean, q_cov)``."""
        x, q_mean, q_cov = self._q(x, q_mean, q_cov)
        post_mean, post_cov = self.posterior(x)
        return kl_gaussians(q_mean, q_cov, post_mean, post_cov)
