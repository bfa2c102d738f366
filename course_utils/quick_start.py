"""Faster start-up for the course's command-line and grading processes.

jsonschema (imported by nbformat, nbgrader and Jupyter) imports the optional package
``rfc3987_syntax`` when it is installed, only to offer its ``"iri"`` format check, and that
package compiles a Lark grammar on import: about 1.7 s of CPU in every process that reads a
notebook. The grader starts several such processes per lesson (the command, one per worker),
and none of them checks formats: nbformat and nbgrader validate notebooks without a format checker.
"""

from __future__ import annotations

import sys

__all__ = ["SKIPPED_MODULES", "skip_unused_slow_imports"]

#: Optional modules the course's processes never use and that are slow to import.
SKIPPED_MODULES = ("rfc3987_syntax",)


def skip_unused_slow_imports() -> None:
    """Make :data:`SKIPPED_MODULES` unimportable in this process (an ``import`` of one raises ImportError,
    which jsonschema expects of an optional package). No effect on a module already imported."""
    for name in SKIPPED_MODULES:
        sys.modules.setdefault(name, None)
