"""Worked solutions of the notebooks' exercises: one module per notebook.

For instructors: this folder is outside the installed package (the wheel
holds the checks in ``vae_keras.exercises``, not these answers). Import it
from the repository root (``tests/conftest.py`` puts the root on the path).

Each function is named after the check it answers (``nb04.kl`` answers
``vae_keras.exercises.nb04.check_kl``), takes no argument and returns what
the notebook's cell passes to the check: a number, an array, or, for a
coding exercise, the function or layer class the student writes. Every
number is computed, never typed in; the checks compute their expected
values by independent routes, so ``tests/test_exercises.py`` (which feeds
each solution to its check) can fail.

Example:

>>> from vae_keras.exercises import nb02
>>> from solutions import nb02 as solutions
>>> nb02.check_kl_to_prior(solutions.kl_to_prior())
Exercise 1 (KL to the prior): correct.
True
"""
