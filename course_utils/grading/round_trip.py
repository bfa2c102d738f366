"""What ``grade`` does after grading for the instructor's round trip: the class report, and the exports.

:class:`RoundTrip` holds the options (late-work policy, roster rows, systems to export to);
:func:`finish` writes ``reports/<lesson>/`` and ``exports/<lesson>/`` from the gradebook and the
grading records, and says how long that took (the report's cost, next to the grading's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from course_utils.grading import download_record, exports, late_work, lms_roster, report

__all__ = ["RoundTrip", "finish"]


@dataclass
class RoundTrip:
    """``late``: the lesson's :class:`late_work.LatePolicy` (None: no deadline); ``roster``: the roster's rows
    (:class:`lms_roster.Roster`) when one was given; ``export_to``: systems to export to; ``missing_as_zero``
    and ``lms_column`` as in :func:`exports.export`; ``report`` False skips the report."""

    late: late_work.LatePolicy | None = None
    roster: lms_roster.Roster | None = None
    export_to: list[str] = field(default_factory=list)
    missing_as_zero: bool = False
    lms_column: str | None = None
    report: bool = True
    recorded: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self):
        for system in self.export_to:
            if system.lower() not in exports.SYSTEMS:
                raise ValueError(f"--export: unknown learning system {system!r}; choose one of "
                                 f"{', '.join(exports.SYSTEMS)}")
        if self.roster is not None and not self.recorded:
            self.recorded = late_work.recorded_times(self.roster)

    def lateness(self, submission) -> dict | None:
        """The late-work decision of one submission for its grading job (None without a deadline)."""
        if self.late is None:
            return None
        return late_work.decide(self.late, submission, self.recorded.get(submission.student)).as_record()


def remember_download(course: Path, lesson: str, found, outcome, options: RoundTrip) -> None:
    """Keep what the download said about each student (:mod:`download_record`), before its files are removed."""
    graded = set(outcome.graded) | set(outcome.unchanged)
    download_record.save(course, lesson, found, graded, options.roster, outcome.skipped)


def finish(course: Path, lesson: str, options: RoundTrip) -> tuple[list[Path], list[str], float]:
    """Write the report and the exports of ``lesson``.

    Returns:
        (files written, problems [an export that could not be written and why, or a warning about one],
        seconds taken).
    """
    started = time.monotonic()
    written, problems = [], []
    if not (Path(course) / "gradebook.db").exists():
        return written, problems, 0.0
    try:
        if options.report:
            written.append(report.write_lesson(course, lesson))
            written.append(report.write_index(course))
        for system in options.export_to:
            try:
                written += exports.export(course, lesson, system, missing_as_zero=options.missing_as_zero,
                                          column=options.lms_column, notes=problems)
            except ValueError as error:
                problems.append(f"{exports.NAMES.get(system, system)} export not written: {error}")
    except ValueError as error:  # nothing of the lesson graded yet
        problems.append(str(error))
    return written, problems, time.monotonic() - started
