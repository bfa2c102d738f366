"""The "Open in Colab" badge and the set-up cell of every lesson, from one setting.

The repository URL and branch live in ``pyproject.toml`` (``[project.urls]
Repository`` and ``[tool.course] branch``). ``python3 course.py generate``
stamps them into every source notebook with :func:`stamp_notebook` before
nbgrader makes the student versions, and a test (``tests/test_colab.py``) fails
if any notebook disagrees.

A course that forks the repository points its badges and set-up cells at the
fork by editing those two settings, running ``python3 course.py generate`` and
committing ``solutions/`` and ``notebooks/``; the badges then open the fork's
notebooks in Colab and the set-up cells install the fork's ``course_utils``.

On Colab the set-up cell installs the course package with pip from that
repository, quietly, and only what Colab lacks: ``--upgrade-strategy
only-if-needed`` keeps every package Colab already has (numpy, matplotlib, ...)
whenever its version satisfies the course. Everywhere, it then calls
:func:`course_utils.lesson.setup.prepare`: the model folder, the model check,
and fast failure of later model loads when models are missing. Whether it runs
on Colab is decided by the same test as :func:`course_utils.models.environment.on_colab`,
written out in the cell because the cell runs before the course package is installed.
"""

from __future__ import annotations

import re
from pathlib import Path

from course_utils.models.environment import COLAB_MODULE

__all__ = ["BADGE_IMAGE", "DISTRIBUTION", "PACKAGE", "SETUP_CELL_ID", "SETUP_TEMPLATE", "badge_markdown",
           "check_branch", "github_path", "setup_cell_source", "stamp_notebook", "stamp_problems"]

SETUP_CELL_ID = "course-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")

#: Distribution name of the course package (what pip installs) and its import name.
DISTRIBUTION = "course-utils"
PACKAGE = "course_utils"

SETUP_TEMPLATE = '''\
# Set-up: run this cell first. On Google Colab it installs the course package (once per
# session, keeping Colab's own numpy and matplotlib); everywhere, it checks that the course's
# models can be loaded (locally they are kept in a folder that survives a reboot) and says
# what to do if they cannot.
COURSE_REPOSITORY = "{repository}"
COURSE_BRANCH = "{branch}"
import importlib.util, subprocess, sys
ON_COLAB = importlib.util.find_spec("{colab_module}") is not None
if ON_COLAB and importlib.util.find_spec("{package}") is None:
    print("Installing the course package (a minute or so) ...")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade-strategy", "only-if-needed",
                          f"{distribution} @ git+{{COURSE_REPOSITORY}}@{{COURSE_BRANCH}}"],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError("Installing the course package failed. pip said:\\n" + pip.stderr + pip.stdout)
    importlib.invalidate_caches()
from {package}.lesson_setup import prepare
prepare()'''


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


def setup_cell_source(repository: str, branch: str) -> str:
    """Source of the first code cell of every lesson (ValueError for a bad repository or branch)."""
    github_path(repository)
    check_branch(branch)
    return SETUP_TEMPLATE.format(repository=repository, branch=branch, colab_module=COLAB_MODULE,
                                 package=PACKAGE, distribution=DISTRIBUTION)


def stamp_problems(notebook, repository: str, branch: str, lesson: str) -> list[str]:
    """What in ``notebook`` (an nbformat node) disagrees with the setting; empty when all agree."""
    problems = []
    setup = [cell for cell in notebook.cells if cell.get("id") == SETUP_CELL_ID]
    if len(setup) != 1:
        problems.append(f"expected one set-up cell with id {SETUP_CELL_ID!r}, found {len(setup)}")
    elif setup[0].source != setup_cell_source(repository, branch):
        problems.append("the set-up cell differs from the template for this repository and branch")
    elif notebook.cells.index(setup[0]) != next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code"):
        problems.append("the set-up cell is not the first code cell")
    badges = [b for cell in notebook.cells if cell.cell_type == "markdown" for b in _BADGE.findall(cell.source)]
    if badges != [badge_markdown(repository, branch, lesson)]:
        problems.append(f"expected one Colab badge for {lesson}, found {badges}")
    return problems


def stamp_notebook(path: Path, repository: str, branch: str) -> bool:
    """Write the badge and the set-up cell into the notebook at ``path``; return True if it changed.

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
            cell.source = setup_cell_source(repository, branch)
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
