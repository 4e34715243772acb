"""The nbgrader assignment in ``assignments/``: release, autograde, typical mistakes.

One throw-away nbgrader course is built in a temporary directory (no network,
no exchange): ``nbgrader generate_assignment`` makes the student version, and
one ``nbgrader autograde`` run grades, as separate "students", an empty
submission, the solution, and one copy of the solution per typical mistake,
each mistake injected into the solution cells by a string replacement. The
tests then read the gradebook: the release holds no solutions or hidden tests,
the solution gets full marks, the empty submission none, and every mistake
loses exactly the points of the tests listed for it in ``MISTAKES``.

nbgrader is an instructor's extra (``pip install -r assignments/requirements.txt``):
without it these tests are skipped, except when the environment variable CI is
set, where they fail. The notebooks run on the Keras backend of this process
(``KERAS_BACKEND``), with MNIST from ``VAE_KERAS_MNIST`` if it is set, else with
synthetic digit-like images in the same format.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "vae_from_scratch"
SOURCE = ROOT / "assignments" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

# The autograded tests and their points, as in the notebook's metadata.
POINTS = {
    "test_sampling_basics": 1,
    "test_sampling_distribution": 2,
    "test_sampling_gradients": 2,
    "test_kl_prior": 1,
    "test_kl_values": 2,
    "test_loss_beta_one": 2,
    "test_loss_beta": 2,
    "test_training": 1,
    "test_agreement": 2,
}
TOTAL = sum(POINTS.values())
SHARDS = 2  # courses graded in parallel (see the fixture `course`)

_SAMPLE = "return z_mean + ops.exp(0.5 * z_log_var) * epsilon"
_KL = "return 0.5 * ops.sum(ops.exp(z_log_var) + ops.square(z_mean) - 1.0 - z_log_var, axis=-1)"

# mistake: (solution cell, text in the solution, replacement, tests that must fail).
# A KL or beta mistake also fails test_agreement: the student's loss then
# disagrees with the model's (Task 4 is that check). The loss tests accept the
# student's own KL, so a KL mistake is not counted there a second time.
MISTAKES = {
    # The lecture's formula: the sign flipped, KL <= 0.
    "kl_wrong_sign": (
        "kl", _KL,
        "return 0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)",
        {"test_kl_values", "test_agreement"}),
    # sigma where sigma^2 belongs.
    "kl_std_for_variance": (
        "kl", "ops.exp(z_log_var)", "ops.exp(0.5 * z_log_var)",
        {"test_kl_values", "test_agreement"}),
    # The encoder output read as log(sigma) instead of log(sigma^2).
    "kl_logvar_as_logstd": (
        "kl", _KL,
        "return 0.5 * ops.sum(ops.exp(2.0 * z_log_var) + ops.square(z_mean) - 1.0"
        " - 2.0 * z_log_var, axis=-1)",
        {"test_kl_values", "test_agreement"}),
    # mu where mu^2 belongs.
    "kl_mu_not_squared": (
        "kl", "ops.square(z_mean)", "z_mean",
        {"test_kl_values", "test_agreement"}),
    # The variance (or exp of a log-std) used as the scale of epsilon.
    "sampling_variance_as_scale": (
        "sampling", _SAMPLE, "return z_mean + ops.exp(z_log_var) * epsilon",
        {"test_sampling_distribution"}),
    # No sampling at all: an autoencoder.
    "sampling_returns_mean": (
        "sampling", _SAMPLE, "return z_mean",
        {"test_sampling_distribution", "test_sampling_gradients"}),
    # The right distribution, but no gradient reaches z_mean or z_log_var.
    "sampling_blocks_gradient": (
        "sampling", _SAMPLE,
        "return ops.stop_gradient(z_mean + ops.exp(0.5 * z_log_var) * epsilon)",
        {"test_sampling_gradients"}),
    # Unit variance whatever z_log_var says.
    "sampling_ignores_variance": (
        "sampling", _SAMPLE, "return z_mean + epsilon",
        {"test_sampling_distribution", "test_sampling_gradients"}),
    # The KL term not weighted by beta.
    "loss_ignores_beta": (
        "loss", "reconstruction + beta * kl_divergence(", "reconstruction + kl_divergence(",
        {"test_loss_beta", "test_agreement"}),
}

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _require_nbgrader():
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        message = ("nbgrader is not installed; install the instructor extras with "
                   "`pip install -r assignments/requirements.txt`.")
        if _ci():
            pytest.fail("CI is set but " + message, pytrace=False)
        pytest.skip(message)


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _write(notebook, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(notebook, handle, indent=1)


def _source(cell):
    return "".join(cell["source"])


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _cells_by_id(notebook):
    return {_nbgrader(c)["grade_id"]: c for c in notebook["cells"] if _nbgrader(c).get("grade_id")}


def _between(text, markers):
    """Non-empty stripped lines strictly between the marker lines."""
    inside, lines = False, []
    for line in text.splitlines():
        if line.strip() == markers[0]:
            inside = True
        elif line.strip() == markers[1]:
            inside = False
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def _strip_markers(text):
    return "\n".join(line for line in text.splitlines() if line.strip() not in SOLUTION_MARKERS)


def _submission(release, source, mistake=None):
    """The released notebook with its solution cells answered from the source."""
    notebook = json.loads(json.dumps(release))
    answers = _cells_by_id(source)
    for cell in notebook["cells"]:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            cell["source"] = _strip_markers(_source(answers[meta["grade_id"]]))
    if mistake is not None:
        grade_id, old, new, _ = MISTAKES[mistake]
        cell = _cells_by_id(notebook)[grade_id]
        text = _source(cell)
        assert text.count(old) == 1, f"{mistake}: {old!r} is not once in cell {grade_id!r}"
        cell["source"] = text.replace(old, new)
    return notebook


def _fake_mnist(path, digit_images, seed=0):
    """A Keras-format mnist.npz made of the digit-like test images (conftest.py),
    shifted by up to two pixels: 2,000 training and 500 test images."""
    rng = np.random.default_rng(seed)
    images = np.round(np.asarray(digit_images[0])[..., 0] * 255).astype(np.uint8)
    arrays = {}
    for split, n in (("train", 2000), ("test", 500)):
        picks = rng.integers(0, len(images), size=n)
        shifts = rng.integers(-2, 3, size=(n, 2))
        arrays[f"x_{split}"] = np.stack(
            [np.roll(images[i], tuple(shift), axis=(0, 1)) for i, shift in zip(picks, shifts)])
        arrays[f"y_{split}"] = np.asarray(digit_images[1])[picks].astype(np.uint8)
    np.savez(path, **arrays)


def _start(args, cwd, env):
    return subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait(process, args):
    try:
        stdout, stderr = process.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, (
        f"nbgrader {' '.join(args)} failed ({process.returncode}):\n{stdout}\n{stderr}")


def _write_config(root):
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'vae_keras'\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        # Seconds per cell, for a kernel to start, and for a cell's last output
        # (nbgrader's 30, 60 and 4 fail now and then on a busy CI machine).
        "c.Execute.timeout = 300\n"
        "c.Execute.startup_timeout = 300\n"
        "c.Execute.iopub_timeout = 120\n", encoding="utf-8")


def _test_errors(path):
    """{grade_id: 'Error: message'} for the failing test cells of a graded notebook."""
    errors = {}
    for cell in _read(path)["cells"]:
        meta = _nbgrader(cell)
        if meta.get("grade") and cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    errors[meta["grade_id"]] = f"{output['ename']}: {output['evalue'][:200]}"
    return errors


@pytest.fixture(scope="module")
def course(tmp_path_factory, digit_images):
    """A graded nbgrader course: {'release': notebook, 'source': notebook,
    'scores': {student: {test: score}}, 'errors': {student: {test: error}}}."""
    _require_nbgrader()
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("nbgrader")
    root = base / "course"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(SOURCE, root / "source" / ASSIGNMENT / SOURCE.name)
    _write_config(root)

    env = dict(os.environ)
    mnist = os.environ.get("VAE_KERAS_MNIST")
    if not (mnist and os.path.isfile(mnist)):
        mnist = str(base / "mnist.npz")
        _fake_mnist(mnist, digit_images)
    env.update({
        "VAE_KERAS_MNIST": mnist,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
        # Nobody's personal Jupyter config or kernel specs: the kernel is this Python.
        "JUPYTER_CONFIG_DIR": str(base / "jupyter_config"),
        "JUPYTER_DATA_DIR": str(base / "jupyter_data"),
    })

    generate = ["generate_assignment", ASSIGNMENT, "--force"]
    _wait(_start(generate, root, env), generate)
    release = _read(root / "release" / ASSIGNMENT / SOURCE.name)
    source = _read(SOURCE)

    submissions = {"empty": release, "solution": _submission(release, source)}
    for mistake in MISTAKES:
        submissions[mistake] = _submission(release, source, mistake)

    # SHARDS copies of the course, each with its own gradebook, grade the
    # submissions in parallel: a notebook spends much of its time starting a
    # kernel and importing the backend.
    shards = []
    for k in range(SHARDS):
        shard = base / f"course_{k}"
        shutil.copytree(root, shard)
        _write_config(shard)
        shards.append(shard)
    owner = {}
    for i, (student, notebook) in enumerate(submissions.items()):
        owner[student] = shards[i % SHARDS]
        _write(notebook, owner[student] / "submitted" / student / ASSIGNMENT / SOURCE.name)
    autograde = ["autograde", ASSIGNMENT, "--force"]
    for process in [_start(autograde, shard, env) for shard in shards]:
        _wait(process, autograde)

    scores, errors = {}, {}
    for student, shard in owner.items():
        with Gradebook(f"sqlite:///{shard / 'gradebook.db'}") as gradebook:
            graded = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            scores[student] = {g.name: g.score for g in graded.grades}
        errors[student] = _test_errors(shard / "autograded" / student / ASSIGNMENT / SOURCE.name)
    return {"release": release, "source": source, "scores": scores, "errors": errors}


def test_points_match_the_notebook():
    """MISTAKES and POINTS describe the notebook's autograded cells."""
    graded = {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"]
              for c in _read(SOURCE)["cells"] if _nbgrader(c).get("grade")}
    assert graded == POINTS
    for _, _, _, failing in MISTAKES.values():
        assert failing <= set(POINTS)


