"""The course as a product: notebooks agree with pyproject.toml (Colab badges,
set-up blocks, navigation bars), so does the nbgrader assignment's set-up cell,
the set-up block installs the package the way Colab would run it, and every
relative link in the course resolves.

No network: the set-up block is run in a fresh virtual environment against a
wheel built here, with pip told never to use an index.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE_PY = ROOT / "tools" / "course.py"

_spec = importlib.util.spec_from_file_location("vae_keras_course_tool", COURSE_PY)
course = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = course  # dataclasses look their module up there
_spec.loader.exec_module(course)


def run_course(*args, root=None):
    cmd = [sys.executable, str(COURSE_PY), *args] + (["--root", str(root)] if root else [])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def copy_course(dest: Path) -> Path:
    """The parts of the repository that course.py reads, copied to dest."""
    (dest / "notebooks").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy2(nb, dest / "notebooks" / nb.name)
    for nb in course.assignment_notebooks(ROOT):
        target = dest / nb.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb, target)
    return dest


def assignments_of(root):
    found = course.assignment_notebooks(root)
    assert found, f"no assignment under {root / course.ASSIGNMENT_SOURCES}"
    return found


def first_code(path):
    return next(c for c in cells(path) if c["cell_type"] == "code")


def cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


# ------------------------------------------------------------ check and sync

def test_check_passes_on_the_repository():
    result = run_course("check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_on_a_notebook_with_a_wrong_badge(tmp_path):
    root = copy_course(tmp_path / "repo")
    victim = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))[1]
    nb = json.loads(victim.read_text(encoding="utf-8"))
    text = source(nb["cells"][0])
    assert "colab.research.google.com/github/" in text
    nb["cells"][0]["source"] = text.replace("colab.research.google.com/github/", "colab.research.google.com/github/someone-else/")
    victim.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")

    result = run_course("check", root=root)
    assert result.returncode == 1
    assert victim.name in result.stdout
    assert result.stdout.count(".ipynb:") == 1, result.stdout  # only that notebook

    assert run_course("sync", root=root).returncode == 0
    assert run_course("check", root=root).returncode == 0


def test_a_new_address_reaches_every_badge_and_install_source(tmp_path):
    root = copy_course(tmp_path / "repo")
    pyproject = root / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    old_url = config["project"]["urls"]["Repository"]
    text = pyproject.read_text(encoding="utf-8").replace(old_url, "https://github.com/someone/course.git")
    text = text.replace('branch = "main"', 'branch = "spring-2026"')
    pyproject.write_text(text, encoding="utf-8")

    result = run_course("check", root=root)
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assignments = assignments_of(root)
    assert result.returncode == 1
    assert result.stdout.count(".ipynb:") == len(notebooks) + len(assignments), result.stdout
    for nb in assignments:
        assert f"{nb.relative_to(root)}: disagrees" in result.stdout
    assert run_course("sync", root=root).returncode == 0
    for nb in notebooks:
        cs = cells(nb)
        assert (f"(https://colab.research.google.com/github/someone/course/blob/spring-2026/notebooks/{nb.name})"
                in source(cs[0]))
        code = source(first_code(nb))
        assert '"git+https://github.com/someone/course@spring-2026"' in code
        assert old_url not in source(cs[0]) + code
    for nb in assignments:
        code = source(first_code(nb))
        assert '"git+https://github.com/someone/course@spring-2026"' in code and old_url not in code
    assert run_course("check", root=root).returncode == 0


def test_committed_notebooks_follow_the_standard_opening_and_closing():
    entries = course.course_notebooks(ROOT)
    assert [e.path.name for e in entries] == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    bars = []
    for i, entry in enumerate(entries):
        cs = cells(entry.path)
        lines = source(cs[0]).split("\n")
        assert lines[0] == f"# {entry.number} · {entry.title}"
        nav = [line for line in lines if line.startswith(("[← ", "[Contents]"))]
        assert len(nav) == 1
        assert cs[-1]["cell_type"] == "markdown" and source(cs[-1]) == nav[0]
        assert ("[← " in nav[0]) == (i > 0)
        assert (" →](" in nav[0]) == (i < len(entries) - 1)  # the last existing notebook has no next
        bars.append(nav[0])
        first_code = source(next(c for c in cs if c["cell_type"] == "code"))
        assert first_code.startswith(course.SETUP_START)
        assert first_code.count("google.colab") == 1
    assert all(" | [Contents](../README.md#the-notebooks)" in b or b.startswith("[Contents]") for b in bars)


def test_committed_assignment_opens_with_the_setup_block():
    for path in assignments_of(ROOT):
        cs = cells(path)
        code_cells = [c for c in cs if c["cell_type"] == "code"]
        setup = code_cells[0]
        text = source(setup)
        assert text.startswith(course.SETUP_START), path
        assert text.count("google.colab") == 1 and "check=True" not in text
        assert setup["metadata"]["nbgrader"]["locked"] and not setup["metadata"]["nbgrader"]["solution"]
        # The assignment has no badge or navigation bar: students get it from the instructor.
        markdown = "\n".join(source(c) for c in cs if c["cell_type"] == "markdown")
        assert "colab-badge.svg" not in markdown and "[Contents](" not in markdown
        assert all(course.SETUP_START not in source(c) for c in code_cells[1:])


def test_check_and_sync_of_a_stale_assignment_touch_only_its_setup_block(tmp_path):
    root = copy_course(tmp_path / "repo")
    victim = assignments_of(root)[0]
    before = json.loads(victim.read_text(encoding="utf-8"))
    stale = json.loads(json.dumps(before))
    code = next(i for i, c in enumerate(stale["cells"]) if c["cell_type"] == "code")
    text = source(stale["cells"][code])
    install = course.setup_block(course.read_config(root)).split('or "')[1].split('"')[0]
    assert text.count(install) == 1
    stale["cells"][code]["source"] = text.replace(install, "git+https://github.com/placeholder/old")
    victim.write_text(course.dump(stale), encoding="utf-8")
    notebooks = {p: p.read_bytes() for p in (root / "notebooks").glob("*.ipynb")}

    result = run_course("check", root=root)
    assert result.returncode == 1
    assert result.stdout.count(".ipynb:") == 1, result.stdout
    assert f"{victim.relative_to(root)}: disagrees" in result.stdout and "the set-up block" in result.stdout

    assert run_course("sync", root=root).returncode == 0
    assert json.loads(victim.read_text(encoding="utf-8")) == before  # metadata, outputs, other cells: as they were
    assert {p: p.read_bytes() for p in notebooks} == notebooks
    assert run_course("check", root=root).returncode == 0


LEGACY_ASSIGNMENT_SETUP = '''import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "google.colab" in sys.modules:  # Colab: install the course package first
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+https://github.com/vae-keras/vae_keras"], check=True)

import keras
from vae_keras import VAE

keras.utils.set_random_seed(0)


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)'''


def test_sync_migrates_an_old_assignment_setup_cell(tmp_path):
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/o/r"\n'
        '[tool.vae_keras]\nbranch = "b"\n', encoding="utf-8")
    (root / "notebooks" / "00_intro.ipynb").write_text(json.dumps(_legacy_notebook("# 00 · Intro", "x = 1", "end")),
                                                       encoding="utf-8")
    meta = {"nbgrader": {"grade": False, "grade_id": "setup", "locked": True, "schema_version": 3,
                         "solution": False, "task": False}}
    assignment = {
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Assignment"},
            {"cell_type": "code", "id": "setup", "metadata": meta, "execution_count": None, "outputs": [],
             "source": LEGACY_ASSIGNMENT_SETUP},
            {"cell_type": "code", "id": "task", "metadata": {}, "execution_count": None, "outputs": [],
             "source": "import os\nprint(os.getcwd())"},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }
    path = root / "assignments" / "source" / "hw1" / "hw1.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(assignment), encoding="utf-8")

    assert run_course("sync", root=root).returncode == 0
    assert run_course("check", root=root).returncode == 0
    synced = json.loads(path.read_text(encoding="utf-8"))
    assert len(synced["cells"]) == 3 and source(synced["cells"][0]) == "# Assignment"
    setup = synced["cells"][1]
    assert setup["metadata"] == meta and setup["id"] == "setup"
    assert source(setup) == (course.setup_block(course.read_config(root)) + "\n\nimport contextlib\nimport keras\n"
                             "from vae_keras import VAE\n\nkeras.utils.set_random_seed(0)\n\n\n"
                             "def to_numpy(x):\n    return keras.ops.convert_to_numpy(x)")
    assert "check=True" not in source(setup) and '"git+https://github.com/o/r@b"' in source(setup)
    assert source(synced["cells"][2]) == "import os\nprint(os.getcwd())"  # not the first code cell: untouched


def _legacy_notebook(title, code, last):
    return {
        "cells": [
            {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": title},
            {"cell_type": "code", "id": "a2", "metadata": {}, "execution_count": 1,
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["hi\n"]}], "source": code},
            {"cell_type": "markdown", "id": "a3", "metadata": {}, "source": last},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }


LEGACY_CODE = '''import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if "google.colab" in sys.modules:  # Colab: install the course package first
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+https://github.com/vae-keras/vae_keras"], check=True)

import numpy as np
print("hi")'''


def test_sync_migrates_old_openings_and_endings(tmp_path):
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/o/r"\n'
        '[tool.vae_keras]\nbranch = "b"\n', encoding="utf-8")
    (root / "README.md").write_text("# x\n\n## The notebooks\n", encoding="utf-8")
    first = root / "notebooks" / "00_intro.ipynb"
    second = root / "notebooks" / "01_more.ipynb"
    first.write_text(json.dumps(_legacy_notebook(
        "# Intro\n\nOne line.\n\n[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/old/old/blob/main/notebooks/00_intro.ipynb)\n\n**Learning goals**\n\n- a",
        LEGACY_CODE, "[Next: 01 More](01_more.ipynb)")), encoding="utf-8")
    second.write_text(json.dumps(_legacy_notebook(
        "# 01 · More: details\n\nAnother line.\n\n[Previous: 00 Intro](00_intro.ipynb)\n\nGoals.",
        "x = 1", "## Summary\n\nWhat we did.\n\n**Next:** [02 · Gone](02_gone.ipynb) — soon.")), encoding="utf-8")

    assert run_course("check", root=root).returncode == 1
    result = run_course("sync", root=root)
    assert result.returncode == 0, result.stderr
    assert run_course("check", root=root).returncode == 0
    assert run_course("sync", root=root).stdout.strip().endswith("0 notebook(s) rewritten")

    a, b = cells(first), cells(second)
    assert source(a[0]) == (
        "# 00 · Intro\n\nOne line.\n\n"
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/o/r/blob/b/notebooks/00_intro.ipynb)\n\n"
        "[Contents](../README.md#the-notebooks) | [01 · More →](01_more.ipynb)\n\n**Learning goals**\n\n- a")
    assert source(a[-1]) == "[Contents](../README.md#the-notebooks) | [01 · More →](01_more.ipynb)"
    assert len(a) == 3 and a[1]["outputs"] and a[1]["execution_count"] == 1
    code = source(a[1])
    assert code.startswith(course.SETUP_START) and code.endswith('\n\nimport numpy as np\nprint("hi")')
    assert "check=True" not in code and '"git+https://github.com/o/r@b"' in code

    nav_b = "[← 00 · Intro](00_intro.ipynb) | [Contents](../README.md#the-notebooks)"
    assert source(b[0]).startswith("# 01 · More: details\n\nAnother line.\n\n[![Open In Colab]")
    assert "Previous" not in source(b[0]) and source(b[0]).endswith(nav_b + "\n\nGoals.")
    assert source(b[1]).endswith("\n\nx = 1")
    assert source(b[-2]) == "## Summary\n\nWhat we did."  # its own text kept, old next-link gone
    assert source(b[-1]) == nav_b and b[-1]["id"] == "course-nav"


# ------------------------------------------------------------ the set-up block, run as Colab would

def setup_block_of_notebooks():
    """The set-up block, the same in every notebook and assignment (so the
    tests below cover the assignment's too)."""
    blocks = set()
    paths = [entry.path for entry in course.course_notebooks(ROOT)] + assignments_of(ROOT)
    for path in paths:
        code = source(first_code(path))
        blocks.add(code[:code.index(course.SETUP_END) + len(course.SETUP_END)])
    assert len(blocks) == 1, "notebooks hold different set-up blocks: python tools/course.py sync"
    return blocks.pop()


FAKE_COLAB = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
REPORT = '''
import importlib.metadata, os
try:
    print("installed:", importlib.metadata.version("vae_keras"))
except importlib.metadata.PackageNotFoundError:
    print("installed: no")
print("TF_CPP_MIN_LOG_LEVEL:", os.environ.get("TF_CPP_MIN_LOG_LEVEL"))
'''


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A fresh virtual environment without vae_keras (nor keras), a wheel of
    the package, and a function running the notebooks' set-up block there."""
    tmp = tmp_path_factory.mktemp("colab")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "TF_CPP_MIN_LOG_LEVEL", "VAE_KERAS_SOURCE")
           and not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_NO_DEPS="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONNOUSERSITE="1", PIP_NO_INPUT="1")

    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "vae_keras", src / "vae_keras", ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp / "wheels"), str(src)], capture_output=True, text=True, env=env,
                           timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "wheels").glob("vae_keras-*.whl"))

    made = subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    python = tmp / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    block = setup_block_of_notebooks()

    def run(source=None, in_colab=True):
        script = tmp / "cell.py"
        script.write_text((FAKE_COLAB if in_colab else "") + block + "\n" + REPORT, encoding="utf-8")
        run_env = dict(env)
        if source is not None:
            run_env["VAE_KERAS_SOURCE"] = str(source)
        return subprocess.run([str(python), str(script)], capture_output=True, text=True, env=run_env,
                              cwd=tmp, timeout=300)

    def uninstall():
        subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "vae_keras"], env=env,
                       capture_output=True, timeout=300)

    return run, wheel, uninstall


