"""nbgrader's Validate button, saying exercise by exercise where the student stands.

nbgrader's JupyterLab extension draws the Validate dialog from what its server
handler (``POST /assignments/validate``) answers: for each entry of a ``failed``
list it shows "The following cell failed:", the entry's ``source`` as text and its
``error`` as HTML; with no entry it shows "Success! Your notebook passes all the
tests." nbgrader's own handler fills that list with every failing test cell's whole
source and raw traceback (about 6,000 characters for lesson 5's unsolved exercises).

This Jupyter server extension answers the same request with what
``python -m course_utils validate`` prints (:mod:`course_utils.lesson.validate`):

- when the set-up cell failed, that, and what it said (no exercise could be checked);
- otherwise the count ("1 of 4 exercises pass their visible checks."), then one line per
  exercise: passed, not solved yet (and which function), or failed with the check's message;
- nbgrader's own "Success! Your notebook passes all the tests." when every exercise passes.

Like nbgrader's handler it first refuses a notebook whose locked cells changed (its own
"changed" and "type_changed" answers, which its dialog words itself), and it runs the saved
notebook from the top in a fresh kernel (the kernel talks over Unix sockets, as
``course.py start``'s do, so the terminal prints no "susceptible to eavesdropping" warning).

``python3 course.py start`` loads it in place of nbgrader's ``validate_assignment`` extension
(:data:`JPSERVER_EXTENSIONS`), which registers the same URL; this one also answers nbgrader's
version check (``GET /nbgrader_version``) with nbgrader's handler, as the button asks that first.
"""

from __future__ import annotations

import html
import traceback
from pathlib import Path

from course_utils.lesson.validate import Summary, count_line, exercise_line, execute, summarize

__all__ = ["DIALOG_STYLE", "JPSERVER_EXTENSIONS", "dialog_results", "validate_for_dialog"]

#: The ``ServerApp.jpserver_extensions`` of the course's JupyterLab: nbgrader's handler off, this one on.
JPSERVER_EXTENSIONS = {"nbgrader.server_extensions.validate_assignment": False, __name__: True}


#: Put in the dialog with the answer (nbgrader inserts ``error`` as HTML; a ``<style>`` element there applies to the
#: page): hides nbgrader's "The following cell failed:" above the answer, which is a summary, not a cell, and
#: wraps long lines instead of scrolling them. Scoped to the failed-validation dialog's message.
DIALOG_STYLE = ("<style>#validation-message.validation-failed > div > p { display: none; } "
                "#validation-message.validation-failed pre { white-space: pre-wrap; padding: 2px 8px; }</style>")


def dialog_results(summary: Summary) -> dict:
    """What the Validate dialog shows for ``summary``, in nbgrader's answer format.

    Returns:
        ``{}`` (the dialog's "Success! Your notebook passes all the tests.") when the set-up cell ran
        and every exercise checked by code passes; otherwise ``{"failed": [{"source": headline,
        "error": HTML}]}``: one entry, whose headline is the count (or the set-up cell's failure) and
        whose HTML lists every exercise as ``python -m course_utils validate`` does.
    """
    if summary.setup_error:
        count = len(summary.checked)
        headline = (f"The set-up cell (the lesson's first code cell) failed, so none of the {count} exercise"
                    f"{'s' if count != 1 else ''} could be checked.")
        body = (f"It said:\n<b>{html.escape(summary.setup_error)}</b>\n\nFix this first (its message says how), "
                "save the notebook, and click Validate again.")
    elif summary.checked and summary.passed < len(summary.checked):
        headline = count_line(summary)
        body = "\n".join(html.escape(exercise_line(result)) for result in summary.exercises)
    else:
        return {}
    return {"failed": [{"source": headline, "error": DIALOG_STYLE + body}]}


def validate_for_dialog(path: str | Path, ignore_checksums: bool = False, timeout: int = 600) -> dict:
    """nbgrader's checks of the locked cells, then :func:`dialog_results` of the executed notebook at ``path``."""
    import nbformat
    from nbgrader.validator import Validator

    checker = Validator(ignore_checksums=ignore_checksums)
    notebook = nbformat.read(path, as_version=4)
    type_changed = checker._get_type_changed_cells(notebook)
    if type_changed:
        return {"type_changed": [{"source": cell.source.strip(), "old_type": cell.cell_type,
                                  "new_type": cell.metadata.nbgrader.cell_type} for cell in type_changed]}
    changed = checker._get_changed_cells(notebook)
    if changed and not ignore_checksums:
        return {"changed": [{"source": cell.source.strip()} for cell in changed]}
    return dialog_results(summarize(execute(path, timeout=timeout)))


def _handler_classes():
    """The request handlers (built here: they subclass nbgrader's, which imports the server's modules)."""
    from nbgrader.server_extensions.validate_assignment.handlers import (NbGraderVersionHandler,
                                                                         ValidateAssignmentHandler)
    from tornado import web

    class CourseValidateHandler(ValidateAssignmentHandler):
        """nbgrader's ``POST /assignments/validate``, answered by :func:`validate_for_dialog`."""

        def validate_notebook(self, path):
            root = Path(self.root_dir).resolve()
            target = (root / path).resolve()
            if not target.is_relative_to(root):
                raise web.HTTPError(403, "Access denied: path outside allowed directory")
            try:
                ignore = bool(self.load_config().get("Validator", {}).get("ignore_checksums", False))
                return {"success": True, "value": validate_for_dialog(target, ignore_checksums=ignore)}
            except Exception:  # the dialog shows it under "There was an error running the validate command"
                self.log.error(traceback.format_exc())
                return {"success": False, "value": traceback.format_exc()}

    return CourseValidateHandler, NbGraderVersionHandler


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    validate_handler, version_handler = _handler_classes()
    base_url = serverapp.web_app.settings["base_url"]
    serverapp.web_app.settings["root_dir"] = serverapp.root_dir  # what nbgrader's handlers read (as its loader sets)
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base_url, "assignments/validate"), validate_handler),
        (url_path_join(base_url, "nbgrader_version"), version_handler),
    ])
    serverapp.log.info("Validate button: the course's per-exercise summary (course_utils.lesson.validate_button)")
