"""A student's local start, end to end, in a real browser.

The test does what the README tells a student to do: it starts JupyterLab with
the command of ``python3 course.py start --offline-preview`` (on a free loopback
port, with a known token, and no browser of its own; the models are only the
stand-ins that command builds), opens lesson 1 from ``notebooks/`` in headless
Chromium, and checks that the lesson is not marked modified and no news pop-up
shows. It then runs every cell with the Run menu's "Run All Cells", and checks
what the student would see: every cell before the first exercise ran without an
error, the set-up cell said what the preview's stand-in models are, a figure
rendered, and nbgrader's Validate button is in the notebook's toolbar.
Screenshots are saved to ``test-artifacts/``. The server, its kernel and the
browser are stopped at the end, pass or fail, and nothing but 127.0.0.1 is
contacted. See ``tests/browser_support.py`` for how, and for when it is skipped.

It also checks that nbgrader's JupyterLab and server extensions are installed
and enabled in the course environment (the Validate button needs both).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time

import nbformat

from tests.browser_support import ARTIFACTS, ROOT, JupyterLab, jupyter_environment, open_browser, require_browser
from tests.notebook_items import RAISES_TAG

LESSON = "01-late-interaction-basics"
NOTEBOOK = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
SCREENSHOT = ARTIFACTS / f"browser-{LESSON}.png"
OPENED_SCREENSHOT = ARTIFACTS / f"browser-{LESSON}-opened.png"

CODE_CELLS = ".jp-NotebookPanel .jp-Notebook .jp-CodeCell"
VALIDATE_BUTTON = ".jp-NotebookPanel-toolbar .validate-button"  # added by nbgrader's validate-assignment plugin
#: JupyterLab renders an error as text with the stderr MIME type, exactly like a warning, and marks
#: it no other way; what sets it apart is IPython's traceback: a "Traceback (most recent call last)"
#: header, or a "Cell In[n], line m" location (syntax errors have only that).
ERROR_TEXT = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+", re.M)

#: Every code cell's prompt and outputs, in notebook order (textContent, since JupyterLab skips
#: rendering off-screen cells, and innerText would be empty for them).
READ_CELLS = """() => Array.from(document.querySelectorAll(%r), cell => ({
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output'), output => ({
        mime: output.getAttribute('data-mime-type') || '', text: output.textContent || ''})),
}))""" % CODE_CELLS  # noqa: UP031 - JavaScript full of braces: no f-string
#: True once Run All is done: the kernel is idle, no cell waits ("[*]") and some cell has run. (After an
#: error, ipykernel may skip the cells queued behind it or not, depending on timing: both end here.)
RUN_ALL_DONE = """([selector, total]) => {
    const cells = document.querySelectorAll(selector);
    if (cells.length !== total) return false;
    const prompts = Array.from(cells, cell => (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
    const status = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
    return !prompts.some(prompt => prompt.includes('*')) && prompts.some(prompt => /\\[\\d+\\]/.test(prompt))
        && (!status || status.getAttribute('data-status') === 'idle');
}"""
#: True once some cell is running or has run.
RUN_ALL_STARTED = """selector => Array.from(document.querySelectorAll(selector)).some(cell =>
    /\\[(\\*|\\d+)\\]/.test((cell.querySelector('.jp-InputArea-prompt') || {}).textContent || ''))"""
#: True when the notebook's tab is marked modified (JupyterLab's dot in place of the close button).
MARKED_MODIFIED = """() => Array.from(document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')).length > 0"""
#: Texts of the notification toasts on the page (JupyterLab's news question is one).
TOASTS = """() => Array.from(document.querySelectorAll('.Toastify__toast'), toast => toast.textContent || '')"""
RENDERED_IMAGES = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img'))
    .filter(image => image.complete && image.naturalWidth > 0).length"""


def lesson_layout() -> tuple[int, int, int]:
    """(number of code cells, index of the first exercise's answer cell, index of its test cell)."""
    cells = [cell for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code"]
    answer = next(i for i, cell in enumerate(cells) if cell.metadata.get("nbgrader", {}).get("solution"))
    test = next(i for i, cell in enumerate(cells) if i > answer and cell.metadata.get("nbgrader", {}).get("grade"))
    assert RAISES_TAG in cells[answer].metadata.get("tags", []), "the first exercise should be unsolved here"
    return len(cells), answer, test


def error_text(outputs: list[dict]) -> str | None:
    """The first error shown in a cell's outputs, or None."""
    for output in outputs:
        if output["mime"] == "application/vnd.jupyter.stderr" and ERROR_TEXT.search(output["text"]):
            return output["text"]
    return None


def what_a_student_sees(page, lab: JupyterLab, total: int, progress: list[str]) -> dict:
    """Open the lesson, run all cells from the Run menu, and read the notebook back from the page."""
    progress.append("opening the lesson")
    page.goto(lab.url(f"lab/tree/{LESSON}/{LESSON}.ipynb"))
    page.wait_for_function(f"() => document.querySelectorAll({CODE_CELLS!r}).length === {total}")
    progress.append("waiting for the kernel")
    page.wait_for_selector(".jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status='idle']")
    page.wait_for_timeout(1500)  # time for a late metadata update or a pop-up to show
    opened = {"modified": page.evaluate(MARKED_MODIFIED), "toasts": page.evaluate(TOASTS)}
    page.screenshot(path=str(OPENED_SCREENSHOT))
    progress.append("choosing Run > Run All Cells")  # after a click into the notebook, as a student would
    page.locator(CODE_CELLS).first.locator(".jp-InputArea-prompt").click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                 has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(RUN_ALL_STARTED, arg=CODE_CELLS, timeout=20_000)
    progress.append("waiting for the cells to finish")
    for _ in range(2):  # done, and still done a moment later
        page.wait_for_function(RUN_ALL_DONE, arg=[CODE_CELLS, total], timeout=90_000)
        page.wait_for_timeout(300)
    progress.append("reading the outputs")
    cells = page.evaluate(READ_CELLS)
    images = page.locator(".jp-NotebookPanel .jp-OutputArea-output img")
    if images.count():
        images.first.scroll_into_view_if_needed()  # the screenshot shows the first figure
        page.wait_for_function(RENDERED_IMAGES)
    validate = page.locator(VALIDATE_BUTTON)
    return {"opened": opened, "cells": cells, "rendered_images": page.evaluate(RENDERED_IMAGES),
            "validate": validate.count() == 1 and validate.is_visible() and validate.inner_text().strip() == "Validate"}


def test_student_runs_a_lesson_in_jupyterlab(tmp_path):
    require_browser()
    total, first_exercise, first_test = lesson_layout()
    ARTIFACTS.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    see = f"(screenshot: {SCREENSHOT})"
    started = time.monotonic()
    progress: list[str] = []
    with JupyterLab(tmp_path / "jupyter", offline_preview=True) as lab, open_browser() as (page, _blocked):
        assert lab.extras[0] == "course", "the README's start command should install the 'course' extra"
        try:
            seen = what_a_student_sees(page, lab, total, progress)
        except Exception as error:
            raise AssertionError(f"the browser test stopped while {progress[-1]} {see}: {error}\n"
                                 f"JupyterLab's log ends:\n{lab.log_tail()}") from error
        finally:
            with contextlib.suppress(Exception):  # never hide the error that got us here
                page.screenshot(path=str(SCREENSHOT))
        server_log = lab.log_tail()
    cells = seen["cells"]

    assert SCREENSHOT.is_file(), f"no screenshot was saved to {SCREENSHOT}"

    assert not seen["opened"]["modified"], f"the lesson is marked modified as soon as it opens {OPENED_SCREENSHOT}"
    assert not seen["opened"]["toasts"], \
        f"pop-ups on opening the lesson: {seen['opened']['toasts']} {OPENED_SCREENSHOT}"
    assert len(cells) == total, f"JupyterLab shows {len(cells)} code cells, the notebook has {total} {see}"
    setup_output = " ".join(output["text"] for output in cells[0]["outputs"])
    assert "offline test stand-ins" in setup_output and "far weaker than the real models" in setup_output, \
        f"the set-up cell of the offline preview should say what its stand-ins are {see}:\n{setup_output}"
    assert str(tmp_path / "jupyter" / "offline-preview-models") in setup_output, setup_output
    for number, cell in enumerate(cells[:first_exercise]):
        assert re.search(r"\[\d+\]", cell["prompt"]), \
            f"code cell {number} did not run (prompt {cell['prompt']!r}) {see}"
        error = error_text(cell["outputs"])
        assert error is None, f"code cell {number}, before the first exercise, shows an error {see}:\n{error}"
    exercise_error = error_text(cells[first_test]["outputs"]) or ""
    assert "NotImplementedError" in exercise_error, \
        f"the first exercise's test cell (code cell {first_test}) should stop at the unsolved exercise {see}"
    assert seen["rendered_images"] >= 1, f"no figure rendered in the notebook {see}"
    assert seen["validate"], f"nbgrader's Validate button is missing from the notebook toolbar {see}\n{server_log}"
    assert time.monotonic() - started < 120, "the browser test should take well under two minutes"


# -- nbgrader's extensions ------------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")
NBGRADER_SERVER_EXTENSIONS = ("validate_assignment", "assignment_list", "course_list", "formgrader")


def jupyter_output(tmp_path, *args: str) -> str:
    """What ``python -m jupyter <args>`` prints (both streams, colours removed), with a clean user config."""
    result = subprocess.run([sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120,
                            env=jupyter_environment(tmp_path), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    return ANSI.sub("", result.stdout + result.stderr)


def test_nbgrader_lab_extension_is_installed_and_enabled(tmp_path):
    listing = jupyter_output(tmp_path, "labextension", "list")
    assert re.search(r"^\s*@jupyter/nbgrader v\S+ enabled\s+OK", listing, re.M), listing
    disabled = listing.split("Disabled extensions:", 1)[1] if "Disabled extensions:" in listing else ""
    assert "nbgrader" not in disabled, f"some of nbgrader's JupyterLab plugins are disabled:\n{disabled}"


def test_nbgrader_server_extensions_are_installed_and_enabled(tmp_path):
    listing = jupyter_output(tmp_path, "server", "extension", "list")
    for name in NBGRADER_SERVER_EXTENSIONS:
        module = re.escape(f"nbgrader.server_extensions.{name}")
        assert re.search(rf"^\s*{module} enabled\s*$", listing, re.M), f"{name} is not enabled:\n{listing}"
        assert re.search(rf"^\s*{module}\s+OK\s*$", listing, re.M), f"{name} does not load:\n{listing}"
