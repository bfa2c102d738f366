"""The "Open in Colab" badge and the set-up cell of every lesson, from one setting.

The repository URL and branch live in ``pyproject.toml`` (``[project.urls]
Repository`` and ``[tool.course] branch``). ``python3 course.py generate``
stamps them into every source notebook with :func:`stamp_notebook` before
nbgrader makes the student versions, and a test (``tests/lesson/test_colab.py``) fails
if any notebook disagrees.

A course that forks the repository points its badges and set-up cells at the
fork by editing those two settings, running ``python3 course.py generate`` and
committing ``solutions/`` and ``notebooks/``; the badges then open the fork's
notebooks in Colab and the set-up cells install the fork's ``course_utils``.

The set-up cell also carries the version of the course package it was generated
with (``course_utils.__version__``). On Colab it installs exactly that version, from
the git tag ``v<version>`` of that repository (a tag, not a commit id: a notebook
cannot contain the id of the commit that contains it; ``python3 course.py release``
makes the tag), quietly, and only what Colab lacks: ``--upgrade-strategy
only-if-needed`` keeps every package Colab already has (numpy, matplotlib, ...)
whenever its version satisfies the course. Everywhere, it then checks that the
imported ``course_utils.__version__`` is the stamped one, and stops with the fix
when not (locally: bring the course folder to that version; on Colab: restart the
session). Then it calls
:func:`course_utils.lesson.setup.prepare`: the model folder, the model check,
and fast failure of later model loads when models are missing. Whether it runs
on Colab is decided by the same test as :func:`course_utils.models.environment.on_colab`,
written out in the cell because the cell runs before the course package is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

from course_utils import __version__
from course_utils.models.environment import COLAB_MODULE
from course_utils.models.lessons import LESSON_MODELS, lesson_models

__all__ = ["BADGE_IMAGE", "DISTRIBUTION", "PACKAGE", "SETUP_CELL_ID", "SETUP_TEMPLATE", "badge_markdown",
           "check_branch", "check_version", "github_path", "notebook_version", "setup_cell_source", "stamp_notebook",
           "stamp_problems"]

SETUP_CELL_ID = "course-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")

#: Distribution name of the course package (what pip installs) and its import name.
DISTRIBUTION = "course-utils"
PACKAGE = "course_utils"

SETUP_TEMPLATE = '''\
# Set-up: run this cell first. On Google Colab it installs the course package, the version
# this notebook was made with (once per session, keeping Colab's own numpy and matplotlib);
# everywhere, it checks that the course package is that version and that this lesson's models
# can be loaded (locally they are kept in a folder that survives a reboot), and says what to
# do if not.
COURSE_REPOSITORY = "{repository}"
COURSE_VERSION = "{version}"
import importlib.metadata, importlib.util, subprocess, sys
try:
    ON_COLAB = importlib.util.find_spec("{colab_module}") is not None
except ModuleNotFoundError:  # not even its parent package: not Colab
    ON_COLAB = False
if ON_COLAB and (importlib.util.find_spec("{package}") is None
                 or importlib.metadata.version("{distribution}") != COURSE_VERSION):
    print(f"Installing version {{COURSE_VERSION}} of the course package (a minute or so) ...")
    # From the release's tag v<version>: a notebook cannot name the commit that contains it.
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                          "--upgrade-strategy", "only-if-needed",
                          f"{distribution} @ git+{{COURSE_REPOSITORY}}@v{{COURSE_VERSION}}"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError("Installing the course package failed. pip said:\\n"
                           + pip.stderr + pip.stdout)
    importlib.invalidate_caches()
import {package}
if getattr({package}, "__version__", None) != COURSE_VERSION:
    raise RuntimeError(
        f"This notebook was made for version {{COURSE_VERSION}} of the course package, but "
        f"version {{getattr({package}, '__version__', 'unknown')}} is loaded. Fix: " + (
            "Runtime > Restart session, then run this cell again." if ON_COLAB else
            "bring the course folder to the notebook's version (`git pull`, or "
            f"`git checkout v{{COURSE_VERSION}}`) or open the lesson from the course folder's "
            "notebooks/ instead; then run `python3 course.py start` again and run this "
            "cell again."))
from {package}.lesson.setup import prepare
prepare("{lesson}")'''


def github_path(repository: str) -> str:
    """``owner/name`` of a GitHub repository URL; ValueError for anything else (Colab opens GitHub only)."""
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository)
    if not match:
        raise ValueError(f"repository must look like https://github.com/<owner>/<name>, got {repository!r}")
    return f"{match.group(1)}/{match.group(2)}"


def badge_markdown(repository: str, branch: str, lesson: str) -> str:
    """Markdown of the badge that opens ``notebooks/<lesson>/<lesson>.ipynb`` of ``branch`` in Colab."""
    check_branch(branch)
    url = (f"https://colab.research.google.com/github/{github_path(repository)}/blob/{branch}"
           f"/notebooks/{lesson}/{lesson}.ipynb")
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


def check_branch(branch: str) -> str:
    """``branch`` if it is a plain git branch or tag name; ValueError otherwise."""
    if not re.fullmatch(r"[\w][\w./-]*", branch) or ".." in branch or branch.endswith((".", "/", ".lock")):
        raise ValueError(f"branch must be a plain git branch or tag name, got {branch!r}")
    return branch


def check_version(version: str) -> str:
    """``version`` if it is a release number such as ``0.2.0`` (its tag: ``v<version>``); ValueError otherwise."""
    if not re.fullmatch(r"\d+(\.\d+)*((a|b|rc|\.post|\.dev)\d+)?", version):
        raise ValueError(f"version must be a release number such as 0.2.0, got {version!r}")
    return version


def setup_cell_source(repository: str, version: str = __version__, *, lesson: str) -> str:
    """Source of the first code cell of lesson ``lesson`` (its folder name), for the course package ``version``.

    ValueError for a bad repository or version, or a lesson without a row in
    :data:`course_utils.models.lessons.LESSON_MODELS` (the models its set-up cell checks).
    """
    github_path(repository)
    check_version(version)
    lesson_models(lesson)
    return SETUP_TEMPLATE.format(repository=repository, version=version, colab_module=COLAB_MODULE,
                                 package=PACKAGE, distribution=DISTRIBUTION, lesson=lesson)


def notebook_version(notebook) -> str | None:
    """The course package version a lesson's set-up cell was stamped with (None if it names none)."""
    for cell in notebook.cells:
        if cell.get("id") == SETUP_CELL_ID:
            match = re.search(r'^COURSE_VERSION = "([^"]*)"$', cell.source, re.M)
            return match.group(1) if match else None
    return None


