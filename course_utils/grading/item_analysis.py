"""The class report's numbers: score spread, per exercise, per check (item analysis), from stored results only.

Input: :class:`course_utils.grading.class_results.LessonResults` (gradebook and grading records)
and the lesson's checks (:func:`course_utils.grading.trusted.parse_test_cells` of the source
notebook). Nothing here reruns a notebook.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from course_utils.grading.check_results import NOT_ATTEMPTED
from course_utils.grading.trusted import TestCell

__all__ = ["CheckStats", "ExerciseStats", "LessonStats", "analyse"]

#: How many of the most common wrong answers the report lists per check.
TOP_ANSWERS = 3


@dataclass
class ExerciseStats:
    """One exercise (test cell): its points, mean points, shares of students with full / partial / zero points,
    and the share who left it unsolved (every check raised NotImplementedError)."""

    test_id: str
    name: str
    points: float
    mean: float
    full: float
    partial: float
    zero: float
    unsolved: float


@dataclass
class CheckStats:
    """One check: ``label`` (``ex1-test, visible check 2``, numbered as the feedback numbers them), its code,
    how many submissions recorded a result for it (``seen``) and failed it, and the most common wrong answers
    [(answer, count)]."""

    check_id: str
    label: str
    code: str
    hidden: bool
    seen: int
    failed: int
    wrong: list[tuple[str, int]] = field(default_factory=list)

    @property
    def share_failed(self) -> float:
        return self.failed / self.seen if self.seen else 0.0


@dataclass
class LessonStats:
    """The lesson's scores (final, after late penalties) and the tables of the report; ``without_checks``: how
    many submissions were graded before per-check results were kept (not in the per-check table)."""

    lesson: str
    scores: dict[str, float]
    max_score: float
    exercises: list[ExerciseStats]
    checks: list[CheckStats]
    late: dict[str, tuple[int, float]]
    without_checks: int = 0

    @property
    def mean(self) -> float:
        return statistics.mean(self.scores.values()) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores.values()) if self.scores else 0.0


def _check_code(check) -> str:
    """The check as the instructor wrote it (hidden ones too: only the instructor sees the report)."""
    return f"check({check.call}, {check.expected!r})"


def _checks(cells: dict[str, TestCell], records: list[dict]) -> list[CheckStats]:
    found = []
    for test_id, cell in cells.items():
        if cell.capstone is not None:
            found += _capstone_lines(test_id, records)
            continue
        numbers = {True: 0, False: 0}
        for check in cell.checks:
            numbers[check.hidden] += 1
            kind = "hidden" if check.hidden else "visible"
            results = [record["checks"][check.check_id] for record in records
                       if check.check_id in record.get("checks", {})]
            wrong = Counter(r["answer"] for r in results if not r["passed"] and r["answer"] != NOT_ATTEMPTED)
            found.append(CheckStats(check.check_id, f"{test_id}, {kind} check {numbers[check.hidden]}",
                                    _check_code(check), check.hidden, len(results),
                                    sum(not r["passed"] for r in results),
                                    wrong.most_common(TOP_ANSWERS)))
    return sorted(found, key=lambda c: (-c.share_failed, -c.failed, c.check_id))


#: What the report calls the capstone's rubric lines (its held-out cell has no checks: each line stands for one).
RUBRIC_LINES = {"beats_bm25": "above BM25 (held-out nDCG@10)", "beats_dense_colbert": "above dense -> ColBERT",
                "bytes_per_passage": "bytes budget", "query_time_ratio": "time budget",
                "build_seconds": "build budget"}


#: Words of the feedback sentence that says why a rubric line was lost (course_utils.grading.capstone.verdict).
_LINE_WORDS = {"beats_bm25": "the BM25 baseline's", "beats_dense_colbert": "the dense -> ColBERT baseline's",
               "bytes_per_passage": "bytes stored per passage", "query_time_ratio": "time per query",
               "build_seconds": "s to build"}


def _reason(failures: list[str], line: str) -> str:
    """The feedback sentence about ``line``, else the run's first (why it produced no numbers at all)."""
    return next((failure for failure in failures if _LINE_WORDS[line] in failure),
                next((f for f in failures if f.startswith("the budget points count only")), failures[0])
                if line in ("bytes_per_passage", "query_time_ratio", "build_seconds") and
                any("is not above" in f for f in failures) else failures[0])


def _capstone_lines(test_id: str, records: list[dict]) -> list[CheckStats]:
    """The capstone's held-out cell as one row per rubric line: ``failed`` = submissions that did not earn the
    line's points, ``wrong`` = the feedback's sentences saying why (most common first)."""
    found = []
    verdicts = [record["verdicts"][test_id] for record in records if test_id in record.get("verdicts", {})]
    for line, words in RUBRIC_LINES.items():
        lost = [v for v in verdicts if not (v.get("details", {}).get("points", {}).get(line, 0) > 0)]
        reasons = Counter(_reason(v.get("failures") or ["no reason recorded"], line)[:80] for v in lost)
        found.append(CheckStats(f"{test_id}/{line}", f"held-out rubric: {words}", "held-out run (grader)", True,
                                len(verdicts), len(lost), reasons.most_common(5)))
    return found


def _unsolved(cell: TestCell, record: dict) -> bool:
    if cell.capstone is not None:  # the held-out run says why it stopped: the blank raises NotImplementedError
        failures = record.get("verdicts", {}).get(cell.test_id, {}).get("failures", [])
        return any("NotImplementedError" in failure for failure in failures)
    outcomes = [record.get("checks", {}).get(check.check_id) for check in cell.checks]
    return bool(outcomes) and all(o is not None and o["answer"] == NOT_ATTEMPTED for o in outcomes)


def analyse(results, cells: dict[str, TestCell]) -> LessonStats:
    """The report's numbers for ``results`` (:class:`course_utils.grading.class_results.LessonResults`)."""
    students = list(results.students.values())
    count = len(students) or 1
    exercises = []
    for test_id, cell in cells.items():
        points = results.points.get(test_id, cell.points)
        got = [s.tests.get(test_id, 0.0) for s in students]
        exercises.append(ExerciseStats(
            test_id, cell.name, points, statistics.mean(got) if got else 0.0,
            sum(g >= points > 0 for g in got) / count, sum(0 < g < points for g in got) / count,
            sum(g <= 0 for g in got) / count, sum(_unsolved(cell, s.record) for s in students) / count))
    return LessonStats(results.lesson, {s.student: s.final for s in students}, results.max_score, exercises,
                       _checks(cells, [s.record for s in students]),
                       {s.student: (s.days_late, s.penalty) for s in students if s.days_late},
                       sum("checks" not in s.record for s in students))
