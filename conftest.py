"""Test-session set-up shared by the whole suite.

- Builds the offline stand-in models into a temporary fastembed cache and points
  ``FASTEMBED_CACHE_PATH`` there with ``HF_HUB_OFFLINE=1``, so that every test,
  notebook kernel and nbgrader run in this session loads them (``--real-models``
  uses the real models instead, for a maintainer with network access).
- Gives every process it starts (notebook kernels, the grader's sandboxed kernels) one BLAS thread:
  the suite runs two workers, each running kernels and grading jobs, on two cores, and BLAS threads
  that wait by spinning take the cores the other processes need (``OMP_NUM_THREADS`` and friends;
  set one yourself to override).
- Collects the notebooks in ``solutions/`` and ``notebooks/`` and runs them with
  nbval (see ``tests/notebook_items.py`` for how their cells are checked).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
_STANDIN_ENV = "COURSE_STANDIN_CACHE"
#: Set to 1 for the session unless already set (see the module docstring); the grading sandbox keeps them.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_addoption(parser):
    parser.addoption("--real-models", action="store_true", default=bool(os.environ.get("COURSE_REAL_MODELS")),
                     help="run against the real models from the model hub (needs network or a filled cache) "
                          "instead of the offline stand-ins; also set by COURSE_REAL_MODELS=1")


def pytest_configure(config):
    from course_utils.models.environment import QDRANT_SERVER_SETTINGS

    for name in QDRANT_SERVER_SETTINGS:  # tests use Qdrant's embedded mode, never a server a maintainer has set up
        os.environ.pop(name, None)
    os.environ["MPLBACKEND"] = "Agg"
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    config.option.nbval_current_env = True
    # the suite runs notebooks while grading tests run theirs: on two busy cores a kernel can take
    # more than nbval's default minute to start
    if config.option.nbval_kernel_startup_timeout == 60:
        config.option.nbval_kernel_startup_timeout = 240
    if config.getoption("real_models"):
        os.environ["COURSE_REAL_MODELS"] = "1"
        return
    folder = os.environ.get(_STANDIN_ENV)
    if not folder:  # the main process; pytest-xdist workers inherit its folder
        from course_utils.models.standins import build_standin_cache

        folder = tempfile.mkdtemp(prefix="course-standin-models-")
        build_standin_cache(folder)
        os.environ[_STANDIN_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.environ["FASTEMBED_CACHE_PATH"] = folder
    os.environ["HF_HUB_OFFLINE"] = "1"


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".ipynb" and file_path.parent.parent.name in ("solutions", "notebooks") \
            and file_path.parent.parent.parent == ROOT and ".ipynb_checkpoints" not in file_path.parts:
        from tests.notebook_items import CourseNotebook

        return CourseNotebook.from_parent(parent, path=file_path)
    return None
