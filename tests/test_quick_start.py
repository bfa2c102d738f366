"""The grading and command-line processes skip jsonschema's slow optional import and still read notebooks."""

from __future__ import annotations

import subprocess
import sys

from tests.grading.support import ROOT

PROBE = """
import sys
import {module}
import nbformat
notebook = nbformat.read({path!r}, as_version=4)
nbformat.validate(notebook)
print(type(sys.modules.get("rfc3987_syntax", "absent")).__name__, len(notebook.cells))
"""


def _probe(module: str) -> list[str]:
    path = str(ROOT / "solutions" / "01-late-interaction-basics" / "01-late-interaction-basics.ipynb")
    run = subprocess.run([sys.executable, "-c", PROBE.format(module=module, path=path)], capture_output=True,
                         text=True, timeout=120, check=True)
    return run.stdout.split()


def test_grading_processes_validate_notebooks_without_the_slow_optional_module():
    skipped, cells = _probe("course_utils.grading")
    assert skipped == "NoneType" and int(cells) > 10


def test_the_command_line_skips_it_too():
    skipped, _cells = _probe("course_utils.__main__")
    assert skipped == "NoneType"


def test_other_processes_are_left_alone():
    """Only the course's own entry points skip it: importing the lesson helpers changes nothing."""
    skipped, _cells = _probe("course_utils.lesson.checks")
    assert skipped == "module"
