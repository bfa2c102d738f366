"""Command line of the course: ``python -m course_utils <command>``."""

from __future__ import annotations

import argparse
import sys


def _prefetch(args: argparse.Namespace) -> int:
    from course_utils import models

    try:
        found = models.prefetch(folder=args.cache_dir)
    except models.ModelsUnavailableError as error:
        print(error, file=sys.stderr)
        return 1
    for name, snapshot in found.items():
        print(f"{name}: {snapshot}")
    if args.cache_dir:
        print(f"\nOn each machine that should use these, set FASTEMBED_CACHE_PATH={args.cache_dir}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from course_utils import doctor

    return doctor.run(timeout=args.timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    prefetch = commands.add_parser("prefetch", help="download the course's three models into fastembed's cache")
    prefetch.add_argument("--cache-dir", help="download into this folder instead (then set FASTEMBED_CACHE_PATH)")
    prefetch.set_defaults(handler=_prefetch)

    doctor = commands.add_parser("doctor", help="report what is installed and cached, and how to fix problems")
    doctor.add_argument("--timeout", type=float, default=1.5, help="seconds to wait for the model hub")
    doctor.set_defaults(handler=_doctor)

    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
