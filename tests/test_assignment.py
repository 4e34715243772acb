"""The nbgrader assignment in ``assignments/``: release, autograde, typical mistakes.

One throw-away nbgrader course is built in a temporary directory (no network,
no exchange): ``nbgrader generate_assignment`` makes the student version, and
one ``nbgrader autograde`` run grades, as separate "students", an empty
submission, the solution, and one copy of the solution per typical mistake
(``MISTAKES``), per way of handing in the course package's code instead of
one's own (``CHEATS``) and per correct solution written differently
(``ALTERNATIVES``), each injected into the solution cells by a string
replacement. The tests then read the gradebook: the release holds no solutions
or hidden tests, the solution and every alternative get full marks, the empty
submission none, every mistake and every cheat loses exactly the points of the
tests listed for it, and a cheat's failing tests say why.

Without nbgrader, two quicker checks run in this process: the task text hands
out no solution line, and the notebook's own-code check (the helper in the
hidden tests) catches more ways of using the package than the graded cheats,
and passes code of one's own.

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

_TASK1 = {"test_sampling_basics", "test_sampling_distribution", "test_sampling_gradients"}
_TASK2 = {"test_kl_prior", "test_kl_values"}
_TASK3 = {"test_loss_beta_one", "test_loss_beta"}
_PACKAGE_KL = ("Task 2 must be your own code: your kl_divergence calls vae_keras.models.kl_divergence, "
               "which is the package's answer",)

# cheat: (solution cell, text in the solution or None for the whole cell,
# replacement, tests that must fail, texts every failing test's error shows).
# The package's code in place of the student's loses its task's points and
# those of the Task 4 tests that use the part: test_training and
# test_agreement for the layer, test_agreement for the KL and the loss. The
# loss tests do not look into the student's kl_divergence (Task 2 grades it).
CHEATS = {
    "cheat_sampling_subclass": (
        "sampling", None, "import vae_keras\n\n\nclass Sampling(vae_keras.Sampling):\n    pass",
        _TASK1 | {"test_training", "test_agreement"},
        ("Task 1 must be your own code", "vae_keras.models.Sampling, which is the package's answer")),
    "cheat_kl_calls_package": (
        "kl", None,
        "import vae_keras\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    return vae_keras.kl_divergence(z_mean, z_log_var)",
        _TASK2 | {"test_agreement"}, _PACKAGE_KL),
    # Under another name, from the submodule.
    "cheat_kl_alias_import": (
        "kl", None,
        "from vae_keras.models import kl_divergence as k\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    return k(z_mean, z_log_var)",
        _TASK2 | {"test_agreement"}, _PACKAGE_KL),
    "cheat_loss_package_reconstruction": (
        "loss", None,
        "import vae_keras\n\n\ndef vae_loss(x, x_decoded, z_mean, z_log_var, beta):\n"
        "    reconstruction = vae_keras.reconstruction_loss(x, x_decoded)\n"
        "    return ops.mean(reconstruction + beta * kl_divergence(z_mean, z_log_var))",
        _TASK3 | {"test_agreement"},
        ("Task 3 must be your own code: your vae_loss calls vae_keras.models.reconstruction_loss, "
         "which is the package's answer",)),
}

_LOSS_RECONSTRUCTION = """\
    x = ops.convert_to_tensor(x, dtype="float32")
    eps = keras.config.epsilon()
    p = ops.clip(x_decoded, eps, 1.0 - eps)
    reconstruction = -ops.sum(x * ops.log(p) + (1.0 - x) * ops.log(1.0 - p), axis=-1)
