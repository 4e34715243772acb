#!/usr/bin/env python3
"""Keep the course notebooks' openings, Colab set-up and navigation in step.

Maintainers' tool (standard library only). The repository's address is kept in
one place, pyproject.toml:

    [project.urls]
    Repository = "https://github.com/OWNER/REPO"

    [tool.vae_keras]
    branch = "main"

From it and from the notebooks themselves (``notebooks/NN_*.ipynb``, ordered
by NN, titled by the ``# NN · Title`` first line of cell 0), ``sync`` writes:

* cell 0 (markdown): the title line ``# NN · Title``, the Colab badge
  (``colab.research.google.com/github/OWNER/REPO/blob/BRANCH/notebooks/FILE``)
  and the navigation bar, placed after the one-line summary; old
  ``Previous:``/``Next:`` lines there are removed, all other text is kept;
* the first code cell: the set-up block between the ``# >>> vae_keras course
  setup`` and ``# <<< vae_keras course setup`` marker lines, which in Colab
  (only) installs the package with pip from ``git+https://github.com/OWNER/REPO@BRANCH``
  unless ``VAE_KERAS_SOURCE`` (a path, wheel or pip URL) says otherwise,
  sets TF_CPP_MIN_LOG_LEVEL before Keras is imported, and imports vae_keras
  first (which imports TensorFlow without its C++ start-up lines, see
  vae_keras/_quiet.py); the rest of the cell is the notebook's own;
* the last cell: a markdown cell holding only the navigation bar (old
  ``Previous:``/``Next:`` lines are removed from the cell that held them; if
  other text remains there, the bar goes into a new final cell).

The nbgrader assignments' source notebooks (``assignments/source/NAME/*.ipynb``)
get the same set-up block in their first code cell (the locked set-up cell the
students run first, also in Colab); nothing else in them changes: no badge, no
navigation bar, their nbgrader metadata untouched. An older set-up cell there
(``import`` lines, then the ``if "google.colab" in sys.modules:`` install) is
migrated: the old install goes, the other ``import`` lines are kept after the
block. After a sync the assignment must be generated again
(``nbgrader generate_assignment``), as after any edit of its source.

The navigation bar is one line, the same at the top and the bottom:

    [← 03 · The sampling layer ...](03_....ipynb) | [Contents](../README.md#the-notebooks) | [05 · β-VAE →](05_....ipynb)

(the first notebook has no "←" link, the last existing one no "→" link; a
label is the title up to its first ": ").

Only sources change: outputs and execution counts are left alone.

Usage, from anywhere:

    python tools/course.py sync     # rewrite badges, set-up blocks and nav bars
                                    # (notebooks) and set-up blocks (assignments)
    python tools/course.py check    # exit 1 listing every notebook that disagrees
    python tools/course.py links    # exit 1 listing broken relative links in
                                    # the notebooks' markdown and in every .md
    (option --root DIR: another copy of the repository; default: this one)

After moving the repository or publishing from another branch: edit the two
values in pyproject.toml, run ``python tools/course.py sync`` and commit the
notebooks and the assignments' source notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = "notebooks"
ASSIGNMENT_SOURCES = "assignments/source"  # nbgrader's source/NAME/*.ipynb layout
NOTEBOOK_NAME = re.compile(r"^(\d{2})_[A-Za-z0-9_\-]+\.ipynb$")
CONTENTS = "[Contents](../README.md#the-notebooks)"
SEP = " · "
NAV_CELL_ID = "course-nav"

SETUP_START = "# >>> vae_keras course setup: written by `python tools/course.py sync` from pyproject.toml, do not edit here >>>"
SETUP_END = "# <<< vae_keras course setup <<<"
SETUP_TEMPLATE = '''\
{start}
import importlib.util
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # quiet TensorFlow's C++ logs; set before Keras is imported
if "google.colab" in sys.modules and importlib.util.find_spec("vae_keras") is None:
    import subprocess  # Colab: install the course package (VAE_KERAS_SOURCE may name a path, wheel or URL)

    _source = os.environ.get("VAE_KERAS_SOURCE") or "{source}"
    print("Installing the course package vae_keras from", _source)
    _pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", _source], capture_output=True, text=True)
    if _pip.returncode != 0:
        raise RuntimeError(
            f"Could not install the course package vae_keras: `pip install {{_source}}` failed:\\n"
            + "\\n".join((_pip.stderr or _pip.stdout).strip().splitlines()[-12:])
            + "\\n\\nWhat to do:\\n"
            "- check that this runtime is connected to the internet, then run this cell again;\\n"
            "- or upload the course repository (or a wheel built from it) to the runtime, run\\n"
            "  %env VAE_KERAS_SOURCE=/content/vae_keras   (its path there), then run this cell again;\\n"
            "- if the course has moved, set VAE_KERAS_SOURCE=git+https://github.com/OWNER/REPO@BRANCH."
        )
    importlib.invalidate_caches()
if importlib.util.find_spec("vae_keras") and importlib.util.find_spec("keras"):
    import vae_keras  # noqa: F401  (before Keras: TensorFlow then starts without its C++ log lines)
{end}'''

# Lines this tool owns in cell 0 and in the last cell.
BADGE_LINE = re.compile(r"colab-badge\.svg|colab\.research\.google\.com")
OLD_NAV_LINE = re.compile(
    r"^\s*(?:\*\*|\*|_)?\[?\s*(?:previous|prev|next)\b[^\n]*\]\([^)\s]*\.ipynb[^)]*\)", re.IGNORECASE
)
NAV_LINE = re.compile(r"^\s*\[(?:← [^\]]*|Contents)\]\([^)]*\)(?: \| \[[^\]]*\]\([^)]*\))*\s*$")
TITLE_PREFIX = re.compile(r"^\d+\s*·\s*")


class CourseError(Exception):
    """A problem sync cannot fix by itself (bad config, a notebook without a title)."""


@dataclass
class Config:
    owner: str
    repo: str
    branch: str

    @property
    def install_source(self) -> str:
        return f"git+https://github.com/{self.owner}/{self.repo}@{self.branch}"

    def colab_url(self, filename: str) -> str:
        return (f"https://colab.research.google.com/github/{self.owner}/{self.repo}"
                f"/blob/{self.branch}/{NOTEBOOK_DIR}/{filename}")

    def badge(self, filename: str) -> str:
        return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                f"({self.colab_url(filename)})")


def read_config(root: Path) -> Config:
    path = root / "pyproject.toml"
    with open(path, "rb") as f:
        data = tomllib.load(f)
    url = data.get("project", {}).get("urls", {}).get("Repository")
    if not url:
        raise CourseError(f"{path}: no [project.urls] Repository = \"https://github.com/OWNER/REPO\"")
    match = re.fullmatch(r"https://github\.com/([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+?)(?:\.git)?/?", url.strip())
    if not match:
        raise CourseError(f"{path}: Repository = {url!r} is not https://github.com/OWNER/REPO "
                          "(Colab opens notebooks from GitHub only)")
    branch = data.get("tool", {}).get("vae_keras", {}).get("branch", "")
    if not re.fullmatch(r"[A-Za-z0-9_.\-/]+", branch or ""):
        raise CourseError(f"{path}: [tool.vae_keras] branch = {branch!r} is missing or not a branch name")
    return Config(match.group(1), match.group(2), branch)


def setup_block(config: Config) -> str:
    return SETUP_TEMPLATE.format(start=SETUP_START, end=SETUP_END, source=config.install_source)


# ---------------------------------------------------------------- notebooks

def source_of(cell) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def set_source(cell, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def dump(nb) -> str:
    # The format Jupyter writes (and the committed notebooks use).
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass
class Entry:
    path: Path
    number: str
    title: str  # without the "NN · " prefix

    @property
    def label(self) -> str:
        return f"{self.number}{SEP}{self.title.split(': ')[0].strip()}"


def course_notebooks(root: Path) -> list[Entry]:
    entries, seen = [], {}
    for path in sorted((root / NOTEBOOK_DIR).glob("*.ipynb")):
        match = NOTEBOOK_NAME.match(path.name)
        if not match:
            continue
        number = match.group(1)
        if number in seen:
            raise CourseError(f"{path}: notebook number {number} also used by {seen[number].name}")
        seen[number] = path
        cells = load(path).get("cells", [])
        first = source_of(cells[0]).lstrip("\n").split("\n", 1)[0] if cells else ""
        if not cells or cells[0].get("cell_type") != "markdown" or not first.startswith("# "):
            raise CourseError(f"{path}: cell 0 must be markdown starting with a '# Title' line")
        title = TITLE_PREFIX.sub("", first[2:].strip())
        entries.append(Entry(path, number, title))
    return entries


def nav_bar(entries: list[Entry], i: int) -> str:
    parts = []
    if i > 0:
        parts.append(f"[← {entries[i - 1].label}]({entries[i - 1].path.name})")
    parts.append(CONTENTS)
    if i + 1 < len(entries):
        parts.append(f"[{entries[i + 1].label} →]({entries[i + 1].path.name})")
    return " | ".join(parts)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paras, current = [], []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            paras.append(current)
            current = []
    if current:
        paras.append(current)
    return paras


def _is_managed(line: str) -> bool:
    return bool(BADGE_LINE.search(line) or OLD_NAV_LINE.match(line) or NAV_LINE.match(line))


def opening(text: str, entry: Entry, config: Config, nav: str) -> str:
    lines = text.strip("\n").split("\n")
    body = [line for line in lines[1:] if not _is_managed(line)]
    paras = _paragraphs(body)
    head = [[f"# {entry.number}{SEP}{entry.title}"]]
    # The first paragraph is the one-line summary unless it is already a
    # heading, a list or the bold "Learning goals" lead.
    if paras and not re.match(r"^(#|\*\*|[-*+] |\d+\. |<)", paras[0][0].lstrip()):
        head.append(paras.pop(0))
    head += [[config.badge(entry.path.name)], [nav]]
    return "\n\n".join("\n".join(p) for p in head + paras)


def first_code_cell(text: str, config: Config, keep_imports: bool = False) -> str:
    """The cell with the set-up block in front. keep_imports (assignments):
    a legacy preamble's ``import`` lines other than os and sys are kept."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(SETUP_START.split(":")[0])]
    ends = [i for i, line in enumerate(lines) if line.startswith(SETUP_END)]
    if starts and ends and ends[0] > starts[0]:
        rest = lines[:starts[0]] + lines[ends[0] + 1:]
    else:
        rest = _strip_legacy_setup(lines, keep_imports)
    while rest and not rest[0].strip():
        rest.pop(0)
    block = setup_block(config)
    return block + ("\n\n" + "\n".join(rest) if rest else "")


