"""vae_keras: the lecture's VAE builder on Keras 3, with its course notebooks."""

from vae_keras.models import (
    CVAE,
    VAE,
    ConditionalVariationalAutoencoder,
    Sampling,
    VariationalAutoencoder,
    kl_divergence,
    reconstruction_loss,
)

__version__ = "0.1.0"

__all__ = sorted([
    "CVAE",
    "ConditionalVariationalAutoencoder",
    "Sampling",
    "VAE",
    "VariationalAutoencoder",
    "kl_divergence",
    "reconstruction_loss",
])
