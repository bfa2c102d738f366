"""What passes between the grading processes: one submission's job, and its graded result.

The main process (:mod:`course_utils.grading.command`) sends a :class:`GradingJob` to a worker
(:mod:`course_utils.grading.worker`), which sends back a :class:`GradingResult`. Both are
plain dataclasses, pickled by the process pool.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from course_utils.grading.trusted import TestCell, Verdict

__all__ = ["GradingJob", "GradingResult"]


@dataclass
class GradingJob:
    """One sanitized submission to grade.

    ``notebook`` is its JSON text, ``timestamp`` the submission time as nbgrader writes it,
    ``test_cells`` the instructor's checks ({test grade_id: TestCell}), ``visible_sources``
    {test grade_id: the test cell as students see it}, ``timeout`` seconds per cell,
    ``notebook_timeout`` seconds for the whole notebook (its time budget),
    ``manual_scores`` {test grade_id: score set in formgrader}, ``findings`` and ``tampering``
    what reading the submission found (sentences for the report), ``late`` the late-work decision
    (:meth:`course_utils.grading.late_work.Lateness.as_record`; None when no deadline was given),
    ``manual_cells`` {grade_id: (what to call it, points)} of the release's manually graded answer cells
    (the capstone's written explanation): the feedback says they wait for the instructor until scored.
    """

    lesson: str
    student: str
    notebook: str
    timestamp: str
    test_cells: dict[str, TestCell]
    timeout: int
    notebook_timeout: int = 600
    visible_sources: dict[str, str] = field(default_factory=dict)
    manual_scores: dict[str, float] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    tampering: list[str] = field(default_factory=list)
    late: dict | None = None
    manual_cells: dict[str, tuple[str, float]] = field(default_factory=dict)


@dataclass
class GradingResult:
    """One graded submission: verified verdicts, nbgrader's own scores (inside the kernel), the
    cells the grader stopped ([(index, why)]), whether it ran in the sandbox, the report's sentences,
    the autograded notebook (JSON text) and the feedback page (HTML text); ``grader_peak_bytes`` is the
    most memory the grading worker itself has held so far (its peak resident size), ``kernel_starts``
    and ``seconds`` what running the notebook took; ``checks`` each check's result for the class report
    (:func:`course_utils.grading.check_results.outcomes`), ``late`` the job's late-work decision."""

    student: str
    verdicts: dict[str, Verdict]
    nbgrader_scores: dict[str, float | None]
    stopped_cells: list[tuple[int, str]]
    sandbox: bool
    report: list[str]
    autograded: str
    feedback: str
    grader_peak_bytes: int = 0
    kernel_starts: int = 0
    seconds: float = 0.0
    checks: dict[str, dict] = field(default_factory=dict)
    late: dict | None = None

    @property
    def score(self) -> float:
        return sum(verdict.score for verdict in self.verdicts.values())

    @property
    def points(self) -> float:
        return sum(verdict.points for verdict in self.verdicts.values())

    def record(self) -> dict:
        """The parts worth keeping next to the autograded notebook, as JSON data."""
        return {"nbgrader_scores": self.nbgrader_scores, "report": self.report, "sandbox": self.sandbox,
                "stopped_cells": [list(stop) for stop in self.stopped_cells], "student": self.student,
                "grader_peak_bytes": self.grader_peak_bytes, "kernel_starts": self.kernel_starts,
                "seconds": round(self.seconds, 1),
                "verdicts": {test_id: asdict(verdict) for test_id, verdict in self.verdicts.items()},
                "checks": self.checks, "late": self.late}