def _strip_legacy_setup(lines: list[str], keep_imports: bool = False) -> list[str]:
    """Drops the ad-hoc preamble older notebooks began with: ``import os``,
    ``import sys``, the TF_CPP_MIN_LOG_LEVEL line and an ``if "google.colab"
    in sys.modules:`` statement with its body. With keep_imports (the
    assignments), other ``import``/``from`` lines among them are kept, in order."""
    i, kept = 0, []
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.strip() in ("import os", "import sys") \
                or line.startswith('os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL"'):
            i += 1
        elif re.match(r"if\s+[\"']google\.colab[\"']\s+in\s+sys\.modules", line):
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t")):
                i += 1
        elif keep_imports and re.match(r"(?:import|from)\s+[A-Za-z_]", line):
            kept.append(line)
            i += 1
        else:
            break
    if kept and i < len(lines) and not lines[i - 1].strip():
        kept.append("")  # the blank line that ended the preamble
    return kept + lines[i:]


def _new_markdown_cell(nb, text: str):
    cell = {"cell_type": "markdown", "metadata": {}, "source": []}
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        ids = {c.get("id") for c in nb["cells"]}
        new_id, k = NAV_CELL_ID, 1
        while new_id in ids:
            k += 1
            new_id = f"{NAV_CELL_ID}-{k}"
        cell["id"] = new_id
    set_source(cell, text)
    return cell


