"""Command-line options of the round trip: late work and exports for ``grade``; the ``report`` and ``export``
commands (``python -m course_utils report|export``, or ``python3 course.py report|export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from course_utils.grading import exports, late_work, lms_roster, report, round_trip

__all__ = ["add_commands", "add_grade_options", "trip_from_args"]


def _export_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--missing-as-zero", action="store_true",
                        help="give 0 to students on the roster who handed nothing in (default: an empty cell, which "
                             "leaves their grade in the learning system as it is)")
    parser.add_argument("--lms-column", default=None,
                        help="the grade column to import into: Canvas 'NAME (ID)', Blackboard 'NAME |ID' (default: "
                             "the roster's one assignment column, else a new column named after the lesson)")


def add_grade_options(grade: argparse.ArgumentParser) -> None:
    """``grade``'s late-work and export options."""
    grade.add_argument("--deadline", default=None,
                       help='the deadline, "2026-02-01 23:59" (the learning system\'s time zone), or [tool.course] '
                            "deadlines in pyproject.toml")
    grade.add_argument("--late-penalty", default=None, help="share of the score taken per started day late: 10%%/day")
    grade.add_argument("--late-cap", default=None, help="the most a late penalty takes: 50%% (default: 100%%)")
    grade.add_argument("--extension", action="append", default=[], metavar="STUDENT=DATE",
                       help="a student's own deadline, alice=2026-02-03 (repeat for several)")
    grade.add_argument("--export", action="append", default=[], choices=exports.SYSTEMS,
                       help="also write the grade file and feedback bundle this learning system imports "
                            "(exports/<lesson>/; repeat for several)")
    grade.add_argument("--no-report", action="store_true", help="do not write reports/<lesson>/report.html")
    _export_options(grade)


def trip_from_args(args, course: Path, lesson: str) -> round_trip.RoundTrip:
    """The :class:`round_trip.RoundTrip` of ``grade``'s options. Raises ValueError naming a bad option."""
    policy = late_work.policy_for(course, lesson, deadline=args.deadline, penalty=args.late_penalty,
                                  cap=args.late_cap, extensions=args.extension)
    roster = lms_roster.read_rows(args.roster) if args.roster else None
    return round_trip.RoundTrip(late=policy, roster=roster, export_to=list(args.export),
                                missing_as_zero=args.missing_as_zero, lms_column=args.lms_column,
                                report=not args.no_report)


def _report(args) -> int:
    course = Path(args.course).resolve()
    try:
        pages = [report.write_lesson(course, args.lesson)] if args.lesson else []
        pages.append(report.write_index(course))
    except ValueError as error:
        print(f"Cannot write the report: {error}")
        return 2
    for page in pages:
        print(f"Report: {page}")
    return 0


def _export(args) -> int:
    course = Path(args.course).resolve()
    notes: list[str] = []
    try:
        written = exports.export(course, args.lesson, args.system, missing_as_zero=args.missing_as_zero,
                                 column=args.lms_column, notes=notes)
    except ValueError as error:
        print(f"Cannot export: {error}")
        return 2
    for path in written:
        print(f"Wrote {path}")
    for note in notes:
        print(f"Check: {note}")
    return 0


def add_commands(commands) -> None:
    """The ``report`` and ``export`` sub-commands."""
    made = commands.add_parser(
        "report", help="rebuild the class report from the gradebook (no grading): reports/<lesson>/report.html",
        description="Rebuild reports/LESSON/report.html (and its PNG of figures) and the cross-lesson view "
                    "reports/index.html from the gradebook and the stored check results; without LESSON, only "
                    "the cross-lesson view.")
    made.add_argument("lesson", nargs="?", default=None, help="the lesson's name (default: only the cross-lesson view)")
    made.add_argument("--course", default=".", help="the course directory (default: the current folder)")
    made.set_defaults(handler=_report)
    out = commands.add_parser(
        "export", help="write the grade file and feedback bundle a learning system imports, from the gradebook",
        description="Write exports/LESSON/SYSTEM-grades.csv and the feedback pages bundled for SYSTEM, from the "
                    "gradebook and what the last download said about each student.")
    out.add_argument("system", choices=exports.SYSTEMS, help="the learning system to import into")
    out.add_argument("lesson", help="the lesson's name")
    out.add_argument("--course", default=".", help="the course directory (default: the current folder)")
    _export_options(out)
    out.set_defaults(handler=_export)