"""

# alternative: (solution cell, text in the solution, replacement, no tests
# fail): correct solutions written differently, which must get full marks.
ALTERNATIVES = {
    # sigma as the square root of the variance.
    "alt_sampling_sqrt_of_variance": (
        "sampling", _SAMPLE, "return z_mean + ops.sqrt(ops.exp(z_log_var)) * epsilon", set()),
    # The lecture's form, negated: the same function.
    "alt_kl_negated_form": (
        "kl", _KL,
        "return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)",
        set()),
    # Keras's binary cross-entropy (a mean over the pixels, with probabilities
    # clipped to [eps, 1 - eps] as the model's) times the number of pixels. On
    # TensorFlow, a tensor from a sigmoid layer carries its logits, and the
    # cross-entropy then uses them (exact, unclipped): it equals the model's
    # clipped loss up to pixels beyond the clipping, far below the tolerance here.
    "alt_loss_keras_bce": (
        "loss", _LOSS_RECONSTRUCTION,
        "    reconstruction = keras.losses.binary_crossentropy(x, x_decoded) * ops.shape(x_decoded)[-1]\n",
        set()),
}
SUBMISSIONS = {**MISTAKES, **CHEATS, **ALTERNATIVES}

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
        grade_id, old, new = SUBMISSIONS[mistake][:3]
        cell = _cells_by_id(notebook)[grade_id]
        text = _source(cell)
        if old is None:
            cell["source"] = new
        else:
            assert text.count(old) == 1, f"{mistake}: {old!r} is not once in cell {grade_id!r}"
            cell["source"] = text.replace(old, new)
    return notebook


def _hidden_regions(text):
    """The raw text of each hidden-test region of a cell."""
    regions, current = [], None
    for line in text.splitlines():
        if line.strip() == HIDDEN_MARKERS[0]:
            current = []
        elif line.strip() == HIDDEN_MARKERS[1]:
            regions.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return regions


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
                    errors[meta["grade_id"]] = f"{output['ename']}: {output['evalue'][:400]}"
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
    for mistake in SUBMISSIONS:
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
    # The grades, for the log (pytest shows it when a test fails) and in grades.json.
    summary = {student: {"score": sum(s.values()), "failed": sorted(errors[student])}
               for student, s in scores.items()}
    (base / "grades.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    for student, row in summary.items():
        print(f"{student}: {row['score']:g} / {TOTAL}", *row["failed"])
    return {"release": release, "source": source, "scores": scores, "errors": errors}


def test_points_match_the_notebook():
    """MISTAKES, CHEATS, ALTERNATIVES and POINTS describe the notebook's autograded cells."""
    graded = {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"]
              for c in _read(SOURCE)["cells"] if _nbgrader(c).get("grade")}
    assert graded == POINTS
    solution_cells = {_nbgrader(c)["grade_id"] for c in _read(SOURCE)["cells"] if _nbgrader(c).get("solution")}
    for name, (grade_id, _, _, failing, *_) in SUBMISSIONS.items():
        assert grade_id in solution_cells, (name, grade_id)
        assert failing <= set(POINTS), (name, failing - set(POINTS))
    assert not set(MISTAKES) & set(CHEATS) and not set(SUBMISSIONS) & {"empty", "solution"}


def _solution_lines(notebook):
    return [line for cell in notebook["cells"] if _nbgrader(cell).get("solution")
            for line in _between(_source(cell), SOLUTION_MARKERS)]


def test_task_text_states_the_maths_not_the_solution_lines():
    """No line of a solution appears in the task text (markdown), and the text
    still gives the formulas of Tasks 1-3."""
    notebook = _read(SOURCE)
    markdown = "\n".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
    flat = " ".join(markdown.split())
    lines = _solution_lines(notebook)
    assert len(lines) >= 15, lines
    shown = [line for line in lines if " ".join(line.split()) in flat]
    assert not shown, f"the task text shows these solution lines: {shown}"
    for formula in (r"z = \mu + \sigma \odot \varepsilon",                      # Task 1
                    r"\sigma_j^2 + \mu_j^2 - 1 - \log\sigma_j^2",               # Task 2
                    r"\tilde p_{bi} = \min\big(\max(p_{bi}, \epsilon),\; 1 - \epsilon\big)"):  # Task 3
        assert formula in markdown, formula


def test_every_graded_test_checks_own_code():
    """Each autograded cell's hidden part calls the own-code check, and the
    check itself lives in a hidden part (not in the package, not in the release)."""
    cells = _cells_by_id(_read(SOURCE))
    first = _hidden_regions(_source(cells["test_sampling_basics"]))[0]
    assert "def _own_code(" in first and "sys.setprofile" in first and "__mro__" in first
    for grade_id in POINTS:
        hidden = "\n".join(_hidden_regions(_source(cells[grade_id])))
        assert "_own_code(" in hidden.replace("def _own_code(", ""), grade_id
    package = ROOT / "vae_keras"
    assert not [p for p in package.rglob("*.py") if "_own_code" in p.read_text(encoding="utf-8")]


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
            assert hidden, grade_id  # every test cell has hidden checks (own code, at least)
            released = {line.strip() for line in text.splitlines()}
            for line in hidden:
                assert len(line) < 12 or line not in released, (grade_id, line)
            assert "_own_code" not in text, grade_id
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
    assert not any("must be your own code" in e for e in errors.values()), errors