def stamp_problems(notebook, repository: str, branch: str, lesson: str, version: str = __version__) -> list[str]:
    """What in ``notebook`` (an nbformat node) disagrees with the setting and version; empty when all agree."""
    problems = []
    setup = [cell for cell in notebook.cells if cell.get("id") == SETUP_CELL_ID]
    if len(setup) != 1:
        problems.append(f"expected one set-up cell with id {SETUP_CELL_ID!r}, found {len(setup)}")
    elif notebook_version(notebook) != version:
        problems.append(f"the set-up cell is stamped with version {notebook_version(notebook)}, not {version}")
    elif lesson not in LESSON_MODELS:
        problems.append(f"lesson {lesson!r} has no row in course_utils/models/lessons.py (LESSON_MODELS): add the "
                        "models its cells load there")
    elif setup[0].source != setup_cell_source(repository, version, lesson=lesson):
        problems.append("the set-up cell differs from the template for this repository and version")
    elif notebook.cells.index(setup[0]) != next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code"):
        problems.append("the set-up cell is not the first code cell")
    badges = [b for cell in notebook.cells if cell.cell_type == "markdown" for b in _BADGE.findall(cell.source)]
    if badges != [badge_markdown(repository, branch, lesson)]:
        problems.append(f"expected one Colab badge for {lesson}, found {badges}")
    return problems


def stamp_notebook(path: Path, repository: str, branch: str, version: str = __version__) -> bool:
    """Write the badge and the set-up cell (for ``version``) into the notebook at ``path``; True if it changed.

    The lesson name is the notebook's folder name. The badge replaces an existing
    one in the first markdown cell, or is added at its end.
    """
    import nbformat

    path = Path(path)
    lesson = path.parent.name
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    for cell in notebook.cells:
        if cell.get("id") == SETUP_CELL_ID:
            cell.source = setup_cell_source(repository, version, lesson=lesson)
    first_markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    badge = badge_markdown(repository, branch, lesson)
    if _BADGE.search(first_markdown.source):
        first_markdown.source = _BADGE.sub(badge.replace("\\", "\\\\"), first_markdown.source)
    else:
        first_markdown.source = first_markdown.source.rstrip() + "\n\n" + badge
    after = nbformat.writes(notebook)
    if after != before:
        path.write_text(after + ("" if after.endswith("\n") else "\n"), encoding="utf-8")
    return after != before
