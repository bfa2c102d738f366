"""Benchmark: grading a class serially, in parallel, and without the sandbox.

Run it with ``python -m benchmarks.grading_throughput``.

Grades 40 generated submissions of lesson 1 (a mix of full, partial and blank
answers) with ``grade --jobs 1`` and ``grade --jobs N`` (N = the machine's cores),
both in the grading sandbox (the default), and ``grade --jobs N --no-sandbox``, in
fresh course directories, in one run. Reports submissions per minute for each, the
speed-up, what the sandbox costs (target: at most 10% of throughput), and checks
that all gradebooks hold identical scores. ``--no-serial`` leaves out the serial run.

The main process's own serial work (preparing the lesson, writing each result
into the gradebook) is timed too: it bounds what more cores can give (Amdahl).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

LESSON = "01-late-interaction-basics"


def make_class(course_for_reference: Path, folder: Path, count: int) -> dict[str, float]:
    """Write ``count`` submissions into ``folder``; return {student: expected score}."""
    from tests.grading import support as gs

    mixes = [(set(), 10.0), ({"ex2-answer", "ex4-answer"}, 6.0), ({"ex1-answer"}, 7.0), (None, 0.0)]
    expected = {}
    for number in range(count):
        wrong, score = mixes[number % len(mixes)]
        notebook = gs.student_notebook(course_for_reference, LESSON) if wrong is None else \
            gs.solved_notebook(course_for_reference, LESSON, wrong=wrong)
        student = f"student{number:03d}"
        gs.submissions_folder(folder, {student: notebook}, LESSON)
        expected[student] = score
    return expected


def timed_grade(course: Path, folder: Path, jobs: int, sandboxed: bool = True) -> tuple[float, float]:
    """Grade; return (wall seconds, seconds the main process spent storing results)."""
    from course_utils.grading import command, sandbox

    stored = [0.0]
    original = command.store_result

    def timed_store(*args, **kwargs):
        start = time.perf_counter()
        original(*args, **kwargs)
        stored[0] += time.perf_counter() - start

    command.store_result = timed_store
    try:
        start = time.perf_counter()
        outcome = command.grade(course, LESSON, folder, jobs=jobs, echo=lambda *a: None,
                                sandbox_limits=sandbox.Limits() if sandboxed else None)
        wall = time.perf_counter() - start
    finally:
        command.store_result = original
    if outcome.failed or outcome.skipped:
        raise SystemExit(f"grading failed: {outcome.failed} {outcome.skipped}")
    return wall, stored[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-serial", action="store_true", help="leave out the serial run (sandbox cost only)")
    args = parser.parse_args(argv)
    from tests.grading import support as gs

    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as scratch:
        scratch = Path(scratch)
        reference = gs.make_course(scratch / "reference", [LESSON])
        expected = make_class(reference, scratch / "submissions", args.submissions)
        parallel_course = gs.new_course(scratch / "parallel", [LESSON])
        unsandboxed_course = gs.new_course(scratch / "unsandboxed", [LESSON])
        parallel, parallel_store = timed_grade(parallel_course, scratch / "submissions", args.jobs)
        unsandboxed, _ = timed_grade(unsandboxed_course, scratch / "submissions", args.jobs, sandboxed=False)
        scores = [gs.gradebook_scores(parallel_course, LESSON), gs.gradebook_scores(unsandboxed_course, LESSON)]
        if not args.no_serial:
            serial_course = gs.new_course(scratch / "serial", [LESSON])
            serial, serial_store = timed_grade(serial_course, scratch / "submissions", 1)
            scores.append(gs.gradebook_scores(serial_course, LESSON))
    agree = all(found == expected for found in scores)
    n = args.submissions
    print(f"Grading {n} submissions of {LESSON} on {os.cpu_count()} cores")
    print(f"  sandbox    (--jobs {args.jobs}): {parallel:6.1f} s  {60 * n / parallel:5.1f} submissions/min")
    print(f"  no sandbox (--jobs {args.jobs}): {unsandboxed:6.1f} s  {60 * n / unsandboxed:5.1f} submissions/min")
    print(f"  the sandbox costs {100 * (1 - unsandboxed / parallel):.1f}% of throughput (target: at most 10%)")
    print(f"  scores identical and as expected: {agree}")
    if args.no_serial:
        return 0 if agree else 1
    print(f"  serial   (--jobs 1): {serial:6.1f} s  {60 * n / serial:5.1f} submissions/min")
    print(f"  parallel (--jobs {args.jobs}): {parallel:6.1f} s  {60 * n / parallel:5.1f} submissions/min")
    print(f"  speed-up: {serial / parallel:.2f}x  (target: at least 1.7x on 2 cores)")
    print(f"  main process storing results: {parallel_store:.1f} s of the parallel run "
          f"({100 * parallel_store / parallel:.0f}%)")
    per_submission = serial / n
    serial_share = (parallel_store + (parallel - serial / args.jobs if parallel > serial / args.jobs else 0)) / serial
    for cores in (8,):
        estimate = serial / (serial * serial_share + serial * (1 - serial_share) / cores)
        print(f"  estimate for {cores} cores: about {estimate:.1f}x, {60 / per_submission * estimate:.0f} "
              "submissions/min (Amdahl, from this run's serial share)")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