@pytest.mark.parametrize("cheat", list(CHEATS))
def test_cheat_loses_its_points_and_says_why(course, cheat):
    scores, errors = course["scores"][cheat], course["errors"][cheat]
    _, _, _, failing, why = CHEATS[cheat]
    expected = {name: 0 if name in failing else points for name, points in POINTS.items()}
    assert scores == expected, f"failing tests and their errors: {errors}"
    assert set(errors) == failing, errors
    for name in failing:
        for text in why:
            assert text in errors[name], (name, text, errors[name])


@pytest.mark.parametrize("alternative", list(ALTERNATIVES))
def test_alternative_solution_gets_full_marks(course, alternative):
    scores = course["scores"][alternative]
    assert scores == POINTS, course["errors"][alternative]


# ------------------------------------------------------------ the own-code check, in this process

_OWN_SAMPLING = '''
class Sampling(keras.layers.Layer):
    """Like vae_keras.models.Sampling, but mine."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(name=kwargs.pop("name", "vae_keras_like"), **kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + _scale(z_log_var) * epsilon


def _scale(z_log_var):
    return ops.sqrt(ops.exp(z_log_var))
'''
_OWN_KL = '''
def kl_divergence(z_mean, z_log_var):
    return 0.5 * ops.sum(ops.exp(z_log_var) + ops.square(z_mean) - 1.0 - z_log_var, axis=-1)
'''
_OWN_LOSS = '''
def vae_loss(x, x_decoded, z_mean, z_log_var, beta):
    bce = keras.losses.binary_crossentropy(x, x_decoded) * ops.shape(x_decoded)[-1]
    return ops.mean(bce + beta * kl_divergence(z_mean, z_log_var))
'''
_CALL_SAMPLING = ("Task 1", "Sampling", "lambda: Sampling(seed=1)([M, V])")
_CALL_KL = ("Task 2", "kl_divergence", "lambda: kl_divergence(M, V)")
_CALL_LOSS = ("Task 3", "vae_loss", "lambda: vae_loss(X, P, M, V, 0.3)")

