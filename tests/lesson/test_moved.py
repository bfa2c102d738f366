"""Lesson 5 was split in two: the old Colab link and the old ``grade`` command still say where to go."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import nbformat
import pytest

from course_utils.grading import command
from course_utils.lesson.colab import badge_markdown
from course_utils.lesson.moved import MOVED_LESSONS, moved_lesson_message, pointer_notebook
from tests.grading.support import ROOT

SETTING = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPOSITORY, BRANCH = SETTING["project"]["urls"]["Repository"], SETTING["tool"]["course"]["branch"]


@pytest.mark.parametrize("old", sorted(MOVED_LESSONS))
def test_the_new_lessons_exist_and_the_old_one_is_no_graded_lesson(old):
    for new in MOVED_LESSONS[old]:
        assert (ROOT / "solutions" / new / f"{new}.ipynb").exists(), new
        assert (ROOT / "notebooks" / new / f"{new}.ipynb").exists(), new
    assert not (ROOT / "solutions" / old).exists(), "a moved lesson must not be graded under its old name"


@pytest.mark.parametrize("old", sorted(MOVED_LESSONS))
def test_the_committed_pointer_is_what_generate_writes_and_links_every_new_lesson(old):
    path = ROOT / "notebooks" / old / f"{old}.ipynb"
    committed = nbformat.read(path, as_version=4)
    assert committed == pointer_notebook(old, REPOSITORY, BRANCH), "run `python3 course.py generate` and commit it"
    assert [cell.cell_type for cell in committed.cells] == ["markdown"], "the pointer runs no code"
    text = committed.cells[0].source
    for new in MOVED_LESSONS[old]:
        assert badge_markdown(REPOSITORY, BRANCH, new) in text
        assert f"notebooks/{new}/{new}.ipynb" in text


def test_the_pointer_follows_a_fork_setting():
    fork = pointer_notebook("05-first-stages", "https://github.com/some-university/fork", "spring")
    assert "github/some-university/fork/blob/spring/notebooks/05b-muvera-candidates/" in fork.cells[0].source
    with pytest.raises(KeyError):
        pointer_notebook("01-late-interaction-basics", REPOSITORY, BRANCH)


def test_grading_the_old_name_explains_the_split(tmp_path):
    with pytest.raises(ValueError) as raised:
        command.grade(tmp_path, "05-first-stages", tmp_path, jobs=1)
    assert str(raised.value) == moved_lesson_message("05-first-stages")
    for new in MOVED_LESSONS["05-first-stages"]:
        assert new in str(raised.value)


def test_the_command_line_prints_the_split_and_fails(tmp_path):
    done = subprocess.run([sys.executable, "-m", "course_utils", "grade", "05-first-stages", str(tmp_path),
                           "--course", str(ROOT)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode != 0
    assert "05a-hybrid-first-stages" in done.stdout + done.stderr
    assert "05b-muvera-candidates" in done.stdout + done.stderr
