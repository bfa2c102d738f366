"""Reading submitted files: only regular files, never through a link, at most a notebook's size."""

from __future__ import annotations

import os

import pytest

from course_utils.grading import collect


def test_a_regular_file_is_read_once_and_whole(tmp_path):
    path = tmp_path / "alice.ipynb"
    path.write_bytes(b'{"cells": []}')
    assert collect.read_regular_file(path) == b'{"cells": []}'


def test_links_pipes_and_huge_files_are_refused_with_the_reason(tmp_path):
    target = tmp_path / "solution.ipynb"
    target.write_text("the instructor's solution")
    (tmp_path / "link.ipynb").symlink_to(target)
    os.mkfifo(tmp_path / "pipe.ipynb")  # opening it for reading must not wait for a writer
    (tmp_path / "big.ipynb").write_bytes(b"x" * 2048)
    with pytest.raises(collect.NotARegularFile, match="symbolic link"):
        collect.read_regular_file(tmp_path / "link.ipynb")
    with pytest.raises(collect.NotARegularFile, match="not a regular file"):
        collect.read_regular_file(tmp_path / "pipe.ipynb")
    with pytest.raises(collect.NotARegularFile, match="larger than"):
        collect.read_regular_file(tmp_path / "big.ipynb", limit=1024)
    with pytest.raises(collect.NotARegularFile, match="cannot be read"):
        collect.read_regular_file(tmp_path / "missing.ipynb")


def test_a_student_folder_that_is_a_link_is_not_entered(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "mallory").mkdir(parents=True)
    (elsewhere / "mallory" / "lesson.ipynb").write_text("{}")
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "mallory").symlink_to(elsewhere / "mallory")
    found = collect.collect(submissions, "lesson")
    assert found.submissions == []
    assert len(found.skipped) == 1 and "symbolic link" in found.skipped[0][1]


def test_a_student_whose_grading_failed_gets_a_row_with_the_reason(tmp_path):
    import csv

    from course_utils.grading import command
    from tests.grading import support as gs

    course = gs.attack_course(tmp_path)
    outcome = command.Outcome(failed=[("zoe", "the kernel could not start")],
                              not_graded=[("yan", "yan.ipynb is not a notebook")])
    path = command._write_csv_if_graded(course, gs.ATTACK_LESSON, outcome)
    with open(path, newline="") as table:
        rows = {row["student"]: row for row in csv.DictReader(table)}
    assert rows["zoe"]["status"] == "not graded: grading failed (the kernel could not start)"
    assert rows["yan"]["status"] == "not graded: yan.ipynb is not a notebook" and rows["yan"]["score"] == ""
