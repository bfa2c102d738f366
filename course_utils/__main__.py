"""Command line of the course: ``python -m course_utils <command>``."""

from __future__ import annotations

import argparse
import sys

from course_utils.quick_start import skip_unused_slow_imports

skip_unused_slow_imports()  # the commands read notebooks: see quick_start


def _prefetch(args: argparse.Namespace) -> int:
    from course_utils import models
    from course_utils.models.lessons import LESSON_MODELS, prefetched_models

    unknown = [lesson for lesson in args.lesson or [] if lesson not in LESSON_MODELS]
    if unknown:
        print(f"--lesson {unknown[0]!r} is not a lesson of the course; use one of: {', '.join(sorted(LESSON_MODELS))}",
              file=sys.stderr)
        return 2
    try:
        found = models.prefetch(prefetched_models(args.lesson), folder=args.cache_dir)
    except models.ModelsUnavailableError as error:
        print(error, file=sys.stderr)
        return 1
    for name, snapshot in found.items():
        print(f"{name}: {snapshot}")
    if args.cache_dir:
        print(f"\nOn each machine that should use these, set FASTEMBED_CACHE_PATH={args.cache_dir}")
    return 0


PREVIEW_HELP = "as in `python3 course.py start --offline-preview`: use the stand-in models it built"


def _preview_folder():
    """Where ``course.py start --offline-preview`` builds the stand-in models (its PREVIEW_CACHE)."""
    from pathlib import Path

    return Path(sys.prefix) / "offline-preview-models"


def _enter_offline_preview() -> bool:
    """Point this process (and the kernels it starts) at the offline preview's stand-in models, the settings
    ``course.py start --offline-preview`` gives JupyterLab (its PREVIEW_CACHE is this folder); False, with the
    fix printed, when the preview was never built."""
    import os

    from course_utils.models.environment import OFFLINE_PREVIEW_VARIABLE

    folder = _preview_folder()
    if not folder.is_dir():
        print(f"--offline-preview: no stand-in models in {folder}: start the course once with "
              f"`python3 course.py start --offline-preview`, which builds them", file=sys.stderr)
        return False
    os.environ.update({"FASTEMBED_CACHE_PATH": str(folder), "HF_HUB_OFFLINE": "1", OFFLINE_PREVIEW_VARIABLE: "1"})
    return True


def _preview_hint(command: str) -> str:
    """When the offline preview was built and this command runs without it: how to run it with the preview."""
    import os

    from course_utils.models.environment import OFFLINE_PREVIEW_VARIABLE

    if os.environ.get(OFFLINE_PREVIEW_VARIABLE) or not _preview_folder().is_dir():
        return ""
    return (f"You have built the offline preview: if you started the course with `python3 course.py start "
            f"--offline-preview`, run this command with it too, to use its stand-in models:\n"
            f"    .venv/bin/python -m course_utils {command} --offline-preview")


def _doctor(args: argparse.Namespace) -> int:
    from course_utils.lesson import doctor

    if args.offline_preview and not _enter_offline_preview():
        return 2
    hint = _preview_hint("doctor")
    if hint:  # first, and again after the problems it causes
        print(hint + "\n")
    return doctor.run(timeout=args.timeout, problem_hint=hint)


def _validate(args: argparse.Namespace) -> int:
    from course_utils.lesson import validate

    if args.offline_preview and not _enter_offline_preview():
        return 2
    hint = _preview_hint(f"validate {args.notebook}")
    if hint:  # first, and again after the set-up cell's failure it causes
        print(hint + "\n")
    try:
        return validate.run(args.notebook, timeout=args.timeout, setup_hint=hint)
    except (FileNotFoundError, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 2


def _grade(args: argparse.Namespace) -> int:
    from course_utils.grading.cli import run_command

    return run_command(args)


def _size(text: str) -> int:
    from course_utils.grading.sandbox import parse_size

    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _sandbox_options(grade: argparse.ArgumentParser) -> None:
    """The grading sandbox's options of ``grade``."""
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run the notebooks WITHOUT the sandbox (with your files and network, no limits): only "
                            "for trusted notebooks where bubblewrap is missing; written into grades.csv and feedback")
    grade.add_argument("--memory", type=_size, default=None,
                       help="memory one notebook may use (default: 4G): all its processes together where a memory "
                            "cgroup can be made (Linux as root, or a delegated cgroup), else each process's "
                            "address space")
    grade.add_argument("--max-processes", type=int, default=None,
                       help="processes and threads one notebook may run at once (default: 512)")
    grade.add_argument("--max-file-size", type=_size, default=None,
                       help="largest file a notebook may write (default: 1G)")


