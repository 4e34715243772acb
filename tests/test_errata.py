"""The errata page's checks run and print the numbers the page quotes.

Every ```python block in notebooks/ERRATA.md is executed; each number with
three or more decimals in its comments (the outputs the page promises) must
appear in what the block prints.
"""

import contextlib
import io
import re
import textwrap
from pathlib import Path

import keras
import pytest

ERRATA = Path(__file__).resolve().parents[1] / "notebooks" / "ERRATA.md"
BLOCKS = [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", ERRATA.read_text(encoding="utf-8"), re.S)]
PROMISED = re.compile(r"-?\d+\.\d{3,}")


def _comments(code):
    return " ".join(line.split("#", 1)[1] for line in code.splitlines() if "#" in line)


def test_the_page_has_checks():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_check_prints_what_the_page_says(index):
    code = BLOCKS[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"ERRATA check {index}", "exec"), {})
    printed = out.getvalue()
    promised = PROMISED.findall(_comments(code))
    assert promised, "a check must say in its comments what it prints"
    missing = [number for number in promised if number not in printed]
    assert not missing, f"promised {missing}, printed:\n{printed}"
    if keras.backend.backend() == "tensorflow" and "None" in _comments(code):
        assert "None" in printed
