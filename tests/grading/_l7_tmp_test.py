import pytest
from tests.grading import test_grading_pipeline as p
from tests.grading import support as gs
from course_utils.grading import command

LESSON = "07-visual-documents"

def test_lesson7_grading(tmp_path):
    course = gs.new_course(tmp_path / "course")
    submissions = p.lesson_submissions(LESSON)
    folder = gs.submissions_folder(tmp_path / "subs", {s: nb for s, (nb, _) in submissions.items()}, LESSON)
    outcome = command.grade(course, LESSON, folder, jobs=2, timeout=p.CELL_TIMEOUT, echo=lambda *a: None)
    print(outcome)
    import csv
    rows = list(csv.DictReader(open(course / "grades.csv"))) if (course / "grades.csv").exists() else []
    print(rows[:10])
    print({s: sc for s, (_, sc) in submissions.items()})
