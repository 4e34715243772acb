"""vae_keras: the lecture's VAE builder on Keras 3, with its course notebooks."""

from vae_keras._quiet import quiet_tensorflow_start_up

quiet_tensorflow_start_up()  # before Keras imports TensorFlow: no C++ start-up lines

from vae_keras.autodiff import value_and_grad
from vae_keras.callbacks import KLWarmup
from vae_keras.data import (
    N_TEST,
    N_TRAIN,
    TEST_SEED,
    TRAIN_SEED,
    DynamicBinarization,
    all_data,
    binarize,
    by_mode,
    fast_mode,
    flatten,
    load_mnist,
    one_hot,
)
from vae_keras.evaluation import (
    active_units,
    elbo,
    kl_per_dimension,
    log_likelihood,
    prior_mismatch,
)
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
from vae_keras.quality import feature_classifier, frechet_distance, precision_recall
from vae_keras.semi_supervised import SSVAE, SemiSupervisedBatches, SemiSupervisedVAE
from vae_keras.stats import compare_seeds, mean_se, paired_difference

__version__ = "0.1.0"

__all__ = sorted([
    "CVAE",
    "ConditionalVariationalAutoencoder",
    "DynamicBinarization",
    "KLWarmup",
    "LIKELIHOODS",
    "N_TEST",
    "N_TRAIN",
    "SSVAE",
    "Sampling",
    "SemiSupervisedBatches",
    "SemiSupervisedVAE",
    "TEST_SEED",
    "TRAIN_SEED",
    "VAE",
    "VariationalAutoencoder",
    "active_units",
    "all_data",
    "binarize",
    "by_mode",
    "check_data",
    "compare_seeds",
    "continuous_bernoulli_log_normalizer",
    "continuous_bernoulli_mean",
    "elbo",
    "fast_mode",
    "feature_classifier",
    "flatten",
    "frechet_distance",
    "kl_divergence",
    "kl_per_dimension",
    "load_mnist",
    "log_likelihood",
    "mean_se",
    "one_hot",
    "paired_difference",
    "precision_recall",
    "prior_mismatch",
    "reconstruction_loss",
    "value_and_grad",
])
