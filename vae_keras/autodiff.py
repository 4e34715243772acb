"""Backend-neutral gradients, so that the notebooks run on TensorFlow and JAX.

Keras 3 has no public ``keras.ops`` gradient; each backend has its own tool
(``tf.GradientTape``, ``jax.grad``). :func:`value_and_grad` hides the
difference for the small computations the course differentiates by hand.
"""

import keras
import numpy as np


def value_and_grad(function, *args):
    """``function(*args)`` and its gradients with respect to every argument.

    Args:
        function: Callable of tensors returning a scalar tensor, written with
            ``keras.ops`` (so it runs on any backend). It may return a tensor
            that does not depend on an argument; that gradient is zero on
            JAX and None on TensorFlow (which is what "blocked" means there).
        *args: Array-likes; converted to float32 tensors.

    Returns:
        ``(value, grads)``: a Python float and a list of numpy arrays (or
        None, see above), one per argument.

    Example:

    >>> value, (grad,) = value_and_grad(lambda x: keras.ops.sum(x ** 2), np.ones(3))
    >>> value, grad.tolist()
    (3.0, [2.0, 2.0, 2.0])
    """
    tensors = [keras.ops.convert_to_tensor(np.asarray(a, dtype="float32")) for a in args]
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        value, grads = jax.value_and_grad(function, argnums=tuple(range(len(tensors))))(*tensors)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = function(*tensors)
        grads = tape.gradient(value, tensors)
    else:
        raise NotImplementedError(
            f"value_and_grad supports the 'tensorflow' and 'jax' backends; received {backend!r}."
        )
    grads = [None if g is None else np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]
    return float(keras.ops.convert_to_numpy(value)), grads
