"""One lesson's results for the whole class, read from the gradebook and the stored grading records only.

The class report and the exports are built from this, so both can be rebuilt at any time
without grading again (``course.py report`` / ``course.py export``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grading.gradebook import late_columns, read_record
from course_utils.grading.nbgrader_course import open_gradebook

__all__ = ["LessonResults", "StudentResult", "graded_lessons", "lesson_results"]


@dataclass
class StudentResult:
    """One graded submission: ``score`` is the gradebook's (raw) score, ``final`` after the late penalty;
    ``tests`` {test grade_id: points}; ``record`` the grading record (checks, report, late)."""

    student: str
    score: float
    max_score: float
    tests: dict[str, float]
    record: dict = field(default_factory=dict)
    days_late: int = 0
    penalty: float = 0.0

    @property
    def final(self) -> float:
        return round(self.score - self.penalty, 2)


@dataclass
class LessonResults:
    """The graded submissions of one lesson, by student id, and the lesson's points per test cell."""

    lesson: str
    students: dict[str, StudentResult]
    points: dict[str, float]

    @property
    def max_score(self) -> float:
        return sum(self.points.values())


def lesson_results(course: Path, lesson: str) -> LessonResults:
    """Every graded submission of ``lesson`` in the course's gradebook, with its grading record.

    Raises:
        ValueError: the course has no gradebook, or ``lesson`` was never graded in it.
    """
    course = Path(course)
    if not (course / "gradebook.db").is_file():
        raise ValueError(f"{course} has no gradebook.db: grade the lesson first (python3 course.py grade ...)")
    with open_gradebook(course) as gradebook:
        names = {assignment.name for assignment in gradebook.assignments}
        if lesson not in names:
            raise ValueError(f"lesson {lesson!r} was never graded in {course} "
                             f"(graded: {', '.join(sorted(names)) or 'none'})")
        assignment = gradebook.find_assignment(lesson)
        points = {cell.name: float(cell.max_score) for notebook in assignment.notebooks
                  for cell in notebook.grade_cells}
        students = {}
        for submission in gradebook.assignment_submissions(lesson):
            student = submission.student.id
            tests = {grade.name: float(grade.score or 0) for notebook in submission.notebooks
                     for grade in notebook.grades}
            students[student] = StudentResult(student, float(submission.score), float(submission.max_score), tests)
    for student, result in students.items():
        result.record = read_record(course, lesson, student)
        late = late_columns(result.record, result.score)
        result.days_late, result.penalty = late.get("days_late", 0), late.get("late_penalty", 0.0)
    return LessonResults(lesson, dict(sorted(students.items())), dict(sorted(points.items())))


def graded_lessons(course: Path) -> list[str]:
    """The lessons with graded submissions in the course's gradebook (sorted; [] without a gradebook)."""
    if not (Path(course) / "gradebook.db").is_file():
        return []
    with open_gradebook(course) as gradebook:
        return sorted(a.name for a in gradebook.assignments if gradebook.assignment_submissions(a.name))
