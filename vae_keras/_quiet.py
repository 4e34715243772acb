"""Keeps TensorFlow's start-up log lines out of the course's output.

Importing TensorFlow prints C++ log lines to the process' stderr (oneDNN,
CUDA drivers not found, CPU instructions; ``failed call to cuInit`` on
CPU-only machines) that are not errors of the user's run; Jupyter shows
them in red under the first cell, the command line before its first line.
``TF_CPP_MIN_LOG_LEVEL`` does not reach the lines printed before
TensorFlow's logging starts, so when ``vae_keras`` is imported before
TensorFlow (the notebooks' set-up cell does that; ``python -m vae_keras``
always does), TensorFlow is imported here with stderr captured, and every
captured line that is not such start-up noise is written back unchanged.
The command line also sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless set).
"""

import contextlib
import importlib.util
import os
import sys
import tempfile

_NOISE = ("All log messages before absl::InitializeLog()", "port.cc:", "cudart_stub.cc:",
          "cpu_feature_guard.cc:", "To enable the following instructions:", "cuda_platform.cc:",
          "cuda_executor.cc:", "gpu_device.cc:")


def running_the_command_line():
    """True while ``python -m vae_keras`` or the ``vae-keras`` script starts up."""
    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first).startswith("vae-keras") \
        or first.endswith(os.path.join("vae_keras", "__main__.py"))


@contextlib.contextmanager
def quiet_native_stderr():
    """Captures file descriptor 2; on exit, writes back every line that is not start-up noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(True)
                    if not any(marker in line for marker in _NOISE)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_tensorflow_start_up():
    """Imports TensorFlow (if installed and not imported yet) without its start-up noise."""
    if "tensorflow" in sys.modules:
        return
    if running_the_command_line():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Also on other backends: keras.utils.set_random_seed, which every notebook
    # calls, imports TensorFlow too when it is installed (to seed it).
    if importlib.util.find_spec("tensorflow") is None:
        return
    with quiet_native_stderr():
        try:
            import tensorflow  # noqa: F401
        except ImportError:  # Keras will say what is missing
            pass
