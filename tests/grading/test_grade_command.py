"""``python -m course_utils grade``: a whole class in one command.

The attack suite is in test_grade_attacks.py; every lesson is graded by the command in test_grading_pipeline.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys


from course_utils.grading import command
from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSON, TIMEOUT, feedback_text, new_course = gs.ATTACK_LESSON, gs.TIMEOUT, gs.feedback_text, gs.attack_course


def lms_name(student: str, stamp: str) -> str:
    return f"{LESSON}_{student}_attempt_{stamp}_{LESSON}.ipynb"


def test_flat_lms_folder_with_unreadable_files(tmp_path):
    course = new_course(tmp_path)
    reference = gs.ROOT  # the committed student versions: what nbgrader generates
    folder = tmp_path / "downloaded"
    folder.mkdir()
    nb.write(gs.solved_notebook(reference, LESSON), folder / lms_name("ann", "2026-01-05-10-00-00"))
    nb.write(gs.student_notebook(reference, LESSON), folder / lms_name("ann", "2026-01-04-10-00-00"))  # older
    nb.write(gs.solved_notebook(reference, LESSON, wrong={"ex1-answer"}),
             folder / lms_name("ben", "2026-01-05-11-00-00"))
    (folder / lms_name("cat", "2026-01-05-12-00-00")).write_text("{not json")
    other = next(lesson for lesson in gs.lessons() if lesson != LESSON)
    nb.write(gs.student_notebook(reference, other), folder / lms_name("dan", "2026-01-05-13-00-00"))
    (folder / "notes.txt").write_text("not a notebook")
    outcome = command.grade(course, LESSON, folder, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    assert gs.gradebook_scores(course, LESSON) == {"ann": 10.0, "ben": 7.0}
    reasons = dict(outcome.skipped)
    assert "not a notebook" in reasons[lms_name("cat", "2026-01-05-12-00-00")]
    assert "another lesson" in reasons[lms_name("dan", "2026-01-05-13-00-00")]
    assert "notes.txt" in reasons
    csv_text = command.write_csv(course).read_text()
    assert csv_text.splitlines()[0].startswith("student,lesson,score,max_score,")
    assert "ann,01-late-interaction-basics,10.0,10.0,graded,3.0,2.0,3.0,2.0" in csv_text


def gradebook_contents(course) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {(s.student.id, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
                for s in gradebook.assignment_submissions(LESSON) for n in s.notebooks for g in n.grades}


def test_parallel_and_serial_runs_give_identical_gradebooks_and_rerun_keeps_them(tmp_path):
    reference = gs.ROOT
    notebooks = {"part": gs.solved_notebook(reference, LESSON, wrong={"ex2-answer", "ex4-answer"}),
                 "one": gs.solved_notebook(reference, LESSON, wrong={"ex1-answer"})}
    folder = gs.submissions_folder(tmp_path / "submissions", notebooks, LESSON)
    serial, parallel = new_course(tmp_path, "serial"), new_course(tmp_path, "parallel")
    command.grade(serial, LESSON, folder, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    command.grade(parallel, LESSON, folder, jobs=2, timeout=TIMEOUT, echo=lambda *a: None)
    assert gradebook_contents(serial) == gradebook_contents(parallel)
    assert gs.gradebook_scores(serial, LESSON) == {"part": 6.0, "one": 7.0}
    set_manual_score(serial, "one", "ex1-test", 1.5)  # as an instructor would in formgrader
    before = gradebook_contents(serial)
    # a re-run grades nothing that did not change, and a forced re-grade gives the same result
    again = command.grade(serial, LESSON, folder, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    assert again.graded == [] and sorted(again.unchanged) == sorted(notebooks)
    shutil.rmtree(folder / "part")  # a student missing from a later download keeps their grade
    again = command.grade(serial, LESSON, folder, jobs=2, timeout=TIMEOUT, regrade=True, echo=lambda *a: None)
    assert again.graded == ["one"]
    assert gradebook_contents(serial) == before
    assert "Your instructor set this exercise's score to 1.5" in feedback_text(serial, "one")


def set_manual_score(course, student, test_id, score):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade(test_id, LESSON, LESSON, student)
        grade.manual_score = score
        gradebook.db.commit()


def test_zip_of_student_folders_prefers_the_lesson_notebook_and_lists_everyone(tmp_path):
    import os
    import tempfile
    import time
    import zipfile

    course = new_course(tmp_path)
    reference = gs.ROOT
    folder = tmp_path / "class"
    gs.submissions_folder(folder, {"ivan": gs.solved_notebook(reference, LESSON)}, LESSON)
    time.sleep(0.01)
    nb.write(gs.student_notebook(reference, LESSON), folder / "ivan" / "Untitled.ipynb")  # newer, blank
    (folder / "erin").mkdir()
    (folder / "erin" / f"{LESSON}.ipynb").write_text('{"cells": [')
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*.ipynb"):
            zipped.write(path, path.relative_to(folder))
    before = set(os.listdir(tempfile.gettempdir()))
    outcome = command.grade(course, LESSON, archive, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    assert gs.gradebook_scores(course, LESSON) == {"ivan": 10.0}
    reasons = dict(outcome.skipped)
    assert f"the one named {LESSON}.ipynb was graded" in reasons["class.zip: ivan/Untitled.ipynb"]
    assert "not a notebook" in reasons[f"class.zip: erin/{LESSON}.ipynb"]
    assert not any(name.startswith("course-submissions-") for name in set(os.listdir(tempfile.gettempdir())) - before)
    rows = command.write_csv(course, [(s, LESSON, why) for s, why in outcome.not_graded]).read_text().splitlines()
    assert any(row.startswith(f"erin,{LESSON},,,not graded: class.zip: erin/") for row in rows)
    assert any(row.startswith(f"ivan,{LESSON},10.0,10.0,graded,") for row in rows)


def test_command_line_reports_bad_arguments_plainly(tmp_path):
    course = new_course(tmp_path)
    run = subprocess.run([sys.executable, "-m", "course_utils", "grade", "no-such-lesson", str(tmp_path),
                          "--course", str(course)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "no lesson 'no-such-lesson'" in run.stdout and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "course_utils", "grade", LESSON, str(tmp_path / "missing"),
                          "--course", str(course)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "does not exist" in run.stdout


def test_gradebook_schema_version_is_what_alembic_heads_prints():
    """The in-process look-up that spares each new gradebook an ``alembic heads`` process gives nbgrader's answer."""
    from nbgrader.dbutil import _temp_alembic_ini

    from course_utils.grading.nbgrader_course import gradebook_schema_version

    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        printed = subprocess.run([str(gs.BIN / "alembic"), "-c", ini, "heads"], capture_output=True, text=True,
                                 check=True).stdout
    assert gradebook_schema_version() == printed.split("\n")[0].split(" ")[0]