def synced(nb, entry: Entry, entries: list[Entry], config: Config):
    """Returns (new notebook, list of what changed)."""
    nb = json.loads(json.dumps(nb))
    cells = nb["cells"]
    nav = nav_bar(entries, entries.index(entry))
    changes = []

    new = opening(source_of(cells[0]), entry, config, nav)
    if new != source_of(cells[0]):
        changes.append("cell 0 (title, Colab badge or navigation bar)")
        set_source(cells[0], new)

    code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), None)
    if code is None:
        raise CourseError(f"{entry.path}: no code cell to hold the set-up block")
    new = first_code_cell(source_of(cells[code]), config)
    if new != source_of(cells[code]):
        changes.append(f"cell {code} (the set-up block)")
        set_source(cells[code], new)

    # The bottom bar: drop stale bar-only cells, strip old Previous/Next lines
    # from the last cell, then make the last cell the bar alone.
    stale = [i for i, c in enumerate(cells[1:], 1)
             if c.get("cell_type") == "markdown" and NAV_LINE.match(source_of(c).strip() or "-")
             and i != len(cells) - 1 and i != code]
    for i in reversed(stale):
        del cells[i]
        changes.append(f"cell {i} (a navigation bar that was not at the end)")
    last = cells[-1]
    if last.get("cell_type") == "markdown" and len(cells) > 1:
        text = source_of(last)
        kept = "\n".join(line for line in text.split("\n") if not _is_managed(line)).strip("\n")
        kept = re.sub(r"\n{3,}", "\n\n", kept)
        if not kept.strip():
            if text != nav:
                set_source(last, nav)
                changes.append(f"cell {len(cells) - 1} (the last cell: navigation bar)")
        else:
            if kept != text:
                set_source(last, kept)
                changes.append(f"cell {len(cells) - 1} (old Previous/Next lines removed)")
            cells.append(_new_markdown_cell(nb, nav))
            changes.append(f"cell {len(cells) - 1} (new last cell: navigation bar)")
    else:
        cells.append(_new_markdown_cell(nb, nav))
        changes.append(f"cell {len(cells) - 1} (new last cell: navigation bar)")
    return nb, changes