def test_setup_block_installs_the_package_in_colab(colab):
    run, wheel, uninstall = colab
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    try:
        result = run(wheel)
        assert result.returncode == 0, result.stderr
        assert "Installing the course package vae_keras from" in result.stdout
        assert f"installed: {version}" in result.stdout
        assert "TF_CPP_MIN_LOG_LEVEL: 3" in result.stdout
        # Once importable, the block installs nothing (a bad source is never tried).
        again = run(wheel.parent / "missing.whl")
        assert again.returncode == 0, again.stderr
        assert "Installing" not in again.stdout and f"installed: {version}" in again.stdout
    finally:
        uninstall()


def test_setup_block_failure_says_what_to_do(colab):
    run, wheel, _ = colab
    result = run(wheel.parent / "no-such-file.whl")
    assert result.returncode != 0
    assert "RuntimeError: Could not install the course package vae_keras" in result.stderr
    assert "no-such-file.whl" in result.stderr and "What to do" in result.stderr
    assert "VAE_KERAS_SOURCE" in result.stderr
    assert "CalledProcessError" not in result.stderr
    assert "installed: no" not in result.stdout


def test_setup_block_outside_colab_installs_nothing(colab):
    run, wheel, _ = colab
    result = run(wheel, in_colab=False)
    assert result.returncode == 0, result.stderr
    assert "Installing" not in result.stdout
    assert "installed: no" in result.stdout
    assert "TF_CPP_MIN_LOG_LEVEL: 3" in result.stdout


