"""nbgrader course directories: the instructor's, and the private grading copies the workers use.

The instructor's course directory (this repository) keeps the gradebook,
``submitted/``, ``autograded/`` and ``feedback/``. Grading itself runs in
private copies whose source notebook holds no solutions and no hidden expected
values: only the student version with the grader's test cells
(see :mod:`course_utils.grading.trusted`).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_utils.grading import notebooks as nb
from course_utils.grading import capstone, trusted

#: Settings every grading copy adds to the course's nbgrader_config.py.
GRADING_CONFIG = """
# --- added for a grading copy by course_utils.grading ---
c.OverwriteCells.add_missing_cells = True
c.Execute.timeout = {timeout}
# a cell that runs too long raises, and course_utils.grading.execution interrupts it and goes on
c.Execute.interrupt_on_timeout = False
# on a busy machine a kernel can be slow to start or to send a cell's last output: be patient
c.Execute.startup_timeout = 120
c.Execute.iopub_timeout = 30
# one pass with time, output and check records handled by the grader; kernels in the grading sandbox
# when the worker activated one (course_utils.grading.sandbox)
from course_utils.grading.execution import autograde_preprocessors
c.Autograde.autograde_preprocessors = autograde_preprocessors()
"""


def source_notebook_path(course: Path, lesson: str) -> Path:
    return Path(course) / "solutions" / lesson / f"{lesson}.ipynb"


@functools.lru_cache(maxsize=1)
def gradebook_schema_version() -> str:
    """The newest version of nbgrader's gradebook schema: what ``nbgrader.api.get_alembic_version`` returns.

    nbgrader finds it by running the ``alembic heads`` command each time it creates a gradebook
    (every ``grade`` run creates one for its grading copy): a new Python process that takes
    seconds on a busy machine. This reads the same migration scripts once, in this process.
    """
    import nbgrader.dbutil
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", nbgrader.dbutil.ALEMBIC_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"nbgrader's gradebook schema has {len(heads)} newest versions ({heads}); expected one")
    return heads[0]


def _skip_alembic_subprocess() -> None:
    import nbgrader.api

    nbgrader.api.get_alembic_version = gradebook_schema_version


def nbgrader_api(root: Path):
    """nbgrader's Python API for the course directory ``root`` (its nbgrader_config.py applied).

    nbgrader runs the ``alembic`` command to migrate an old gradebook, found on PATH: this
    environment's scripts folder is put first so that it is always the right one. A new
    gradebook's schema version comes from :func:`gradebook_schema_version` instead.
    """
    scripts = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != scripts:
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    _skip_alembic_subprocess()
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (Path(root) / "nbgrader_config.py").exists():
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    config.Application.log_level = logging.WARNING
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def open_gradebook(root: Path):
    """nbgrader's gradebook of the course directory ``root`` (use as a context manager)."""
    from nbgrader.api import Gradebook

    _skip_alembic_subprocess()
    return Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}")


def run_quietly(operation, *args, **kwargs) -> dict:
    """Call an NbGraderAPI method, keeping its console output out of the grader's screen."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return operation(*args, **kwargs)


@dataclass
class GradingSetup:
    """What grading one lesson needs: the student version, the trusted checks, a template copy."""

    lesson: str
    release: object
    test_cells: dict[str, trusted.TestCell]
    template: Path


def register_and_release(course: Path, lesson: str, into: Path):
    """Record ``lesson`` in the instructor's gradebook and generate its student version into ``into``.

    Uses ``nbgrader generate_assignment`` with the release folder redirected, so
    the committed ``notebooks/`` is not touched.

    Returns:
        the student version (nbformat node).
    """
    api = nbgrader_api(course)
    api.coursedir.release_directory = str(Path(into).resolve())
    result = run_quietly(api.generate_assignment, lesson, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader could not generate {lesson}:\n{result.get('error') or result.get('log')}")
    return nb.read(Path(into) / lesson / f"{lesson}.ipynb")


def grading_notebook(release, source, cells: dict[str, trusted.TestCell]):
    """The student version with each test cell replaced by its grading version."""
    graded = copy.deepcopy(release)
    originals = nb.test_cells(source)
    for grade_id, cell in nb.test_cells(graded).items():
        cell.source = capstone.grading_source(cells[grade_id]) if cells[grade_id].capstone is not None else \
            trusted.grading_source(cells[grade_id], originals[grade_id].source)
    return graded


def prepare(course: Path, lesson: str, timeout: int) -> GradingSetup:
    """Register the lesson, read its checks, and build the template grading copy.

    Raises:
        ValueError: unknown lesson, or a test cell whose checks cannot be verified.
    """
    course = Path(course)
    source_path = source_notebook_path(course, lesson)
    if not source_path.exists():
        known = sorted(p.name for p in (course / "solutions").iterdir() if p.is_dir()) \
            if (course / "solutions").is_dir() else []
        raise ValueError(f"no lesson {lesson!r} in {course / 'solutions'} (lessons: {', '.join(known) or 'none'})")
    source = nb.read(source_path)
    cells = trusted.parse_test_cells(source)
    capstone.attach(cells, source_path.parent)
    scratch = Path(tempfile.mkdtemp(prefix="course-grading-"))
    release = register_and_release(course, lesson, scratch / "release")
    template = scratch / "template"
    (template / "solutions" / lesson).mkdir(parents=True)
    config = (course / "nbgrader_config.py").read_text() if (course / "nbgrader_config.py").exists() else \
        "c = get_config()\n"
    (template / "nbgrader_config.py").write_text(config + GRADING_CONFIG.format(timeout=int(timeout)))
    for item in source_path.parent.iterdir():  # data files a lesson ships next to its notebook
        if item.name not in (source_path.name, capstone.HELDOUT) and not item.name.startswith("."):
            copy = shutil.copytree if item.is_dir() else shutil.copy2
            copy(item, template / "solutions" / lesson / item.name)
    nb.write(grading_notebook(release, source, cells), template / "solutions" / lesson / f"{lesson}.ipynb")
    result = run_quietly(nbgrader_api(template).generate_assignment, lesson, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"nbgrader could not prepare the grading copy:\n{result.get('error')}")
    return GradingSetup(lesson, release, cells, template)