# ---------------------------------------------------------------- assignments

def assignment_notebooks(root: Path) -> list[Path]:
    """The nbgrader source notebooks, ``assignments/source/NAME/*.ipynb``."""
    return sorted(p for p in (root / ASSIGNMENT_SOURCES).glob("*/*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def synced_assignment(nb, path: Path, config: Config):
    """Returns (new notebook, list of what changed): only the first code
    cell's set-up block; the cell's metadata (nbgrader's) and the rest of its
    source are kept."""
    nb = json.loads(json.dumps(nb))
    cells = nb.get("cells", [])
    code = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), None)
    if code is None:
        raise CourseError(f"{path}: no code cell to hold the set-up block")
    changes = []
    new = first_code_cell(source_of(cells[code]), config, keep_imports=True)
    if new != source_of(cells[code]):
        changes.append(f"cell {code} (the set-up block)")
        set_source(cells[code], new)
    return nb, changes


def run_sync(root: Path, write: bool) -> dict[Path, list[str]]:
    config = read_config(root)
    entries = course_notebooks(root)
    if not entries:
        raise CourseError(f"no notebooks named NN_*.ipynb under {root / NOTEBOOK_DIR}")
    jobs = [(entry.path, lambda nb, entry=entry: synced(nb, entry, entries, config)) for entry in entries]
    jobs += [(path, lambda nb, path=path: synced_assignment(nb, path, config))
             for path in assignment_notebooks(root)]
    report = {}
    for path, sync in jobs:
        raw = path.read_text(encoding="utf-8")
        new, changes = sync(json.loads(raw))
        text = dump(new)
        if text != raw:
            report[path] = changes or ["formatting"]
            if write:
                path.write_text(text, encoding="utf-8")
    return report