# case: (the student's cells, (task, name, call), a text the check's error
# must show, or None: the check must pass).
OWN_CODE_CASES = {
    "own_sampling": (_OWN_SAMPLING, _CALL_SAMPLING, None),
    "own_kl": (_OWN_KL, _CALL_KL, None),
    "own_loss_keras_bce": (_OWN_KL + _OWN_LOSS, _CALL_LOSS, None),
    # Task 3's tests leave the student's kl_divergence to Task 2's.
    "own_loss_with_package_kl": (
        "import vae_keras\nkl_divergence = vae_keras.kl_divergence\n" + _OWN_LOSS, _CALL_LOSS, None),
    "sampling_from_the_registry": (
        'class Sampling(keras.saving.get_registered_object("vae_keras>Sampling")):\n    pass\n',
        _CALL_SAMPLING, "your Sampling subclasses vae_keras.models.Sampling, which is the package's answer"),
    "sampling_holds_the_package_layer": (
        _OWN_SAMPLING.replace("        self.seed_generator =",
                              "        import vae_keras\n        self.inner = vae_keras.Sampling(seed)\n"
                              "        self.seed_generator =")
        .replace("        return z_mean + _scale", "        return self.inner(inputs)\n        return z_mean + _scale"),
        _CALL_SAMPLING, "your Sampling calls vae_keras.models.Sampling.__init__"),
    "sampling_borrows_the_package_method": (
        _OWN_SAMPLING.replace("    def call(self, inputs):", "    call = vae_keras.Sampling.call\n\n    def _call(self, inputs):")
        .replace("class Sampling(", "import vae_keras\n\n\nclass Sampling("),
        _CALL_SAMPLING, "your Sampling calls vae_keras.models.Sampling.call"),
    "kl_re_exported": (
        "from vae_keras import kl_divergence\n", _CALL_KL, "your kl_divergence is vae_keras.models.kl_divergence"),
    "kl_import_module": (
        "import importlib\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    return importlib.import_module('vae_keras').kl_divergence(z_mean, z_log_var)\n",
        _CALL_KL, "your kl_divergence calls vae_keras.models.kl_divergence"),
    "kl_private_helper": (
        "from vae_keras import models as m\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    return ops.sum(m._kl_per_dimension(z_mean, z_log_var), axis=-1)\n",
        _CALL_KL, "your kl_divergence calls vae_keras.models._kl_per_dimension"),
    "kl_evaluation_module": (
        "import vae_keras.evaluation\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    return ops.sum(vae_keras.evaluation.kl_per_dimension(z_mean, z_log_var), axis=-1)\n",
        _CALL_KL, "your kl_divergence calls vae_keras.evaluation.kl_per_dimension"),
    "kl_partial": (
        "import functools\nimport vae_keras\nkl_divergence = functools.partial(vae_keras.kl_divergence)\n",
        _CALL_KL, "your kl_divergence is vae_keras.models.kl_divergence"),
    "kl_through_a_helper": (
        "import vae_keras as v\n\n\ndef _mine(m, s):\n    return v.kl_divergence(m, s)\n\n\n"
        "def kl_divergence(z_mean, z_log_var):\n    return _mine(z_mean, z_log_var)\n",
        _CALL_KL, "your kl_divergence calls vae_keras.models.kl_divergence"),
    # As a compiled function would: the package's code ran before, not during the check.
    "kl_cached_before_the_check": (
        "import vae_keras\n_cache = {}\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    key = (np.asarray(z_mean).tobytes(), np.asarray(z_log_var).tobytes())\n"
        "    if key not in _cache:\n        _cache[key] = vae_keras.kl_divergence(z_mean, z_log_var)\n"
        "    return _cache[key]\n\n\nkl_divergence(M, V)\n",
        _CALL_KL, "your kl_divergence uses, through the name vae_keras, vae_keras."),
    "kl_switches_the_profiler_off": (
        "import sys\nimport vae_keras\n\n\ndef kl_divergence(z_mean, z_log_var):\n"
        "    sys.setprofile(None)\n    return vae_keras.kl_divergence(z_mean, z_log_var)\n",
        _CALL_KL, "your kl_divergence switched off the grader's call tracing"),
    "loss_with_the_package_kl_inline": (
        _OWN_KL + "import vae_keras\n" + _OWN_LOSS.replace("beta * kl_divergence", "beta * vae_keras.kl_divergence"),
        _CALL_LOSS, "your vae_loss calls vae_keras.models.kl_divergence"),
}


@pytest.fixture(scope="module")
def own_code_helper():
    """The source of the hidden own-code check (the first hidden region of test_sampling_basics)."""
    return _hidden_regions(_source(_cells_by_id(_read(SOURCE))["test_sampling_basics"]))[0]


@pytest.mark.parametrize("case", list(OWN_CODE_CASES))
def test_own_code_check(own_code_helper, case):
    import keras
    from keras import ops

    cells, (task, name, call), expected = OWN_CODE_CASES[case]
    rng = np.random.default_rng(0)
    namespace = {"__name__": "__main__", "keras": keras, "ops": ops, "np": np,
                 "M": rng.normal(size=(4, 3)).astype("float32"), "V": rng.normal(size=(4, 3)).astype("float32"),
                 "X": (rng.random((4, 6)) < 0.5).astype("float32"),
                 "P": rng.uniform(0.1, 0.9, size=(4, 6)).astype("float32")}
    exec(compile(own_code_helper, "<own-code check>", "exec"), namespace)
    exec(compile(cells, f"<{case}>", "exec"), namespace)
    exempt = "exempt=(kl_divergence,)" if name == "vae_loss" else ""
    check = f"_own_code({task!r}, {name!r}, {name}, {call}, {exempt})"
    profiler = sys.getprofile()
    if expected is None:
        result = eval(check, namespace)
        assert np.all(np.isfinite(ops.convert_to_numpy(result)))
    else:
        with pytest.raises(AssertionError) as error:
            eval(check, namespace)
        assert expected in str(error.value) and f"{task} " in str(error.value), str(error.value)
    assert sys.getprofile() is profiler  # the check put the profiler back
