"""Exercise checks for notebook 05 (beta-VAE, rate-distortion, disentanglement).

Each check computes its expected value here, from the same data the notebook
shows, and reports through :func:`vae_keras.exercises.report`.
"""

import numpy as np

from vae_keras.disentanglement import discrete_mutual_information
from vae_keras.exercises._check import report

# Exercise 1: a joint distribution p(a, b) of two binary variables (rows: a).
JOINT_TABLE = np.array([[0.4, 0.1],
                        [0.1, 0.4]])

# Exercise 3: mutual informations I(z_j; v_k) in nats, rows z_1..z_3, columns
# the factors v_1 (4 equally likely values) and v_2 (2 equally likely values).
MI_MATRIX = np.array([[0.9, 0.1],
                      [0.6, 0.05],
                      [0.0, 0.5]])
FACTOR_CARDINALITIES = (4, 2)

# Exercise 4: posterior means z_mean of six examples in a 3-D latent space.
Z_MEANS = np.array([[0.8, 0.01, -1.2],
                    [-0.5, -0.02, 0.3],
                    [1.1, 0.00, 0.9],
                    [-0.9, 0.03, -0.4],
                    [0.2, -0.01, 1.5],
                    [-0.4, 0.02, -0.9]])
ACTIVE_UNIT_THRESHOLD = 0.01


def _labels_from_table(table, size=1000):
    """Label pairs whose empirical joint frequencies equal ``table``."""
    counts = np.rint(np.asarray(table) * size).astype(int)
    a = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1))
    b = np.concatenate([np.repeat(np.arange(counts.shape[1]), row) for row in counts])
    return a, b


def check_mutual_information(answer):
    """Exercise 1: I(a; b) in nats for ``JOINT_TABLE``."""
    expected = discrete_mutual_information(*_labels_from_table(JOINT_TABLE))
    return report("Exercise 1 (mutual information of the table)", answer, expected,
                  hint="sum p(a,b) log(p(a,b) / (p(a) p(b))), natural log")


def check_effective_beta(answer):
    """Exercise 2: beta implied by ``mean squared error (over 784 pixels) + KL``."""
    num_pixels = 28 * 28
    # mean_sq + KL = (2 / D) * (0.5 * ||x - x_hat||^2 + (D / 2) * KL)
    expected = num_pixels / 2.0
    return report("Exercise 2 (effective beta)", answer, expected,
                  hint="write the loss as a multiple of (0.5 ||x - x_hat||^2 + beta KL)")


def check_mig_from_matrix(answer):
    """Exercise 3: MIG of ``MI_MATRIX`` for uniform factors ``FACTOR_CARDINALITIES``."""
    entropies = np.log(np.asarray(FACTOR_CARDINALITIES, dtype="float64"))
    top_two = np.sort(MI_MATRIX, axis=0)[-2:]
    expected = np.mean((top_two[1] - top_two[0]) / entropies)
    return report("Exercise 3 (MIG from a mutual-information matrix)", answer, expected,
                  hint="per factor: (largest - second largest) / H(factor); then average")


def check_active_units(answer):
    """Exercise 4: number of active units of ``Z_MEANS`` (variance > 0.01)."""
    expected = int(np.sum(np.var(Z_MEANS, axis=0) > ACTIVE_UNIT_THRESHOLD))
    return report("Exercise 4 (active units)", answer, expected, rtol=0, atol=0,
                  hint="variance over the examples of each column, compared with 0.01")
