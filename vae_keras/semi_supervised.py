"""The M2 semi-supervised VAE of Kingma, Rezende, Mohamed & Welling (2014).

The label ``y`` is a second latent variable next to ``z``: the generative
model is ``p(y) p(z) p(x | y, z)`` with ``p(y)`` uniform over ``K`` classes
and ``p(z) = N(0, I)``; the inference model is ``q(y | x) q(z | x, y)``.
``q(y | x)`` is a classifier, so a model trained on a few labels and many
unlabelled images classifies.

- A **labelled** image gives the bound ``log p(x, y) >= -L(x, y)`` with
  ``L(x, y) = E_q(z|x,y)[-log p(x | y, z)] + KL(q(z | x, y) || p(z)) - log p(y)``,
  and the classifier gets its labels directly: ``+ alpha * (-log q(y | x))``
  (without it, ``q(y | x)`` would learn only from the unlabelled bound).
- An **unlabelled** image sums the label out:
  ``log p(x) >= -U(x)``, ``U(x) = sum_y q(y | x) L(x, y) - H(q(y | x))``,
  enumerating all ``K`` classes (``K`` passes of the encoder and decoder).

``fit([x, labels])`` takes both at once: ``labels`` holds the class of each
labelled image and ``-1`` for an unlabelled one; the loss is the mean over
the batch of ``L + alpha * CE`` (labelled) or ``U`` (unlabelled), in nats per
image. :class:`SemiSupervisedBatches` builds batches with a fixed number of
labelled images each (a few labels would otherwise be rare in a batch), and
binarises afresh every epoch. Taught in the course's semi-supervised
notebook.
"""

import math

import keras
import numpy as np
from keras import ops

from vae_keras.data import TRAIN_SEED
from vae_keras.models import (
    DEFAULT_STEPS_PER_EXECUTION,
    Sampling,
    _check_beta,
    _check_likelihood,
    _check_non_negative_number,
    _check_part,
    _check_positive_int,
    _check_seed,
    _kl_per_dimension,
    _sigmoid_logits_model,
    _symbolic_outputs,
    check_data,
    reconstruction_loss,
)


