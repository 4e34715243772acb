"""The shared machinery of the exercise checks: one small helper per job.

A check prints one line per exercise, ``"<name>: correct."``,
``"<name>: not yet: <hint>."`` or ``"<name>: not answered yet."``, and
returns a bool. Helpers:

- :func:`report`: the whole verdict on a numeric answer (None, shape, value,
  known mistakes);
- :func:`compare`: why an answer differs from the expected value, or None;
- :func:`shape_mismatch`: why an answer's shape is not the expected one, or None;
- :func:`diagnose`: which known mistake an answer matches, if any;
- :func:`verdict` and :func:`not_answered`: print the line, return the bool;
- :func:`to_array`: numbers, lists and backend tensors as float64 arrays;
- :func:`describe_shape`: "a single number" or "an array of shape (3,)";
- :func:`call_student`: call a student's function or class, reporting a crash;
- :func:`gaussian_expectation`: E[f(z)] for a Gaussian z, by quadrature;
- :func:`value_and_gradients`: gradients on whatever Keras backend runs.
"""

import numbers

import numpy as np


def not_answered(name):
    """Prints that an exercise has no answer yet and returns False.

    Args:
        name: The exercise's label, e.g. ``"Exercise 1"``.

    Returns:
        False.

    Example:

    >>> not_answered("Exercise 1")
    Exercise 1: not answered yet.
    False
    """
    print(f"{name}: not answered yet.")
    return False


def verdict(name, ok, hint=""):
    """Prints "correct" or "not yet: <hint>" for one exercise and returns ``ok``.

    Args:
        name: The exercise's label.
        ok: Whether the answer is right.
        hint: What to look at when it is not (one clause, no final period).

    Returns:
        ``bool(ok)``.

    Example:

    >>> verdict("Exercise 2", False, "sum over the pixels")
    Exercise 2: not yet: sum over the pixels.
    False
    """
    ok = bool(ok)
    print(f"{name}: {'correct' if ok else 'not yet: ' + (hint or 'compare with the text above')}.")
    return ok


def describe_shape(shape):
    """Names a shape for a message: ``()`` is "a single number".

    Args:
        shape: A tuple of ints.

    Returns:
        A short English phrase.

    Example:

    >>> describe_shape(())
    'a single number'
    >>> describe_shape((3,))
    'an array of shape (3,)'
    """
    shape = tuple(shape)
    return "a single number" if shape == () else f"an array of shape {shape}"


def to_array(value):
    """Converts an answer (number, list, NumPy array or backend tensor) to float64.

    Args:
        value: The answer.

    Returns:
        A float64 ``np.ndarray`` (0-d for a number).

    Raises:
        TypeError or ValueError: When the value is not numeric (a string, a
            ragged list, a function...).

    Example:

    >>> to_array([1, 2]).dtype
    dtype('float64')
    """
    if isinstance(value, (str, bytes)) or callable(value):
        raise TypeError(f"expected numbers, received {type(value).__name__}")
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        try:  # a TensorFlow, JAX or torch tensor
            import keras

            value = keras.ops.convert_to_numpy(value)
        except Exception:  # not a tensor: let NumPy decide below
            pass
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":  # text, objects (e.g. None inside a list), complex numbers
        raise TypeError(f"expected numbers, received {array.dtype}")
    return array.astype("float64")


def shape_mismatch(answer, shape):
    """Says how an answer's shape differs from ``shape``, or returns None.

    Args:
        answer: The student's value (anything :func:`to_array` accepts).
        shape: The expected shape, ``()`` for a single number.

    Returns:
        None when the shapes agree, else a message naming both shapes.

    Example:

    >>> shape_mismatch([[1.0, 2.0]], (2,))
    'expected an array of shape (2,), received an array of shape (1, 2)'
    """
    shape = tuple(shape)
    try:
        answer = to_array(answer)
    except (TypeError, ValueError):
        return f"expected {describe_shape(shape)}, received {type(answer).__name__}"
    if answer.shape != shape:
        return f"expected {describe_shape(shape)}, received {describe_shape(answer.shape)}"
    return None


def compare(answer, expected, rtol=1e-3, atol=1e-6):
    """Says why ``answer`` is not ``expected``, or returns None when it is.

    Shapes must match exactly: a number is not accepted for an array (NumPy
    would broadcast it), nor an array of one element for a number.

    Args:
        answer: The student's value (anything :func:`to_array` accepts).
        expected: The right value (number or array).
        rtol: Relative tolerance.
        atol: Absolute tolerance.

    Returns:
        None when the answer is right; otherwise a reason such as
        ``"expected a single number, received an array of shape (1,)"``
        or ``"the value differs"``.

    Example:

    >>> compare([0.5, 0.5], 0.5)
    'expected a single number, received an array of shape (2,)'
    >>> compare(0.5004, 0.5) is None
    True
    """
    expected = np.asarray(expected, dtype="float64")
    reason = shape_mismatch(answer, expected.shape)
    if reason is not None:
        return reason
    answer = to_array(answer)
    if not np.all(np.isfinite(answer)):
        return "the answer holds inf or nan"
    if not np.allclose(answer, expected, rtol=rtol, atol=atol):
        return "the value differs"
    return None


def diagnose(answer, mistakes, rtol=1e-3, atol=1e-6):
    """Names the known mistake an answer matches, if any.

    Args:
        answer: The student's value.
        mistakes: Pairs ``(wrong_value, hint)``: the value a typical mistake
            gives and what to say about it.
        rtol: Relative tolerance, as for the right answer.
        atol: Absolute tolerance.

    Returns:
        The hint of the first matching mistake, or None.

    Example:

    >>> diagnose(784.0, [(784.0, "that is in bits: use natural logarithms")])
    'that is in bits: use natural logarithms'
    """
    for wrong_value, hint in mistakes:
        if compare(answer, wrong_value, rtol=rtol, atol=atol) is None:
            return hint
    return None


