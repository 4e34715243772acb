"""Learned priors for :func:`vae_keras.VAE`: a mixture of Gaussians.

The standard normal prior ``p(z) = N(0, I)`` is where samples come from;
the aggregate posterior ``q(z)`` is where the codes are. When the two differ,
prior samples fall into *holes* (notebook 07 measures them with
:func:`vae_keras.prior_mismatch`). A learned prior moves towards the codes:
here a mixture of ``K`` diagonal Gaussians with trainable weights, means and
variances, trained with the rest of the VAE (the remedy of Tomczak &
Welling's VampPrior paper, 2018, in its simplest form; Dilokthanakul et al.
2016 use such a mixture too).

The KL between ``q(z | x)`` and a mixture has no closed form: with such a
prior the VAE's KL term is the one-sample Monte Carlo estimate
``log q(z | x) - log p(z)`` at the sampled ``z`` (unbiased, noisy), and
``kl_loss`` in the history is that estimate.
"""

import math

import keras
import numpy as np
from keras import ops

from vae_keras.models import _check_positive_int, _check_seed

_LOG_TWO_PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="vae_keras")
class MixturePrior(keras.layers.Layer):
    """A trainable mixture of diagonal Gaussians ``p(z) = sum_k w_k N(z; m_k, diag(v_k))``.

    Args:
        num_components: Positive int ``K``.
        latent_dim: Positive int, the VAE's latent size.
        seed: Optional int seed of the initial means (drawn from ``N(0, I)``;
            the variances start at 1 and the weights equal).
        **kwargs: Base layer arguments (``name``...).

    Call arguments:
        inputs: Codes ``z`` of shape ``(batch, latent_dim)``.

    Returns:
        ``log p(z)``, shape ``(batch,)``, in nats (:meth:`log_prob`).

    Example:

    >>> prior = MixturePrior(num_components=10, latent_dim=2, seed=0)
    >>> tuple(prior.log_prob(keras.ops.zeros((3, 2))).shape)
    (3,)
    >>> vae = VAE((784,), encoder, decoder, prior=prior)   # doctest: +SKIP
    """

    def __init__(self, num_components, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_components = _check_positive_int(num_components, "num_components")
        self.latent_dim = _check_positive_int(latent_dim, "latent_dim")
        self.seed = _check_seed(seed)
        self.means = self.add_weight(
            shape=(self.num_components, self.latent_dim), name="means",
            initializer=keras.initializers.RandomNormal(stddev=1.0, seed=self.seed))
        self.log_vars = self.add_weight(
            shape=(self.num_components, self.latent_dim), name="log_vars", initializer="zeros")
        self.logits = self.add_weight(
            shape=(self.num_components,), name="logits", initializer="zeros")
        self.built = True

    def log_prob(self, z):
        """``log p(z)`` per row of ``z`` (``keras.ops``; any backend)."""
        z = ops.convert_to_tensor(z)
        if len(z.shape) != 2 or (z.shape[-1] is not None and z.shape[-1] != self.latent_dim):
            raise ValueError(
                f"`z` must have shape (batch, {self.latent_dim}); received {tuple(z.shape)}."
            )
        diff = z[:, None, :] - ops.cast(self.means, z.dtype)[None]
        log_vars = ops.cast(self.log_vars, z.dtype)
        components = -0.5 * ops.sum(
            ops.square(diff) * ops.exp(-log_vars)[None] + log_vars[None] + _LOG_TWO_PI, axis=-1)
        log_weights = ops.log_softmax(ops.cast(self.logits, z.dtype))
        return ops.logsumexp(components + log_weights[None], axis=-1)

    def call(self, inputs):
        return self.log_prob(inputs)

    def parameters(self):
        """``(weights, means, log_vars)`` as numpy arrays."""
        logits = ops.convert_to_numpy(self.logits).astype(np.float64)
        weights = np.exp(logits - logits.max())
        return (weights / weights.sum(), ops.convert_to_numpy(self.means).astype(np.float64),
                ops.convert_to_numpy(self.log_vars).astype(np.float64))

    def draw(self, n, rng):
        """``n`` codes from the mixture, numpy, with the numpy generator ``rng``."""
        n = _check_positive_int(n, "n")
        weights, means, log_vars = self.parameters()
        component = rng.choice(self.num_components, size=n, p=weights)
        return means[component] + np.exp(0.5 * log_vars[component]) * rng.standard_normal(
            (n, self.latent_dim))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)

    def get_config(self):
        config = super().get_config()
        config.update({"num_components": self.num_components, "latent_dim": self.latent_dim,
                       "seed": self.seed})
        return config