@keras.saving.register_keras_serializable(package="vae_keras")
class SemiSupervisedVAE(keras.Model):
    """Kingma et al.'s M2: a VAE whose label is a latent variable, trained on labelled and unlabelled images.

    Usually built with :func:`SSVAE`, which checks the parts and compiles.

    Args:
        classifier: Model ``x -> logits`` of shape ``(batch, num_classes)``:
            ``q(y | x)`` is their softmax (no softmax layer at the end).
        encoder: Model ``[x, y_onehot] -> [z_mean, z_log_var]``, ``q(z | x, y)``.
        decoder: Model ``[z, y_onehot] -> x_decoded``, ``p(x | y, z)``; a
            decoder ending in ``Activation("sigmoid")`` gives exact losses
            from its logits, as in :class:`vae_keras.VAE`.
        num_classes: Int ``K >= 2``.
        sampling_layer: Layer ``[z_mean, z_log_var] -> z``; ``Sampling()`` if None.
        alpha: Number >= 0, weight of the labelled images' classification
            loss ``-log q(y | x)``.
        beta: Number >= 0, weight of the KL terms (1: the bounds above).
        likelihood: ``"bernoulli"`` (binary data) or ``"gaussian"``.
        input_shape: Shape of one image.
        **kwargs: Base model arguments (``name``...).

    Call arguments:
        inputs: ``[x, labels]`` (labels: class index, or -1 if unlabelled),
            or ``x`` alone.

    Returns:
        ``q(y | x)``, probabilities ``(batch, num_classes)``; ``predict(x)``
        and :meth:`classify` give them.

    Example:

    >>> m2 = SSVAE((784,), 10, classifier, encoder, decoder, alpha=50.0)   # doctest: +SKIP
    >>> m2.fit(SemiSupervisedBatches(x_lab, y_lab, x_unlab), epochs=20)   # doctest: +SKIP
    >>> accuracy = np.mean(m2.classify(x_test).argmax(1) == y_test)       # doctest: +SKIP
    """

    def __init__(self, classifier, encoder, decoder, num_classes, sampling_layer=None,
                 alpha=1.0, beta=1.0, likelihood="bernoulli", input_shape=None, **kwargs):
        super().__init__(**kwargs)
        self.classifier = classifier
        self.encoder = encoder
        self.decoder = decoder
        self.num_classes = _check_num_classes(num_classes)
        self.sampling_layer = sampling_layer if sampling_layer is not None else Sampling()
        self.alpha = _check_non_negative_number(alpha, "alpha")
        self.beta = _check_beta(beta)
        self.likelihood = _check_ssl_likelihood(likelihood)
        self.data_shape = None if input_shape is None else tuple(input_shape)
        logits_model = (_sigmoid_logits_model(decoder) if likelihood == "bernoulli" else None)
        object.__setattr__(self, "_logits_decoder", logits_model)  # shares the decoder's weights
        self.trackers = {name: keras.metrics.Mean(name=name) for name in (
            "labelled_loss", "unlabelled_loss", "classification_loss")}
        self.built = True

    @property
    def exact_likelihood(self):
        """True when the Bernoulli loss comes from logits (or the likelihood is Gaussian)."""
        return self.likelihood == "gaussian" or self._logits_decoder is not None

    def compile(self, optimizer="adam", *args, steps_per_execution=None, **kwargs):
        """``keras.Model.compile``; ``steps_per_execution`` defaults as for :class:`vae_keras.VAE`."""
        if steps_per_execution is None:
            steps_per_execution = (1 if keras.backend.backend() == "torch"
                                   else DEFAULT_STEPS_PER_EXECUTION)
        super().compile(optimizer, *args, steps_per_execution=steps_per_execution, **kwargs)

    def compile_from_config(self, config):
        """Compiles a loaded model as it was saved."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # --- the objective ---------------------------------------------------------

    def _neg_elbo_per_class(self, x, epsilon=None):
        """``-ELBO_z(x, y) - log p(y)`` for every class: ``(batch, K)``, one z per pair."""
        k = self.num_classes
        batch = ops.shape(x)[0]
        x_rep = ops.repeat(x, k, axis=0)  # rows: (x0, y=0), (x0, y=1), ..., (x1, y=0), ...
        y_rep = ops.tile(ops.eye(k, dtype=x.dtype), (batch, 1))
        z_mean, z_log_var = self.encoder([x_rep, y_rep])
        if epsilon is None:
            z = self.sampling_layer([z_mean, z_log_var])
        else:
            z = z_mean + ops.exp(0.5 * z_log_var) * epsilon
        decoder = self._logits_decoder if self._logits_decoder is not None else self.decoder
        head = decoder([z, y_rep])
        nll = reconstruction_loss(x_rep, head, self.likelihood,
                                  from_logits=self._logits_decoder is not None)
        kl = ops.sum(_kl_per_dimension(z_mean, z_log_var), axis=-1)
        per_pair = nll + self.beta * kl + math.log(k)  # -log p(y) = log K
        return ops.reshape(per_pair, (batch, k))

    def call(self, inputs, training=None):
        x, labels = _split(inputs)
        log_q = ops.log_softmax(self.classifier(x), axis=-1)
        if labels is not None and not isinstance(log_q, keras.KerasTensor):
            self._add_losses(x, labels, log_q)
        return ops.exp(log_q)

    def _add_losses(self, x, labels, log_q):
        neg_elbo = self._neg_elbo_per_class(x)
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        labelled = ops.cast(labels >= 0, log_q.dtype)
        target = ops.one_hot(ops.maximum(labels, 0), self.num_classes, dtype=log_q.dtype)
        labelled_loss = ops.sum(target * neg_elbo, axis=-1)
        cross_entropy = -ops.sum(target * log_q, axis=-1)
        q = ops.exp(log_q)
        unlabelled_loss = ops.sum(q * neg_elbo, axis=-1) + ops.sum(q * log_q, axis=-1)
        per_example = labelled * (labelled_loss + self.alpha * cross_entropy) \
            + (1.0 - labelled) * unlabelled_loss
        n_labelled = ops.sum(labelled)
        n_unlabelled = ops.sum(1.0 - labelled)
        # Order matters: compute_loss reads the total, then (mean, count) for each metric:
        # means over the labelled / unlabelled rows of the batch.
        self.add_loss(ops.mean(per_example))
        for value, count in (
            (ops.sum(labelled * labelled_loss), n_labelled),
            (ops.sum((1.0 - labelled) * unlabelled_loss), n_unlabelled),
            (ops.sum(labelled * cross_entropy), n_labelled),
        ):
            self.add_loss(value / ops.maximum(count, 1.0))
            self.add_loss(count)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = self.losses
        if len(losses) < 7:
            raise RuntimeError(
                "A SemiSupervisedVAE trains on [x, labels] (labels -1 where unknown); "
                "it received no labels."
            )
        total, *metric_terms = losses[:7]
        for other in losses[7:]:  # e.g. weight regularizers
            total = total + ops.sum(other)
        for i, tracker in enumerate(self.trackers.values()):
            tracker.update_state(metric_terms[2 * i], sample_weight=metric_terms[2 * i + 1])
        return total

    @property
    def metrics(self):
        return super().metrics + list(self.trackers.values())

    # --- fit / predict ----------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        if y is not None:
            raise ValueError(
                "A SemiSupervisedVAE takes its labels with the images: fit([x, labels]) "
                "with labels -1 for unlabelled images, or fit(SemiSupervisedBatches(...)); "
                f"received y of type {type(y).__name__}."
            )
        if isinstance(x, (list, tuple)):
            self._check_labelled_inputs(x)
            x = _ArrayBatches(x, kwargs.pop("batch_size", None) or 32, kwargs.pop("shuffle", True))
        return super().fit(x, *args, **kwargs)

    def _check_labelled_inputs(self, inputs):
        if len(inputs) != 2:
            raise ValueError(
                "fit expects [x, labels]; received a list of length "
                f"{len(inputs)}."
            )
        images = check_data(inputs[0], "x", self.likelihood)
        labels = _check_labels(inputs[1], self.num_classes, allow_unlabelled=True)
        if len(labels) != len(images):
            raise ValueError(
                f"`labels` must have one entry per image: {len(images)} images, received "
                f"{len(labels)} labels."
            )

    def classify(self, x, batch_size=256):
        """``q(y | x)``: class probabilities ``(n, num_classes)`` as a numpy array.

        Example:

        >>> predicted = m2.classify(x_test).argmax(axis=1)   # doctest: +SKIP
        """
        check_data(x, "x", self.likelihood)
        logits = self.classifier.predict(x, batch_size=_check_positive_int(batch_size, "batch_size"),
                                         verbose=0)
        logits = np.asarray(logits, dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    # --- bounds, for evaluation --------------------------------------------------

    def elbo(self, x, labels=None, seed=0, batch_size=100):
        """Per-image evidence lower bounds in nats, one ``z`` per (image, class).

        With ``labels``: the bound on ``log p(x, y)``, ``-L(x, y)``. Without:
        the bound on ``log p(x)`` with the label summed out, ``-U(x)``.

        Args:
            x: Images ``(n,) + input_shape``.
            labels: None, or int labels ``(n,)`` in ``[0, num_classes)``.
            seed: Int; image ``i``'s noise comes from ``(seed, i)``.
            batch_size: Positive int.

        Returns:
            Numpy array ``(n,)``.
        """
        x = check_data(x, "x", self.likelihood)
        if labels is not None:
            labels = _check_labels(labels, self.num_classes, allow_unlabelled=False)
        out = []
        for rows, neg_elbo in self._per_class(x, seed, batch_size, num_samples=1):
            neg_elbo = neg_elbo[:, :, 0]
            if labels is not None:
                out.append(-neg_elbo[np.arange(len(rows)), labels[rows]])
                continue
            log_q = np.log(np.clip(self.classify(x[rows]), 1e-300, None))
            q = np.exp(log_q)
            out.append(-(np.sum(q * neg_elbo, axis=1) + np.sum(q * log_q, axis=1)))
        return np.concatenate(out)

    def log_likelihood(self, x, num_samples=100, seed=0, batch_size=100):
        """Importance-weighted bound on ``log p(x)``, the label summed out exactly.

        ``log sum_y p(y) (1/S) sum_s w_{y,s}`` with ``S = num_samples`` codes
        ``z ~ q(z | x, y)`` for every class: the sum inside the log is an
        unbiased estimate of ``p(x)``, so the result is a lower bound in
        expectation that tightens as ``S`` grows (Burda et al., 2016).

        Returns:
            Numpy array ``(n,)`` in nats.
        """
        x = check_data(x, "x", self.likelihood)
        num_samples = _check_positive_int(num_samples, "num_samples")
        out = []
        for _, neg_elbo in self._per_class(x, seed, batch_size, num_samples):
            log_w = -neg_elbo  # (n, K, S), log p(y) included
            top = log_w.max(axis=(1, 2), keepdims=True)
            out.append(top[:, 0, 0] + np.log(np.mean(np.sum(np.exp(log_w - top), axis=1), axis=1)))
        return np.concatenate(out)

    def _per_class(self, x, seed, batch_size, num_samples):
        """Yields (rows, -log w) with -log w of shape (rows, K, S), exact log-weights."""
        seed = _check_seed(seed)
        seed = 0 if seed is None else seed
        batch_size = _check_positive_int(batch_size, "batch_size")
        k = self.num_classes
        latent_dim = int(self.encoder.outputs[0].shape[-1])
        for start in range(0, len(x), batch_size):
            rows = np.arange(start, min(start + batch_size, len(x)))
            samples = []
            eps_all = np.stack([np.random.default_rng([seed, int(i)]).standard_normal(
                (num_samples, k, latent_dim)) for i in rows]).astype("float32")
            for s in range(num_samples):
                eps = eps_all[:, s].reshape(len(rows) * k, latent_dim)
                samples.append(ops.convert_to_numpy(self._log_weights_neg(x[rows], eps)))
            yield rows, np.stack(samples, axis=-1).astype(np.float64)

    def _log_weights_neg(self, x, epsilon):
        """``-(log p(x | y, z) + log p(z) - log q(z | x, y) + log p(y))`` per (image, class)."""
        x = ops.convert_to_tensor(x.astype("float32"))
        k = self.num_classes
        batch = x.shape[0]
        x_rep = ops.repeat(x, k, axis=0)
        y_rep = ops.tile(ops.eye(k, dtype="float32"), (batch, 1))
        z_mean, z_log_var = self.encoder([x_rep, y_rep], training=False)
        z = z_mean + ops.exp(0.5 * z_log_var) * epsilon
        decoder = self._logits_decoder if self._logits_decoder is not None else self.decoder
        nll = reconstruction_loss(x_rep, decoder([z, y_rep], training=False), self.likelihood,
                                  from_logits=self._logits_decoder is not None)
        log_p_over_q = -0.5 * ops.sum(ops.square(z) - ops.square(epsilon) - z_log_var, axis=-1)
        return ops.reshape(nll - log_p_over_q + math.log(k), (batch, k))

    def get_config(self):
        config = super().get_config()
        config.update({
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "num_classes": self.num_classes,
            "sampling_layer": keras.saving.serialize_keras_object(self.sampling_layer),
            "alpha": self.alpha,
            "beta": self.beta,
            "likelihood": self.likelihood,
            "input_shape": self.data_shape,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("classifier", "encoder", "decoder", "sampling_layer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def SSVAE(input_shape, num_classes, classifier, encoder, decoder, sampling_layer=None, *,
          alpha=1.0, beta=1.0, likelihood="bernoulli", optimizer="adam"):
    """Builds and compiles Kingma et al.'s M2 in the style of :func:`vae_keras.VAE`.

    Args:
        input_shape: Shape of one image, e.g. ``(784,)``.
        num_classes: Int ``K >= 2``.
        classifier: Keras model ``x -> logits (batch, K)``, no final softmax.
        encoder: Keras model ``[x, y_onehot] -> [z_mean, z_log_var]``.
        decoder: Keras model ``[z, y_onehot] -> x_decoded`` of shape ``input_shape``.
        sampling_layer, alpha, beta, likelihood: see :class:`SemiSupervisedVAE`.
        optimizer: Anything ``Model.compile`` accepts.

    Returns:
        A compiled :class:`SemiSupervisedVAE`.

    Example:

    >>> m2 = SSVAE((784,), 10, classifier, encoder, decoder, alpha=50.0)   # doctest: +SKIP
    """
    input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    if not isinstance(input_shape, tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape):
        raise ValueError(f"`input_shape` must be a tuple of positive ints; received {input_shape!r}.")
    num_classes = _check_num_classes(num_classes)
    for part, name in ((classifier, "classifier"), (encoder, "encoder"), (decoder, "decoder")):
        _check_part(part, name)
    x_in, y_in = keras.Input(input_shape), keras.Input((num_classes,))
    logits = _symbolic_outputs(classifier, "classifier", x_in)
    if isinstance(logits, (list, tuple)) or tuple(logits.shape[1:]) != (num_classes,):
        raise ValueError(
            f"The classifier must return one tensor of shape (batch, {num_classes}); it "
            f"returned {[tuple(t.shape) for t in logits] if isinstance(logits, (list, tuple)) else tuple(logits.shape)}."
        )
    _reject_softmax(classifier)
    outputs = _symbolic_outputs(encoder, "encoder", [x_in, y_in])
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 2:
        raise ValueError("The encoder must return two tensors [z_mean, z_log_var].")
    latent_dim = outputs[0].shape[-1]
    decoded = _symbolic_outputs(decoder, "decoder", [keras.Input((latent_dim,)), y_in])
    if isinstance(decoded, (list, tuple)) or tuple(decoded.shape[1:]) != input_shape:
        raise ValueError(
            f"The decoder must return one tensor of shape (batch,) + {input_shape}."
        )
    model = SemiSupervisedVAE(classifier, encoder, decoder, num_classes, sampling_layer,
                              alpha=alpha, beta=beta, likelihood=likelihood,
                              input_shape=input_shape, name="ssvae")
    model.compile(optimizer=optimizer)
    return model


class SemiSupervisedBatches(keras.utils.PyDataset):
    """Batches with a fixed number of labelled images each, binarised afresh every epoch.

    One epoch passes once over the unlabelled images in a shuffled order;
    every batch adds ``labelled_per_batch`` labelled images, cycling through
    them in shuffled order (so a hundred labels are seen many times per
    epoch). With ``binarize=True`` every pixel is drawn as 1 with
    probability equal to its grey level, seeded by ``(seed, epoch, batch)``
    (the course's protocol, as :class:`vae_keras.DynamicBinarization`).

    Args:
        x_labelled: Grey-level images ``(n_l, ...)`` in [0, 1].
        y_labelled: Int labels ``(n_l,)`` in ``[0, num_classes)``.
        x_unlabelled: Grey-level images ``(n_u, ...)``.
        batch_size: Positive int, images per batch (labelled included).
        labelled_per_batch: Positive int below ``batch_size``.
        binarize: Whether to binarise (True) or pass grey levels.
        seed: Int seed of the order and the binarisation.
        **kwargs: ``keras.utils.PyDataset`` arguments.

    Returns (``ds[i]``):
        ``((x, labels),)`` with ``labels`` -1 for the unlabelled images.

    Example:

    >>> batches = SemiSupervisedBatches(x_lab, y_lab, x_train, batch_size=128)   # doctest: +SKIP
    """

    def __init__(self, x_labelled, y_labelled, x_unlabelled, batch_size=128,
                 labelled_per_batch=16, binarize=True, seed=TRAIN_SEED, **kwargs):
        super().__init__(**kwargs)
        self.x_labelled = check_data(x_labelled, "x_labelled", "continuous_bernoulli").astype("float32")
        self.y_labelled = _check_labels(y_labelled, None, allow_unlabelled=False)
        self.x_unlabelled = check_data(x_unlabelled, "x_unlabelled",
                                       "continuous_bernoulli").astype("float32")
        if len(self.y_labelled) != len(self.x_labelled):
            raise ValueError(
                f"`y_labelled` must have one label per labelled image: {len(self.x_labelled)} "
                f"images, received {len(self.y_labelled)} labels."
            )
        if self.x_labelled.shape[1:] != self.x_unlabelled.shape[1:]:
            raise ValueError(
                "Labelled and unlabelled images must have the same shape; received "
                f"{self.x_labelled.shape[1:]} and {self.x_unlabelled.shape[1:]}."
            )
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.labelled_per_batch = _check_positive_int(labelled_per_batch, "labelled_per_batch")
        if self.labelled_per_batch >= self.batch_size:
            raise ValueError(
                f"`labelled_per_batch` must be below batch_size = {self.batch_size}; "
                f"received {labelled_per_batch!r}."
            )
        if not isinstance(binarize, bool):
            raise ValueError(f"`binarize` must be True or False; received {binarize!r}.")
        self.binarize = binarize
        self.seed = 0 if _check_seed(seed) is None else int(seed)
        self.epoch = 0

    @property
    def unlabelled_per_batch(self):
        return self.batch_size - self.labelled_per_batch

    def __len__(self):
        return math.ceil(len(self.x_unlabelled) / self.unlabelled_per_batch)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range [0, {len(self)}).")
        order = np.random.default_rng([self.seed, self.epoch, 1]).permutation(len(self.x_unlabelled))
        rows = order[index * self.unlabelled_per_batch:(index + 1) * self.unlabelled_per_batch]
        n_l = len(self.x_labelled)
        # Labelled images cycle through a fresh permutation per pass.
        positions = np.arange(index * self.labelled_per_batch, (index + 1) * self.labelled_per_batch)
        passes, offsets = np.divmod(positions, n_l)
        labelled_rows = np.array([
            np.random.default_rng([self.seed, self.epoch, 2, int(p)]).permutation(n_l)[o]
            for p, o in zip(passes, offsets)])
        grey = np.concatenate([self.x_labelled[labelled_rows], self.x_unlabelled[rows]])
        labels = np.concatenate([self.y_labelled[labelled_rows],
                                 np.full(len(rows), -1)]).astype("float32")
        if self.binarize:
            rng = np.random.default_rng([self.seed, self.epoch, 0, index])
            grey = (rng.random(grey.shape) < grey).astype("float32")
        return ((grey, labels),)

    def on_epoch_end(self):
        self.epoch += 1


class _ArrayBatches(keras.utils.PyDataset):
    """``fit([x, labels])`` on arrays: batches ``((x, labels),)``, shuffled each epoch."""

    def __init__(self, inputs, batch_size, shuffle):
        super().__init__()
        self.x = np.asarray(inputs[0], dtype="float32")
        self.labels = np.asarray(inputs[1], dtype="float32")
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.epoch = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        order = (np.random.default_rng([TRAIN_SEED, self.epoch]).permutation(len(self.x))
                 if self.shuffle else np.arange(len(self.x)))
        rows = order[index * self.batch_size:(index + 1) * self.batch_size]
        return ((self.x[rows], self.labels[rows]),)

    def on_epoch_end(self):
        self.epoch += 1


# --- checks --------------------------------------------------------------------


def _split(inputs):
    if isinstance(inputs, (list, tuple)):
        if len(inputs) != 2:
            raise ValueError(
                f"A SemiSupervisedVAE takes x or [x, labels]; received a list of length {len(inputs)}."
            )
        return inputs[0], inputs[1]
    return inputs, None


def _check_num_classes(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2; received {num_classes!r}.")
    return int(num_classes)


def _check_ssl_likelihood(likelihood):
    _check_likelihood(likelihood)
    if likelihood not in ("bernoulli", "gaussian"):
        raise ValueError(
            "`likelihood` must be 'bernoulli' or 'gaussian' for a SemiSupervisedVAE; "
            f"received {likelihood!r}."
        )
    return likelihood


def _check_labels(labels, num_classes, allow_unlabelled):
    array = np.asarray(labels)
    if array.ndim != 1 or not (np.issubdtype(array.dtype, np.integer)
                               or (np.issubdtype(array.dtype, np.floating)
                                   and np.all(np.isfinite(array)) and np.all(array == np.round(array)))):
        raise ValueError(
            "`labels` must be a 1-D array of integer class indices"
            f"{' (-1: unlabelled)' if allow_unlabelled else ''}; received dtype "
            f"{array.dtype} and shape {array.shape}."
        )
    array = array.astype(np.int64)
    low = -1 if allow_unlabelled else 0
    high = np.inf if num_classes is None else num_classes - 1
    bad = array[(array < low) | (array > high)]
    if bad.size:
        raise ValueError(
            f"`labels` must lie in [{low}, {high if num_classes is not None else 'K - 1'}]; "
            f"received {bad.size} other value(s), e.g. {int(bad[0])}."
        )
    return array


def _reject_softmax(classifier):
    outputs = getattr(classifier, "outputs", None)
    if not outputs:
        return
    layer = getattr(getattr(outputs[0], "_keras_history", None), "operation", None)
    activation = getattr(layer, "activation", None)
    if getattr(activation, "__name__", None) == "softmax":
        raise ValueError(
            "The classifier must output logits (q(y | x) is their softmax, taken by the "
            f"model); its last layer {layer.name!r} applies a softmax. Remove it."
        )
