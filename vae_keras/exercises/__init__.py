"""Answer checks for the notebooks' exercises: one module per notebook.

Each ``check_*`` function compares a student's answer with a value the
check computes itself, prints whether it is right (with a hint naming a
typical mistake when it recognises one), and returns a bool. A check given
``None`` says the exercise is not answered yet, so notebooks run top to
bottom before a student answers. An answer must have the expected shape: a
number where one number is asked, an array of the stated shape otherwise.
Coding exercises take the student's function or layer class and run it on
inputs chosen so that the typical mistakes give different results.

Worked solutions, one function per exercise, are for instructors: they
live in the repository's ``solutions/`` folder, outside the installed
package (the wheel does not ship them).
"""

from vae_keras.exercises._check import report  # noqa: F401
