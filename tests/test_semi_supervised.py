"""Tests for vae_keras.semi_supervised (Kingma et al.'s M2) against numpy references.

The exact toy: K classes, binary pixels, a decoder that ignores z,
p(x | y) = prod_d Bernoulli(x_d; sigmoid(A[y, d])). Then
log p(x) = log sum_y (1/K) p(x | y) in closed form, the exact posterior
p(y | x) is the softmax of x A^T - sum_d softplus(A) (linear in x), and with
q(z | x, y) = p(z) = N(0, 1) every bound below is exact for the right q(y | x).
"""

import math

import keras
import numpy as np
import pytest

from vae_keras import semi_supervised as ssl
from vae_keras.semi_supervised import SSVAE, SemiSupervisedBatches

K, D, L = 3, 6, 1


def softplus(a):
    return np.logaddexp(0.0, a)


def fixed_dense(units, kernel, bias, activation=None):
    layer = keras.layers.Dense(units, activation=activation)
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel.astype("float32"), bias.astype("float32")])
    return layer


class Toy:
    def __init__(self, seed=0):
        self.A = np.random.default_rng(seed).normal(scale=2.0, size=(K, D))

    def log_px_given_y(self, x):  # (n, K)
        return x @ self.A.T - softplus(self.A).sum(axis=1)

    def log_px(self, x):
        lp = self.log_px_given_y(x) - math.log(K)
        top = lp.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(lp - top).sum(axis=1, keepdims=True)))[:, 0]

    def sample(self, n, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, K, size=n)
        x = (rng.random((n, D)) < 1 / (1 + np.exp(-self.A[y]))).astype("float32")
        return x, y

    def model(self, classifier_shift=0.0, alpha=1.0):
        x_in = keras.Input((D,))
        classifier = keras.Model(x_in, fixed_dense(
            K, self.A.T, -softplus(self.A).sum(axis=1) + classifier_shift * np.arange(K))(x_in))
        xe, ye = keras.Input((D,)), keras.Input((K,))
        joined = keras.layers.Concatenate()([xe, ye])
        zeros = np.zeros((D + K, L))
        encoder = keras.Model([xe, ye], [fixed_dense(L, zeros, np.zeros(L))(joined),
                                         fixed_dense(L, zeros, np.zeros(L))(joined)])
        zd, yd = keras.Input((L,)), keras.Input((K,))
        logits = fixed_dense(D, np.concatenate([np.zeros((L, D)), self.A]), np.zeros(D))(
            keras.layers.Concatenate()([zd, yd]))
        decoder = keras.Model([zd, yd], keras.layers.Activation("sigmoid")(logits))
        return SSVAE((D,), K, classifier, encoder, decoder, alpha=alpha)


@pytest.fixture(scope="module")
def toy():
    return Toy()


@pytest.fixture(scope="module")
def toy_data(toy):
    return toy.sample(64, seed=1)


def test_bounds_are_exact_with_the_exact_posterior(toy, toy_data):
    x, y = toy_data
    m2 = toy.model()
    assert m2.exact_likelihood
    np.testing.assert_allclose(m2.elbo(x, seed=0), toy.log_px(x), rtol=1e-5, atol=1e-4)
    joint = toy.log_px_given_y(x)[np.arange(len(x)), y] - math.log(K)
    np.testing.assert_allclose(m2.elbo(x, labels=y, seed=0), joint, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(m2.log_likelihood(x, num_samples=3, seed=0), toy.log_px(x),
                               rtol=1e-5, atol=1e-4)
    posterior = np.exp(toy.log_px_given_y(x) - math.log(K) - toy.log_px(x)[:, None])
    np.testing.assert_allclose(m2.classify(x), posterior, rtol=1e-4, atol=1e-5)


def test_unlabelled_bound_with_a_wrong_classifier(toy, toy_data):
    """U(x) enumerates the classes: sum_y q (log p(x|y) + log p(y)) + H(q) <= log p(x)."""
    x, _ = toy_data
    m2 = toy.model(classifier_shift=1.5)
    q = m2.classify(x)
    expected = np.sum(q * (toy.log_px_given_y(x) - math.log(K)), axis=1) - np.sum(q * np.log(q), axis=1)
    bound = m2.elbo(x, seed=0)
    np.testing.assert_allclose(bound, expected, rtol=1e-5, atol=1e-4)
    gap = toy.log_px(x) - bound
    assert np.all(gap > -1e-4) and gap.mean() > 0.05  # the gap is KL(q(y|x) || p(y|x)) > 0


def test_training_loss_matches_numpy(toy, toy_data):
    x, y = toy_data
    labels = np.where(np.arange(len(y)) % 4 == 0, y, -1)
    alpha = 2.5
    m2 = toy.model(classifier_shift=0.7, alpha=alpha)
    scores = m2.evaluate(ssl._ArrayBatches([x, labels], len(x), False), verbose=0, return_dict=True)
    q = m2.classify(x)
    log_joint = toy.log_px_given_y(x) - math.log(K)
    labelled = labels >= 0
    per_example = np.where(
        labelled,
        -log_joint[np.arange(len(x)), np.maximum(labels, 0)] - alpha * np.log(q[np.arange(len(x)), np.maximum(labels, 0)]),
        -(np.sum(q * log_joint, axis=1) - np.sum(q * np.log(q), axis=1)))
    assert scores["loss"] == pytest.approx(per_example.mean(), rel=1e-5)
    assert scores["labelled_loss"] == pytest.approx(
        -log_joint[labelled, labels[labelled]].mean(), rel=1e-5)
    assert scores["classification_loss"] == pytest.approx(
        -np.log(q[labelled, labels[labelled]]).mean(), rel=1e-4)


def build_trainable(num_classes=2, dim=20, latent=2):
    x_in = keras.Input((dim,))
    classifier = keras.Model(x_in, keras.layers.Dense(num_classes)(keras.layers.Dense(16, activation="relu")(x_in)))
    xe, ye = keras.Input((dim,)), keras.Input((num_classes,))
    h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([xe, ye]))
    encoder = keras.Model([xe, ye], [keras.layers.Dense(latent)(h), keras.layers.Dense(latent)(h)])
    zd, yd = keras.Input((latent,)), keras.Input((num_classes,))
    h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([zd, yd]))
    decoder = keras.Model([zd, yd], keras.layers.Activation("sigmoid")(keras.layers.Dense(dim)(h)))
    return SSVAE((dim,), num_classes, classifier, encoder, decoder, alpha=10.0)