def report(name, answer, expected, rtol=1e-3, atol=1e-6, hint="", mistakes=()):
    """Prints a verdict for one numeric exercise and returns True when it is right.

    ``answer is None`` means "not answered yet": prints a reminder and
    returns False without raising, so an unanswered notebook still runs.
    An answer of the wrong shape is refused with the expected shape; an
    answer equal to a known mistake gets that mistake's hint.

    Args:
        name: The exercise's label.
        answer: The student's answer, or None.
        expected: The right value, computed by the check.
        rtol: Relative tolerance.
        atol: Absolute tolerance.
        hint: General hint for a wrong answer.
        mistakes: Pairs ``(wrong_value, specific_hint)`` (see :func:`diagnose`).

    Returns:
        True when the answer matches ``expected``.

    Example:

    >>> report("Exercise 1", 0.6931, np.log(2.0))
    Exercise 1: correct.
    True
    >>> report("Exercise 1", [0.6931], np.log(2.0))
    Exercise 1: not yet: expected a single number, received an array of shape (1,).
    False
    """
    if answer is None:
        return not_answered(name)
    reason = compare(answer, expected, rtol=rtol, atol=atol)
    if reason is None:
        return verdict(name, True)
    if reason == "the value differs":
        return verdict(name, False, diagnose(answer, mistakes, rtol=rtol, atol=atol) or hint)
    return verdict(name, False, reason)


def call_student(name, function, *args, **kwargs):
    """Calls a student's function (or class), turning a crash into a message.

    Args:
        name: The exercise's label, for the message.
        function: What the student passed.
        *args: Positional arguments of the call.
        **kwargs: Keyword arguments of the call.

    Returns:
        ``(True, result)`` when the call returned something other than None;
        ``(False, None)`` after printing why not.

    Example:

    >>> call_student("Exercise 5", lambda x: x + 1, 1)
    (True, 2)
    >>> call_student("Exercise 5", lambda x: None, 1)
    Exercise 5: not yet: your function returned None (a missing `return`?).
    (False, None)
    """
    if not callable(function):
        print(f"{name}: not yet: pass the function itself (no parentheses), "
              f"received {type(function).__name__}.")
        return False, None
    try:
        result = function(*args, **kwargs)
    except Exception as error:  # a student's bug: report it, do not crash the notebook
        print(f"{name}: not yet: calling it raised {type(error).__name__}: {error}.")
        return False, None
    if result is None:
        print(f"{name}: not yet: your function returned None (a missing `return`?).")
        return False, None
    return True, result


def gaussian_expectation(function, mean, std, degree=40):
    """E[function(z)] for z ~ N(mean, std^2), by Gauss-Hermite quadrature.

    Exact (to rounding) for polynomials of degree below ``2 * degree``, so
    for every Gaussian log-density ratio; accurate for smooth functions.

    Args:
        function: Vectorised callable of z.
        mean: Mean (number, or array broadcasting against the nodes' axis 0).
        std: Standard deviation, same convention.
        degree: Number of quadrature nodes.

    Returns:
        The expectation (float, or array for array ``mean``/``std``).

    Example:

    >>> round(gaussian_expectation(lambda z: z**2, 1.0, 2.0), 6)   # mu^2 + sigma^2
    5.0
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(degree)
    shape = (-1,) + (1,) * np.ndim(mean)
    z = np.asarray(mean, "float64") + np.asarray(std, "float64") * nodes.reshape(shape)
    values = np.sum(weights.reshape(shape) * function(z), axis=0) / np.sqrt(2.0 * np.pi)
    return float(values) if np.ndim(values) == 0 else values


def value_and_gradients(function, *arrays):
    """Gradients of ``function(*tensors) -> (scalar, aux)`` on the current Keras backend.

    Uses ``tf.GradientTape`` (TensorFlow), ``jax.value_and_grad`` (JAX) or
    ``torch.autograd.grad`` (torch), so a check works on any of them.

    Args:
        function: Callable of one tensor per array, returning a pair
            ``(scalar_to_differentiate, aux)``.
        *arrays: float32 NumPy arrays, the points of differentiation.

    Returns:
        ``(aux, gradients)``: ``aux`` as NumPy, and one NumPy array per input
        (None where TensorFlow or torch find no path from that input).

    Raises:
        NotImplementedError: On a backend without gradients (``"numpy"``).

    Example:

    >>> _, (grad,) = value_and_gradients(lambda x: (keras.ops.sum(x**2), x),
    ...                                  np.array([1.0, 2.0], "float32"))  # doctest: +SKIP
    >>> grad  # doctest: +SKIP
    array([2., 4.], dtype=float32)
    """
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(a) for a in arrays]
        with tf.GradientTape() as tape:
            scalar, aux = function(*variables)
        grads = tape.gradient(scalar, variables)
    elif backend == "jax":
        import jax

        (_, aux), grads = jax.value_and_grad(function, argnums=tuple(range(len(arrays))),
                                             has_aux=True)(*[jax.numpy.asarray(a) for a in arrays])
    elif backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        scalar, aux = function(*tensors)
        grads = torch.autograd.grad(scalar, tensors, allow_unused=True)
        aux = aux.detach()
    else:
        raise NotImplementedError(f"no gradients on the {backend!r} backend")
    to_numpy = keras.ops.convert_to_numpy
    return to_numpy(aux), [None if g is None else to_numpy(g) for g in grads]
