"""nbval settings for the course notebooks.

``pytest --nbval`` from the repository root runs every notebook in the
current Python environment, in fast mode unless VAE_KERAS_FAST is set,
with outputs sanitised by nbval_sanitize.cfg and stderr not compared
(TensorFlow and Keras print build-dependent warnings there).
"""

import os
from pathlib import Path

# Set before any kernel starts: kernels inherit this process' environment.
os.environ.setdefault("VAE_KERAS_FAST", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The committed outputs hold inline figures; a headless MPLBACKEND such as
# Agg (common in CI) would make kernels print no figures and fail the
# comparison, so the kernels always get the inline backend.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

SANITIZE_FILE = Path(__file__).with_name("nbval_sanitize.cfg")


def pytest_configure(config):
    if hasattr(config.option, "nbval_current_env"):
        config.option.nbval_current_env = True
        if not config.option.nbval_sanitize_with:
            config.option.nbval_sanitize_with = str(SANITIZE_FILE)


def pytest_collectstart(collector):
    # nbval's notebook collector compares outputs key by key; adding
    # "stderr" to its skip list ignores warnings printed there.
    if getattr(collector, "path", None) is not None and collector.path.suffix == ".ipynb":
        collector.skip_compare = tuple(collector.skip_compare) + ("stderr",)
