"""Answer checks for the notebooks' exercises: one module per notebook.

Each ``check_*`` function compares a student's answer with a value the
package computes itself, prints whether it is right, and returns a bool.
A check given ``None`` says the exercise is not answered yet, so notebooks
run top to bottom before a student answers.
"""

from vae_keras.exercises._check import report  # noqa: F401
