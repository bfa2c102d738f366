"""The ``grade`` command line: options to :func:`course_utils.grading.command.grade`, its outcome to the screen."""

from __future__ import annotations

from pathlib import Path

from course_utils.grading import class_results, command, interrupts, nbgrader_course, round_trip_cli, sandbox, trusted
from course_utils.grading import notebooks as nb
from course_utils.grading.gradebook import summary, write_csv

__all__ = ["run_command", "sandbox_limits"]


def sandbox_limits(args) -> sandbox.Limits | None:
    """The sandbox's limits from the command line's options, or None with ``--no-sandbox``."""
    if getattr(args, "no_sandbox", False):
        print("Grading WITHOUT the sandbox (--no-sandbox): each notebook runs with your files, your network and "
              "no limits. Grades.csv and the feedback say so.")
        return None
    chosen = {name: getattr(args, option, None) for name, option in
              (("memory", "memory"), ("processes", "max_processes"), ("file_size", "max_file_size"))}
    return sandbox.Limits(**{name: value for name, value in chosen.items() if value is not None})


def print_outcome(course: Path, lesson: str, outcome: command.Outcome, csv_path: Path) -> None:
    """The run's summary: the lesson's scores, what was not graded and where the results are."""
    source = nb.read(nbgrader_course.source_notebook_path(course, lesson))
    names = {test_id: cell.name for test_id, cell in trusted.parse_test_cells(source).items()}
    print()
    print(summary(course, lesson, names))
    for name, why in outcome.skipped:
        print(f"Not graded: {name} {why}")
    for student, why in outcome.failed:
        print(f"Grading failed for {student}: {why}")
    unchanged = (f"; {len(outcome.unchanged)} unchanged since their last grading (use --regrade to grade them "
                 "again, for example after changing scores in formgrader, to refresh their feedback)"
                 if outcome.unchanged else "")
    print(f"\nGraded {len(outcome.graded)} in {outcome.seconds:.0f} s{unchanged}.")
    print(f"Gradebook: {course / 'gradebook.db'} (open it with nbgrader's formgrader)")
    print(f"Scores:    {csv_path}")
    print(f"Feedback:  {course / 'feedback'}/<student>/{lesson}/{lesson}.html")
    late = [row for row in class_results.lesson_results(course, lesson).students.values() if row.penalty] \
        if outcome.written else []
    if late:
        print(f"Late:      {len(late)} submission(s) penalised (the summary above shows raw scores; grades.csv's "
              "final_score, the report and the exports the scores after the penalty)")
    for path in outcome.written:
        print(f"Wrote:     {path}")
    if outcome.written:
        print(f"(report and exports took {outcome.round_trip_seconds:.1f} s; rebuild them with "
              f"python3 course.py report {lesson} / python3 course.py export SYSTEM {lesson})")
    for problem in outcome.problems:
        print(f"Note: {problem}")


def run_command(args) -> int:
    """The ``grade`` command line; returns the exit status."""
    course = Path(args.course).resolve()
    try:
        trip = round_trip_cli.trip_from_args(args, course, args.lesson)
        outcome = command.grade(course, args.lesson, Path(args.submissions), jobs=args.jobs, timeout=args.timeout,
                                notebook_timeout=args.notebook_timeout,
                                regrade=args.regrade, real_models=args.real_models, roster=args.roster,
                                echo=print, sandbox_limits=sandbox_limits(args), trip=trip)
    except ValueError as error:
        print(f"Cannot grade: {error}")
        return 2
    except interrupts.GradingInterrupted as stopped:
        print(f"\nInterrupted: {len(stopped.outcome.graded)} graded and stored in this run"
              + (f", {stopped.outcome.csv} rewritten from the gradebook" if stopped.outcome.csv else "")
              + "; run the same command again to grade the rest.", flush=True)
        return 130
    print_outcome(course, args.lesson, outcome, outcome.csv or write_csv(course))
    return 1 if outcome.failed else 0
