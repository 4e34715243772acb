"""The wheel holds the course's code, not its answer key.

A wheel is built offline (no index, no build isolation) from a copy of the
whole repository, as ``pip install .`` would build it, and its file list is
read: the package and its exercise checks are in it; the worked solutions
(``solutions/``), the assignment's source (with its solutions and hidden
tests), the notebooks and the tests are not.
"""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(".git", ".venv*", "runs", "build", "*.egg-info", "__pycache__",
                                 ".ipynb_checkpoints", ".pytest_cache")


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=IGNORED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "--no-build-isolation", "-w", str(tmp / "wheels"), str(src)],
                           capture_output=True, text=True, env=env, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "wheels").glob("vae_keras-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_holds_the_package_and_its_exercise_checks(wheel_files):
    for name in ("vae_keras/__init__.py", "vae_keras/models.py", "vae_keras/stats.py",
                 "vae_keras/exercises/nb04.py"):
        assert name in wheel_files


def test_the_wheel_holds_no_worked_solution(wheel_files):
    assert (ROOT / "solutions" / "nb04.py").is_file()  # they exist, in the repository
    leaked = [name for name in wheel_files if "solution" in name.lower()
              or name.split("/")[0] in ("solutions", "assignments", "notebooks", "tests", "tools")]
    assert leaked == []