# ---------------------------------------------------------------- links

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
REF_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$", re.MULTILINE)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
SKIP_DIRS = {".git", ".venv", ".venv-ci", "node_modules", "build", "dist", ".ipynb_checkpoints",
             ".pytest_cache", "runs", "__pycache__"}


def _prose(markdown: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", markdown))


def link_targets(markdown: str) -> list[str]:
    text = _prose(markdown)
    text_no_math = MATH.sub("", text)
    found = [m.group(1) for m in INLINE_LINK.finditer(text_no_math)]
    found += [m.group(1) for m in REF_LINK.finditer(text_no_math)]
    found += [m.group(1) for m in HTML_LINK.finditer(text)]
    return found


def github_anchor(heading: str) -> str:
    """GitHub's rule: the heading's text, lower-cased, with everything but
    letters, digits, spaces, '-' and '_' removed, spaces turned into '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links -> their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "")
    text = re.sub(r"(\*\*|__|\*|(?<!\w)_|_(?!\w))", "", text)     # emphasis markers
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found, counts = set(), {}
    for m in HEADING.finditer(FENCE.sub("", markdown)):
        base = github_anchor(m.group(2))
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
        found.add(m.group(2).strip().replace(" ", "-"))  # Jupyter's rule, for notebooks
    return found


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = load(path).get("cells", [])
        return "\n\n".join(source_of(c) for c in cells if c.get("cell_type") == "markdown")
    return path.read_text(encoding="utf-8")


def documents(root: Path) -> list[Path]:
    """Every .md file in the repository and every notebook under notebooks/."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        here = Path(folder)
        for name in sorted(files):
            path = here / name
            if path.suffix == ".md" or (path.suffix == ".ipynb" and path.parent == root / NOTEBOOK_DIR):
                found.append(path)
    return found


def broken_links(root: Path) -> list[str]:
    problems = []
    for doc in documents(root):
        for target in link_targets(markdown_of(doc)):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:", target) or target.startswith("//"):
                continue  # http:, https:, mailto:, attachment: ...
            path_part, _, anchor = target.partition("#")
            path_part = path_part.split("?")[0]
            dest = (doc.parent / path_part).resolve() if path_part else doc
            where = f"{doc.relative_to(root)}: link {target!r}"
            if not dest.exists():
                problems.append(f"{where}: {path_part} does not exist")
                continue
            try:
                dest.relative_to(root.resolve())
            except ValueError:
                problems.append(f"{where}: points outside the repository")
                continue
            if anchor and dest.is_file() and dest.suffix in (".md", ".ipynb"):
                if anchor not in anchors(markdown_of(dest)):
                    problems.append(f"{where}: no heading with anchor #{anchor} in {dest.name}")
    return problems


# ---------------------------------------------------------------- command line

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["sync", "check", "links"])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: %(default)s)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "links":
            problems = broken_links(root)
            for problem in problems:
                print(problem)
            print(f"course.py links: {len(documents(root))} documents, {len(problems)} broken links")
            return 1 if problems else 0
        report = run_sync(root, write=args.command == "sync")
    except CourseError as err:
        print(f"course.py: {err}", file=sys.stderr)
        return 2
    for path, changes in report.items():
        verb = "rewrote" if args.command == "sync" else "disagrees with pyproject.toml/the course order"
        print(f"{path.relative_to(root)}: {verb}: " + "; ".join(changes))
    if args.command == "check":
        if report:
            print(f"course.py check: {len(report)} notebook(s) out of date; run: python tools/course.py sync")
            return 1
        print("course.py check: all notebooks and assignments agree with pyproject.toml")
    else:
        print(f"course.py sync: {len(report)} notebook(s) rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
