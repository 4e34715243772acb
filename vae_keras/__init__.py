"""vae_keras: the lecture's VAE builder on Keras 3, with its course notebooks."""

from vae_keras.autodiff import value_and_grad
from vae_keras.callbacks import KLWarmup
from vae_keras.data import (
    TEST_SEED,
    TRAIN_SEED,
    DynamicBinarization,
    binarize,
    by_mode,
    fast_mode,
    flatten,
    load_mnist,
    one_hot,
)
from vae_keras.evaluation import active_units, elbo, kl_per_dimension, log_likelihood
from vae_keras.models import (
    CVAE,
    LIKELIHOODS,
    VAE,
    ConditionalVariationalAutoencoder,
    Sampling,
    VariationalAutoencoder,
    check_data,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_mean,
    kl_divergence,
    reconstruction_loss,
)

__version__ = "0.1.0"

__all__ = sorted([
    "CVAE",
    "ConditionalVariationalAutoencoder",
    "DynamicBinarization",
    "KLWarmup",
    "LIKELIHOODS",
    "Sampling",
    "TEST_SEED",
    "TRAIN_SEED",
    "VAE",
    "VariationalAutoencoder",
    "active_units",
    "binarize",
    "by_mode",
    "check_data",
    "continuous_bernoulli_log_normalizer",
    "continuous_bernoulli_mean",
    "elbo",
    "fast_mode",
    "flatten",
    "kl_divergence",
    "kl_per_dimension",
    "load_mnist",
    "log_likelihood",
    "one_hot",
    "reconstruction_loss",
    "value_and_grad",
])