def _positive_int(text: str) -> int:
    """argparse type: a whole number of seconds above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    from course_utils.grading import round_trip_cli

    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    prefetch = commands.add_parser(
        "prefetch", help="download the models every lesson loads (or those of --lesson) into fastembed's cache")
    prefetch.add_argument("--cache-dir", help="download into this folder instead (then set FASTEMBED_CACHE_PATH)")
    prefetch.add_argument("--lesson", action="append", metavar="LESSON",
                          help="only this lesson's models (its folder name, e.g. 07-visual-documents); repeatable")
    prefetch.set_defaults(handler=_prefetch)

    doctor = commands.add_parser("doctor", help="report what is installed and cached, and how to fix problems")
    doctor.add_argument("--timeout", type=float, default=1.5, help="seconds to wait for the model hub")
    doctor.add_argument("--offline-preview", action="store_true", help=PREVIEW_HELP)
    doctor.set_defaults(handler=_doctor)

    validate = commands.add_parser(
        "validate", help="run a saved lesson notebook from the top and say, exercise by exercise, where you stand")
    validate.add_argument("notebook", help="the lesson's .ipynb file (save it first)")
    validate.add_argument("--timeout", type=_positive_int, default=600, help="seconds a cell may run (default: 600)")
    validate.add_argument("--offline-preview", action="store_true", help=PREVIEW_HELP)
    validate.set_defaults(handler=_validate)

    grade = commands.add_parser(
        "grade", help="grade a folder of submissions with nbgrader: gradebook, feedback, grades.csv",
        description="Grade every student's notebook of one lesson. SUBMISSIONS is a folder with one folder per "
                    "student (or nbgrader's submitted/<student>/<lesson>/), a Canvas, Blackboard or Moodle "
                    "\"download all submissions\" archive as the system names the files, or a zip file of either. "
                    "Ctrl+C stops cleanly; the same command then grades the rest.")
    grade.add_argument("lesson", help="the lesson's name, a folder of solutions/ (e.g. 01-late-interaction-basics)")
    grade.add_argument("submissions", help="folder or zip file of the students' notebooks")
    grade.add_argument("--course", default=".", help="the course directory (default: the current folder)")
    grade.add_argument("--jobs", type=int, default=None, help="notebooks graded at once (default: the cores)")
    grade.add_argument("--timeout", type=_positive_int, default=60, help="seconds a cell may run (default: 60)")
    grade.add_argument("--notebook-timeout", type=_positive_int, default=600,
                       help="seconds one notebook may run in all (default: 600); when it is spent, its other "
                            "cells are skipped and only answer and test cells still run, 10 s each")
    grade.add_argument("--regrade", action="store_true", help="grade again submissions that did not change")
    grade.add_argument("--roster", default=None,
                       help="CSV of the class's student ids (a column named id, username or identifier; the "
                            "LMS's own grade export works): files are matched to these ids exactly, and a file "
                            "that matches none or several is reported, not graded")
    grade.add_argument("--real-models", action="store_true",
                       help="run with the real models (default: offline stand-ins). Lessons 1-8: their graded checks "
                            "never use a model's output, so the scores are the same. The capstone (lesson 9): its "
                            "held-out nDCG@10 comes from the models, so its points can differ; grade a class's "
                            "capstone with one choice of models for all")
    _sandbox_options(grade)
    round_trip_cli.add_grade_options(grade)
    grade.set_defaults(handler=_grade)
    round_trip_cli.add_commands(commands)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