# ------------------------------------------------------------ links

def test_every_relative_link_resolves():
    problems = course.broken_links(ROOT)
    assert not problems, "\n".join(problems)
    docs = {p.relative_to(ROOT).as_posix() for p in course.documents(ROOT)}
    assert "README.md" in docs and any(d.startswith("notebooks/") and d.endswith(".ipynb") for d in docs)


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "README.md").write_text(
        "# Course\n\n## The notebooks\n\n## Set up and test\n\n## `code` and *emphasis* — here\n\n"
        "[ok](notebooks/00_a.ipynb) [ok](#set-up-and-test) [ok](#code-and-emphasis--here) "
        "[web](https://example.org/x.md) `[not a link](nothing.md)`\n\n"
        "[gone](notebooks/09_gone.ipynb) [bad](#no-such-heading)\n\n[ref]: docs/missing.md\n",
        encoding="utf-8")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {},
                     "source": "[c](../README.md#the-notebooks) [x](../README.md#the-notebook) ![i](fig.png)"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "00_a.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    problems = course.broken_links(tmp_path)
    text = "\n".join(problems)
    assert len(problems) == 5, text
    for bad in ("09_gone.ipynb", "#no-such-heading", "docs/missing.md", "#the-notebook'", "fig.png"):
        assert bad in text


@pytest.mark.parametrize("heading, anchor", [
    ("The notebooks", "the-notebooks"),
    ("Set up and test", "set-up-and-test"),
    ("Copy the builder into an assignment", "copy-the-builder-into-an-assignment"),
    ("vae_keras — variational autoencoders with Keras 3", "vae_keras--variational-autoencoders-with-keras-3"),
    ("β-VAE: rate & distortion", "β-vae-rate--distortion"),
])
def test_github_anchor_rule(heading, anchor):
    assert course.github_anchor(heading) == anchor
