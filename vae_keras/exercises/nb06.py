"""Exercise checks for notebook 06 (conditional VAEs).

Each check computes its expected value here and reports through
:func:`vae_keras.exercises.report`; the notebook shows only the data.
"""

import math

import numpy as np

from vae_keras.exercises._check import report

# Exercise 1: the weight of the KL term in the lecture's squared-error loss.
ALPHA = 0.1

# Exercise 2: the first dense layer of a conditional decoder with a 2-D z and
# a one-hot label of 10 classes. Its input is the concatenation [z, c], so
# the kernel has 2 + 10 rows; the layer computes relu([z, c] @ KERNEL + BIAS).
LATENT_DIM = 2
NUM_CLASSES = 10
_rng = np.random.default_rng(6)
FIRST_LAYER_KERNEL = np.round(_rng.normal(size=(LATENT_DIM + NUM_CLASSES, 4)), 2)
FIRST_LAYER_BIAS = np.round(_rng.normal(size=4), 2)
LABEL = 3
del _rng

# Exercise 3: given the condition, the missing part of a digit is one of two
# binary completions with probability 1/2 each; they differ in this many
# pixels and agree everywhere else.
DIFFERING_PIXELS = 20

# Exercise 4: a posterior q(z | x, c) and a learned conditional prior p(z | c),
# both diagonal Gaussians in a 3-D latent space.
Q_MEAN = np.array([0.5, -1.0, 0.2])
Q_LOG_VAR = np.array([-1.0, -0.5, 0.0])
PRIOR_MEAN = np.array([0.3, -0.8, 0.0])
PRIOR_LOG_VAR = np.array([0.2, 0.0, -0.3])


def check_gaussian_variance(answer):
    """Exercise 1: the decoder variance sigma^2 for which ALPHA gives beta = 1."""
    # ||y - f||^2 + alpha KL = 2 sigma^2 (||y - f||^2 / (2 sigma^2) + alpha / (2 sigma^2) KL)
    expected = ALPHA / 2.0
    return report("Exercise 1 (decoder variance)", answer, expected,
                  hint="divide the loss by 2 sigma^2 and ask when the KL weight is 1")


def check_label_bias(answer):
    """Exercise 2: the bias vector the one-hot label LABEL adds to the layer."""
    expected = FIRST_LAYER_BIAS + FIRST_LAYER_KERNEL[LATENT_DIM + LABEL]
    return report("Exercise 2 (the label as a bias)", answer, expected,
                  hint="[z, c] @ W = z @ W[:2] + c @ W[2:]; a one-hot c picks one row")


def check_regressor_nll(answer):
    """Exercise 3a: expected NLL (nats) of the best deterministic per-pixel model."""
    # The best factorised Bernoulli puts p = 1/2 on each differing pixel and
    # certainty on the others: log 2 nats per differing pixel.
    expected = DIFFERING_PIXELS * math.log(2.0)
    return report("Exercise 3a (regressor NLL)", answer, expected,
                  hint="the best p for a pixel that is 1 half of the time; sum over pixels")


def check_latent_model_nll(answer):
    """Exercise 3b: NLL (nats) of a latent-variable model that picks a completion."""
    # A binary latent choice with p = 1/2 and a decoder that reproduces each
    # completion exactly: p(x | c) = 1/2 for both completions.
    expected = math.log(2.0)
    return report("Exercise 3b (latent-variable NLL)", answer, expected,
                  hint="p(x | c) is a mixture of two sharp images with weights 1/2")


def check_conditional_prior_kl(answer):
    """Exercise 4: KL(q(z | x, c) || p(z | c)) in nats for diagonal Gaussians."""
    q_var, p_var = np.exp(Q_LOG_VAR), np.exp(PRIOR_LOG_VAR)
    expected = 0.5 * np.sum(PRIOR_LOG_VAR - Q_LOG_VAR
                            + (q_var + (Q_MEAN - PRIOR_MEAN) ** 2) / p_var - 1.0)
    return report("Exercise 4 (KL to a conditional prior)", answer, expected,
                  hint="per dimension: 0.5 (log s_p^2 / s_q^2 + (s_q^2 + (m_q - m_p)^2) / s_p^2 - 1)")
