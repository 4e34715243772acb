"""Callbacks that change a VAE's ``beta`` during ``fit``.

``model.beta`` is a non-trainable Keras variable (see
:class:`vae_keras.models.VariationalAutoencoder`), read by the compiled
training step at every batch, so assigning it from a callback takes effect
at once, on every backend.
"""

import keras
import numpy as np

from vae_keras.models import _check_non_negative_number, _check_positive_int


class KLWarmup(keras.callbacks.Callback):
    """Raises ``beta`` linearly from ``start_beta`` to ``target_beta`` (KL warm-up).

    The standard remedy for posterior collapse (Bowman et al., 2016; Sønderby
    et al., 2016): early in training the KL term is weighted less, so the
    decoder learns to use ``z`` before the KL pulls ``q(z | x)`` onto the
    prior. Per epoch: ``beta = start + (target - start) * min(1, epoch / epochs)``,
    so epoch 0 trains with ``start_beta`` and epoch ``epochs`` onwards with
    ``target_beta``. Per step the same with the optimizer step count.

    At the end of every epoch ``logs["beta"]`` holds the ``beta`` of the
    epoch's last step, so ``history.history["beta"]`` records the schedule.

    Args:
        target_beta: Number >= 0, the final ``beta``.
        epochs: Positive int: warm up over this many epochs. Give exactly one
            of ``epochs`` and ``steps``.
        steps: Positive int: warm up over this many optimizer steps (batches).
            On JAX, each assignment first syncs the training state into the
            model's variables, which costs a little time per step. With
            ``steps_per_execution = N`` (16 for a vae_keras model, see
            ``VariationalAutoencoder.compile``) beta changes once every N
            batches, to its value at the first of them.
        start_beta: Number >= 0, the ``beta`` at the start (default 0).

    Example:

    >>> warmup = KLWarmup(target_beta=1.0, epochs=10)        # doctest: +SKIP
    >>> history = vae.fit(x, epochs=30, callbacks=[warmup])  # doctest: +SKIP
    >>> history.history["beta"][:3]                          # doctest: +SKIP
    [0.0, 0.1, 0.2]
    """

    def __init__(self, target_beta=1.0, epochs=None, steps=None, start_beta=0.0):
        super().__init__()
        if (epochs is None) == (steps is None):
            raise ValueError(
                "Give exactly one of `epochs` and `steps`; received "
                f"epochs={epochs!r}, steps={steps!r}."
            )
        self.target_beta = _check_non_negative_number(target_beta, "target_beta")
        self.start_beta = _check_non_negative_number(start_beta, "start_beta")
        self.epochs = None if epochs is None else _check_positive_int(epochs, "epochs")
        self.steps = None if steps is None else _check_positive_int(steps, "steps")
        self._epoch_start = 0

    def beta_at(self, count):
        """The ``beta`` after ``count`` epochs (or steps) of warm-up."""
        length = self.epochs if self.epochs is not None else self.steps
        fraction = min(1.0, max(0, count) / length)
        return self.start_beta + (self.target_beta - self.start_beta) * fraction

    def _assign(self, value):
        if not hasattr(self.model, "beta"):
            raise ValueError(
                "KLWarmup needs a model with a `beta` variable (vae_keras.VAE or "
                f"CVAE); received {type(self.model).__name__}."
            )
        if keras.backend.backend() == "jax" and hasattr(self.model, "jax_state_sync"):
            # JAX trains on a copy of the state: write it back, so that the new
            # beta is read into the state before the next step.
            self.model.jax_state_sync()
        self.model.beta.assign(value)

    def _iterations(self):
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_epoch_begin(self, epoch, logs=None):
        if self.epochs is not None:
            self._assign(self.beta_at(epoch))
        else:  # the optimizer's step count is in sync at every epoch's start
            self._epoch_start = self._iterations()

    def on_train_batch_begin(self, batch, logs=None):
        # `batch` is the epoch's step index, also when the model runs several
        # steps per compiled call (steps_per_execution > 1): beta then moves
        # once per call, to its value at the call's first step.
        step = self._epoch_start + batch
        if self.steps is not None and step <= self.steps:
            self._assign(self.beta_at(step))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(np.asarray(keras.ops.convert_to_numpy(self.model.beta)))
