"""The shared reporting of the exercise checks."""

import numpy as np


def report(name, answer, expected, rtol=1e-3, atol=1e-6, hint=""):
    """Prints a verdict for one exercise and returns True when it is right.

    ``answer is None`` means "not answered yet": prints a reminder and
    returns False without raising, so an unanswered notebook still runs.
    """
    if answer is None:
        print(f"{name}: not answered yet.")
        return False
    try:
        ok = bool(np.allclose(np.asarray(answer, dtype="float64"),
                              np.asarray(expected, dtype="float64"),
                              rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        ok = False
    print(f"{name}: {'correct' if ok else 'not yet: ' + (hint or 'compare with the text above')}.")
    return ok