def test_release_has_no_solutions_and_no_hidden_tests(course):
    source, release = _cells_by_id(course["source"]), _cells_by_id(course["release"])
    assert set(source) == set(release)
    for grade_id, cell in release.items():
        text, meta = _source(cell), _nbgrader(cell)
        assert not cell.get("outputs"), grade_id
        for marker in SOLUTION_MARKERS + HIDDEN_MARKERS:
            assert marker not in text, (grade_id, marker)
        if meta.get("solution"):
            assert "raise NotImplementedError()" in text, grade_id
            assert not meta.get("locked"), grade_id
            for line in _between(_source(source[grade_id]), SOLUTION_MARKERS):
                assert line not in text, (grade_id, line)
        else:
            assert meta.get("locked"), grade_id
        if meta.get("grade"):
            hidden = _between(_source(source[grade_id]), HIDDEN_MARKERS)
            if grade_id in ("test_sampling_distribution", "test_kl_values",
                            "test_loss_beta_one", "test_loss_beta"):
                assert hidden, grade_id
            for line in hidden:
                assert line not in text, (grade_id, line)
            assert meta["points"] == POINTS[grade_id]


def test_solution_gets_full_marks(course):
    scores = course["scores"]["solution"]
    assert scores == POINTS, course["errors"]["solution"]


def test_empty_submission_gets_no_marks(course):
    assert set(course["scores"]["empty"]) == set(POINTS)
    assert sum(course["scores"]["empty"].values()) == 0


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_mistake_loses_exactly_its_points(course, mistake):
    scores, errors = course["scores"][mistake], course["errors"][mistake]
    failing = MISTAKES[mistake][3]
    expected = {name: 0 if name in failing else points for name, points in POINTS.items()}
    assert scores == expected, f"failing tests and their errors: {errors}"
    assert sum(scores.values()) == TOTAL - sum(POINTS[name] for name in failing)
