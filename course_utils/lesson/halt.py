"""After a failed set-up cell, every later cell of the lesson stops at once and says why.

JupyterLab's Run All stops at the first error only while the kernel still aborts
the queued cells: ipykernel aborts the requests that reach it within
``stop_on_error_timeout`` (0 s by default) of the error, so a cell sent a little
later (the end of a long notebook) runs anyway and shows its own failure, for
example "Exercise not solved yet", far from the cause. :func:`halt` registers an
IPython input transformer that replaces the code of every later cell with one
line raising :class:`SetupFailedError` (the set-up's message), so each cell that
still runs stops at once pointing at the set-up cell; :func:`resume` (the set-up
cell passing again) removes it. Cells that only fix the environment still run:
the set-up cell itself, and cells of shell commands, magics (``%env``), comments
and ``import sys`` / ``import os`` / ``os.environ[...] = ...`` lines (the fixes the
set-up message and the README give).

>>> halt("Missing model(s): x.", shell=None); lets_through("print(1)"), lets_through("%env A=1")
(False, True)
>>> resume(shell=None); stopped_by()
''
"""

from __future__ import annotations

__all__ = ["SetupFailedError", "halt", "lets_through", "refuse", "resume", "stopped_by"]

#: The set-up's failure message while later cells are stopped ("" when they run).
_REASON = {"message": ""}
#: Lines that only fix the environment (see the module docstring): a cell of only these still runs.
_FIX_PREFIXES = ("!", "%", "#", "import sys", "import os", "os.environ", "get_ipython().")  # magics, once transformed
#: What marks the set-up cell (see course_utils.lesson.colab.SETUP_TEMPLATE).
_SETUP_MARK = "lesson.setup import prepare"


class SetupFailedError(RuntimeError):
    """A cell not run because the lesson's set-up cell failed."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this line instead of a traceback (as for ModelsUnavailableError)
        return [f"{type(self).__name__}: {self}"]


def stopped_by() -> str:
    """The set-up failure that stops later cells now, or "" when cells run."""
    return _REASON["message"]


def lets_through(code: str) -> bool:
    """Whether a cell with ``code`` runs although the set-up failed: the set-up cell and environment fixes."""
    if _SETUP_MARK in code:
        return True
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    return all(line.startswith(_FIX_PREFIXES) for line in lines)


def refuse() -> None:
    """Raise :class:`SetupFailedError` with the set-up's message (the code a stopped cell runs)."""
    first = _REASON["message"].splitlines()[0] if _REASON["message"] else "it failed"
    raise SetupFailedError(
        "not run: the set-up cell (the lesson's first code cell) failed, so this cell cannot work. Fix what it "
        f"says, run it again, then run this cell. It said: {first}")


def _transformer(lines: list[str]) -> list[str]:
    """IPython input transformer (all of a cell's lines at once): the cell, or one line calling :func:`refuse`."""
    if not _REASON["message"] or lets_through("".join(lines)):
        return lines
    return ['__import__("course_utils.lesson.halt").lesson.halt.refuse()\n']


def _shell(shell):
    """The running IPython shell (``shell`` if given, None outside IPython)."""
    if shell is not None:
        return shell
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def halt(message: str, shell=None) -> None:
    """Make every later cell of this kernel stop with ``message`` (the set-up's error) until :func:`resume`.

    Outside IPython (a script, a test) only the message is kept.
    """
    if not isinstance(message, str) or not message:
        raise ValueError(f"message must be the set-up's error message, a non-empty str; got {message!r}")
    _REASON["message"] = message
    shell = _shell(shell)
    if shell is not None and _transformer not in shell.input_transformers_post:
        shell.input_transformers_post.append(_transformer)


def resume(shell=None) -> None:
    """Let later cells run again (the set-up cell passed)."""
    _REASON["message"] = ""
    shell = _shell(shell)
    if shell is not None and _transformer in shell.input_transformers_post:
        shell.input_transformers_post.remove(_transformer)
