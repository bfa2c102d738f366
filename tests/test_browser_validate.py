"""The Validate button in a real browser: one line per exercise, the count, no tracebacks.

JupyterLab runs with the README's start command (as in ``tests/test_browser.py``), on a
folder holding a copy of lesson 1 in which a student solved exercise 1, answered
exercise 3 wrongly and left exercises 2 and 4 alone. The test opens it in headless
Chromium, clicks nbgrader's Validate button in the notebook's toolbar (which saves the
notebook, checks nbgrader's version with the server, then asks the server to validate)
and reads the dialog: the count first, then every exercise, passed, not solved yet (and
which function) or failed with the check's message; no raw traceback, no source code of
the test cells, no nbgrader label calling the summary a failed cell, and no line wider
than the dialog. The
answer comes from the course's server extension (``course_utils.lesson.validate_button``),
which ``course.py start`` loads in place of nbgrader's handler.
"""

from __future__ import annotations

import contextlib

import nbformat

from tests.browser_support import ARTIFACTS, ROOT, JupyterLab, open_browser, require_browser
from tests.test_browser import CODE_CELLS, VALIDATE_BUTTON

LESSON = "01-late-interaction-basics"
SCREENSHOT = ARTIFACTS / f"browser-{LESSON}-validate.png"


def student_copy(folder) -> int:
    """Lesson 1 with exercise 1 solved and exercise 3 wrong, saved under ``folder``; returns its code cells."""
    solution = nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    answers = {"ex1-answer": next(cell.source for cell in solution.cells if cell.get("id") == "ex1-answer"),
               "ex3-answer": "def storage_bytes(token_counts, dense_dim=384, token_dim=128, bytes_per_value=4):\n"
                             "    return {'dense': 0, 'multi_vector': 0}"}
    notebook = nbformat.read(ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb", as_version=4)
    for cell in notebook.cells:
        cell.source = answers.get(cell.get("id"), cell.source)
    (folder / LESSON).mkdir(parents=True)
    nbformat.write(notebook, folder / LESSON / f"{LESSON}.ipynb")
    return sum(cell.cell_type == "code" for cell in notebook.cells)


def test_validate_button_says_where_the_student_stands(tmp_path):
    require_browser()
    total = student_copy(tmp_path / "course")
    ARTIFACTS.mkdir(exist_ok=True)
    lab = JupyterLab(tmp_path / "jupyter")
    lab.command = [f"--ServerApp.root_dir={tmp_path / 'course'}" if arg.startswith("--ServerApp.root_dir=") else arg
                   for arg in lab.command]  # the copy, not the course's notebooks
    with lab, open_browser() as (page, _blocked):
        try:
            page.goto(lab.url(f"lab/tree/{LESSON}/{LESSON}.ipynb"))
            page.wait_for_function(f"() => document.querySelectorAll({CODE_CELLS!r}).length === {total}")
            page.locator(VALIDATE_BUTTON).click()
            dialog = page.locator(".jp-Dialog", has_text="Validation Results")
            dialog.wait_for(timeout=120_000)
            message = dialog.locator("#validation-message")
            text = message.inner_text().strip()
            page_width, dialog_width = message.evaluate("node => [node.scrollWidth, node.clientWidth]")
        finally:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(SCREENSHOT))
        server_log = lab.log_tail(400)
    see = f"(screenshot: {SCREENSHOT})\n{text}"
    lines = text.splitlines()
    assert "The following cell failed" not in text, f"nbgrader's label above the summary should be hidden {see}"
    assert lines[0] == "1 of 4 exercises pass their visible checks.", see
    assert "Exercise 1 (3 points): passed (visible checks; hidden checks run when graded)" in lines, see
    assert "Exercise 2 (2 points): not solved yet: colbert_labels still raises NotImplementedError" in lines, see
    assert any(line.startswith("Exercise 3 (3 points): failed: Not yet: expected") for line in lines), see
    assert "Exercise 4 (2 points): not solved yet: same_word_similarity still raises NotImplementedError" in lines, see
    assert "Traceback" not in text and "check(" not in text, f"raw errors or test code in the dialog {see}"
    wrapped = page_width <= dialog_width
    assert wrapped, f"the dialog's lines should wrap, not scroll: {page_width} px in a {dialog_width} px dialog {see}"
    # the notebook's websocket connected: no warning about jupyter_server's and tornado's ping timeouts
    assert "websocket_ping_timeout" not in server_log, server_log
    assert "is not trusted" not in server_log, server_log  # a lesson opened before it was saved: no warning
