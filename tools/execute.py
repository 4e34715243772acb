"""Re-executes course notebooks top to bottom, each in one fresh kernel, and times them.

Usage (from the repository root, in the course's environment)::

    python tools/execute.py                       # every notebook, full mode, written in place
    python tools/execute.py notebooks/05_beta_vae.ipynb --no-write   # time one, keep the file
    python tools/execute.py --fast --no-write     # fast mode (VAE_KERAS_FAST=1), as the tests

Committed notebooks carry the outputs of a full run (``VAE_KERAS_FAST=0``):
this is the command that makes them. For each notebook it prints the
wall-clock time (kernel start-up included) and its slowest cells; a cell
that writes to stderr is reported (the course commits none). Timing
metadata is not written into the notebooks.
"""

import argparse
import glob
import os
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _seconds(cell):
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def execute(path, write=True, timeout=1800):
    """Runs one notebook; returns (wall seconds, [(cell index, seconds)], stderr cells)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}},
                            record_timing=True)
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    cells, stderr = [], []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        cells.append((index, _seconds(cell)))
        cell.metadata.pop("execution", None)
        if any(o.get("name") == "stderr" for o in cell.get("outputs", [])):
            stderr.append(index)
    if write:
        nbformat.write(notebook, path)
    return wall, cells, stderr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*")
    parser.add_argument("--fast", action="store_true", help="VAE_KERAS_FAST=1 (as the tests)")
    parser.add_argument("--no-write", action="store_true", help="time only; keep the files")
    parser.add_argument("--slowest", type=int, default=5, help="slowest cells to list")
    args = parser.parse_args(argv)
    os.environ["VAE_KERAS_FAST"] = "1" if args.fast else "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    paths = args.notebooks or sorted(glob.glob(str(ROOT / "notebooks" / "[0-9][0-9]_*.ipynb")))
    total, problems = 0.0, 0
    for path in paths:
        wall, cells, stderr = execute(path, write=not args.no_write)
        total += wall
        slow = sorted(cells, key=lambda c: -c[1])[:args.slowest]
        print(f"{Path(path).name}: {wall:.1f} s; slowest cells: "
              + ", ".join(f"c{i} {s:.1f} s" for i, s in slow), flush=True)
        if stderr:
            problems += 1
            print(f"  stderr output in cells {stderr}", flush=True)
    print(f"total: {total:.1f} s for {len(paths)} notebooks "
          f"({'fast' if args.fast else 'full'} mode, KERAS_BACKEND="
          f"{os.environ.get('KERAS_BACKEND', 'tensorflow')})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