def two_patterns(n, seed, dim=20):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    base = np.where(np.arange(dim) < dim // 2, 0.9, 0.1)
    probs = np.where(y[:, None] == 0, base, 1 - base)
    return (rng.random((n, dim)) < probs).astype("float32"), y


def test_fits_with_few_labels_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = two_patterns(600, seed=0)
    x_test, y_test = two_patterns(200, seed=1)
    m2 = build_trainable()
    batches = SemiSupervisedBatches(x[:6], y[:6], x, batch_size=64, labelled_per_batch=4, binarize=False)
    history = m2.fit(batches, epochs=25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert {"labelled_loss", "unlabelled_loss", "classification_loss"} <= set(history.history)
    accuracy = np.mean(m2.classify(x_test).argmax(axis=1) == y_test)
    assert accuracy > 0.9, accuracy
    labels = np.full(len(x), -1)
    labels[:6] = y[:6]
    m2.fit([x, labels], epochs=1, batch_size=50, verbose=0)  # arrays work too
    path = tmp_path / "m2.keras"
    m2.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.classify(x_test), m2.classify(x_test), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.elbo(x_test[:10], seed=3), m2.elbo(x_test[:10], seed=3), rtol=1e-5)


def test_batches_hold_the_promised_mix():
    rng = np.random.default_rng(0)
    x_l, y_l = rng.uniform(size=(5, 4)), np.array([0, 1, 2, 1, 0])
    x_u = rng.uniform(size=(23, 4))
    batches = SemiSupervisedBatches(x_l, y_l, x_u, batch_size=8, labelled_per_batch=3, seed=4)
    assert len(batches) == 5  # 23 unlabelled, 5 per batch
    seen, labelled_seen = [], []
    for i in range(len(batches)):
        ((images, labels),) = batches[i]
        assert set(np.unique(images)) <= {0.0, 1.0}
        assert np.sum(labels >= 0) == 3 and np.all(labels[3:] == -1)
        labelled_seen.extend(labels[:3])
        seen.append(len(images) - 3)
    assert sum(seen) == 23  # every unlabelled image once per epoch
    assert sorted(labelled_seen[:5]) == sorted(y_l)  # labelled images cycle through a permutation
    ((again, _),) = batches[2]
    np.testing.assert_array_equal(again, batches[2][0][0])  # reproducible
    batches.on_epoch_end()
    assert not np.array_equal(batches[2][0][0], again)


@pytest.mark.parametrize("call, error, message", [
    (lambda t: t.model().fit(np.zeros((4, D)), np.zeros(4)), ValueError, "takes its labels"),
    (lambda t: t.model().fit([np.zeros((4, D)), np.array([0, 5, -1, 1])]), ValueError, "lie in"),
    (lambda t: t.model().fit([np.zeros((4, D)), np.array([0, 1])]), ValueError, "one entry per image"),
    (lambda t: t.model().elbo(np.zeros((2, D)), labels=np.array([-1, 0])), ValueError, "lie in"),
    (lambda t: t.model().fit([np.full((2, D), 0.5), np.array([0, 1])]), ValueError, "binar"),
    (lambda t: SemiSupervisedBatches(np.zeros((2, D)), [0, 1], np.zeros((9, D)), batch_size=4,
                                     labelled_per_batch=4), ValueError, "labelled_per_batch"),
    (lambda t: SemiSupervisedBatches(np.zeros((2, D)), [0.5, 1], np.zeros((9, D))), ValueError, "integer"),
])
def test_bad_inputs_are_refused(toy, call, error, message):
    with pytest.raises(error, match=message):
        call(toy)


def test_bad_parts_are_refused():
    x_in = keras.Input((D,))
    soft = keras.Model(x_in, keras.layers.Dense(K, activation="softmax")(x_in))
    toy = Toy()
    good = toy.model()
    with pytest.raises(ValueError, match="logits"):
        SSVAE((D,), K, soft, good.encoder, good.decoder)
    wrong = keras.Model(x_in, keras.layers.Dense(K + 1)(x_in))
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        SSVAE((D,), K, wrong, good.encoder, good.decoder)
    with pytest.raises(ValueError, match="num_classes"):
        SSVAE((D,), 1, good.classifier, good.encoder, good.decoder)
    with pytest.raises(ValueError, match="alpha"):
        SSVAE((D,), K, good.classifier, good.encoder, good.decoder, alpha=-1.0)
    with pytest.raises(TypeError, match="classifier"):
        SSVAE((D,), K, "logistic", good.encoder, good.decoder)
