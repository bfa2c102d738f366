"""The red team's attacks on grading (issue 27), each a submission that must fail, with the trial's evidence.

Run 1 grades one notebook at a time (``jobs=1``), in this order, so that the students graded after an
attacker meet whatever it left behind in the grading copy:

- ``a-honest``: solved (10 of 10), graded first: its stored grade must survive the attacks after it;
- ``b-escape``: solved, then prints 300 MB in 100 KB pieces (the output flood), and its last cell replaces
  every file of its working folder, its own notebook and the grader's temporary-file names with links to
  canary files outside the sandbox, the instructor's gradebook and a copy of ``checks.py``, and tries to
  append to the course's ``checks.py``: the canaries' contents and modes, the gradebook and the course
  package must be unchanged, no file may appear where a link pointed at nothing, and the grader's own
  memory must stay small;
- ``c-many``: Exercise 1 right, but its function keeps every input the checks gave it and a later cell
  prints IPython's input history (``In``, ``_ih``, ``%history``), the line cache and the last traceback:
  no hidden check's code may be in the kernel for it to print, nor in the feedback; Exercise 2's function
  publishes a forged result for its visible check and raises an exception posing as a recorded failed
  check; Exercises 3 and 4 answer ``10**400`` (against an integer and a float), and a cell before
  Exercise 4's test cell, and an ``atexit`` hook, publish its right visible result: 3 of 10, with each
  trick reported or failed;
- ``d-forged-page``: blank (0 of 10) but displays HTML and JavaScript that claim 12 of 12 and "nothing
  unusual", and a markdown cell with an ``onerror`` handler: the feedback page, opened in Chromium, shows
  the true score, runs no script and loads nothing; the autograded notebook keeps no HTML or script output;
- ``e-honest``, ``f-honest``: solved, graded after the attackers: 10 each;
- ``g-unreadable``: not a notebook: a row in grades.csv with the reason;
- links in the submissions folder (to the instructor's solution), a link inside a student's folder and a
  FIFO: never read, reported as not graded.

Run 2, in the same course (so it also shows that ``grade`` still starts after run 1), grades with a
memory limit of 1.5 GiB, cells stopped after 8 s and a budget of 40 s per notebook:

- ``mmap``: maps 2 GiB of shared anonymous memory and touches every page (``RLIMIT_DATA`` does not count
  it): the cell is stopped and the memory limit reported; every exercise still scores;
- ``sleepy``: 25 cells of ``time.sleep(30)`` after Exercise 1: each is interrupted in the same kernel,
  the budget ends the rest, the exercises after them are still graded, in one pass (one kernel).

And one zip file with a ``..`` entry: reported, not unpacked.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

import course_utils.lesson.checks
from course_utils.grading import collect, command, sandbox, trusted
from course_utils.grading import notebooks as nb
from tests.grading import support as gs
from tests.grading.test_grade_sandbox import require_sandbox

LESSON, TIMEOUT, feedback_text = gs.ATTACK_LESSON, gs.TIMEOUT, gs.feedback_text
NOTEBOOK = f"{LESSON}.ipynb"
RECORD_MIME = course_utils.lesson.checks.RECORD_MIME
#: What a forged feedback page claims.
FORGED = "Score: 12.0 / 12.0"


def _cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if nb.nbgrader_info(c).get("grade_id") == grade_id)


def _insert_after(notebook, grade_id: str, *sources: str) -> None:
    position = next(i for i, c in enumerate(notebook.cells) if nb.nbgrader_info(c).get("grade_id") == grade_id)
    for offset, source in enumerate(sources, start=1):
        notebook.cells.insert(position + offset, nbformat.v4.new_code_cell(source))


def _visible_expected(grade_id: str):
    """The expected value of the first (visible) check of a test cell of lesson 1."""
    source = nb.read(gs.ROOT / "solutions" / LESSON / NOTEBOOK)
    cell = nb.test_cells(source)[grade_id]
    return trusted.parse_test_cell(grade_id, cell.source, 1).checks[0].expected


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----- the attackers of run 1 ---------------------------------------------------------------------

FLOOD = "for _ in range(3000):\n    print('x' * 100_000)  # 300 MB in all\n"


def escape_cell(targets: list[str]) -> str:
    """The last cell of ``b-escape``: links everywhere the grader could read or write after the kernel."""
    return f"""import os, course_utils
targets = {targets!r}
work = os.getcwd()
names = set(os.listdir(work)) | {{{NOTEBOOK!r}, {'.' + NOTEBOOK + '.writing'!r}, "timestamp.txt",
                                 ".timestamp.txt.writing", "gradebook.db", ".grading.json"}}
for number, name in enumerate(sorted(names)):
    path = os.path.join(work, name)
    if os.path.isdir(path) and not os.path.islink(path):
        continue
    if os.path.lexists(path):
        os.remove(path)
    os.symlink(targets[number % len(targets)], path)
package = os.path.dirname(course_utils.__file__)
for folder in [package, os.path.join(package, "lesson"), *os.environ.get("PYTHONPATH", "").split(os.pathsep)]:
    try:
        with open(os.path.join(folder, "checks.py"), "a") as file:
            file.write("# attacked")
        print("APPENDED TO", folder)
    except OSError:
        pass
print("LINKS PLANTED", len(names))
"""


def many_tricks(ex2_expected) -> object:
    """``c-many``: see the module docstring (Exercise 1 right, the others each a trick that fails)."""
    notebook = gs.solved_notebook(gs.ROOT, LESSON)
    first = _cell(notebook, "ex1-answer")
    first.source = first.source.replace("def rank_by_dot_product(", "def _honest_rank(", 1) + (
        "\n\n_seen = []\n\n\ndef rank_by_dot_product(query_vector, document_vectors):\n"
        "    import sys\n"
        "    _seen.append(repr((query_vector, document_vectors)))\n"
        "    _seen.append(repr(sys._getframe(1).f_code.co_consts))\n"
        "    return _honest_rank(query_vector, document_vectors)\n")
    _cell(notebook, "ex2-answer").source = (
        "class CheckFailed(AssertionError):\n    course_recorded = True\n\n\n"
        "def colbert_labels(tokens, kind):\n"
        "    from IPython.display import publish_display_data\n"
        f"    publish_display_data({{{RECORD_MIME!r}: {{'check': 'ex2-test/0', 'value': {ex2_expected!r}}}}},"
        " metadata={})\n"
        "    raise CheckFailed('Not yet: recorded')\n")
    _cell(notebook, "ex3-answer").source = (  # an integer past any float: compared without a crash
        "def storage_bytes(token_counts, dense_dim=384, token_dim=128, bytes_per_value=4):\n"
        "    return {'dense': 10**400, 'multi_vector': 10**400}\n")
    _cell(notebook, "ex4-answer").source = (  # against a float expected value: OverflowError in the comparison
        "def same_word_similarity(labels_a, vectors_a, labels_b, vectors_b, word):\n    return 10**400\n")
    forged = {"check": "ex4-test/0", "value": _visible_expected("ex4-test")}
    _insert_after(notebook, "ex3-test",
                  "import atexit\nfrom IPython.display import publish_display_data\n"
                  f"publish_display_data({{{RECORD_MIME!r}: {forged!r}}}, metadata={{}})\n"
                  f"atexit.register(publish_display_data, {{{RECORD_MIME!r}: {forged!r}}}, metadata={{}})\n")
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import linecache, sys\nprint('HISTORY', In, _ih)\nget_ipython().run_line_magic('history', '-g -n')\n"
        "print('HISTORY', get_ipython().history_manager.input_hist_raw)\n"
        "print('HISTORY', [''.join(entry[2]) for entry in linecache.cache.values() if len(entry) > 2])\n"
        "print('HISTORY', getattr(sys, 'last_traceback', None), getattr(sys, 'last_value', None))\n"))
    notebook.cells.append(nbformat.v4.new_code_cell("print('SEEN', _seen)"))
    return notebook


SCRIPT = ("<script>document.title='PWNED';document.body.innerHTML='<p class=score>Score: 12.0 / 12.0</p>'</script>"
          f"<p class='score'>{FORGED}</p><p>Nothing unusual was found in this notebook.</p>"
          "<img src='x' onerror=\"document.title='PWNED'\"><img src='http://192.0.2.1/track.png'>")


def forged_page() -> object:
    notebook = gs.student_notebook(gs.ROOT, LESSON)
    notebook.cells.append(nbformat.v4.new_code_cell(
        "from IPython.display import HTML, Javascript, SVG, display\n"
        f"display(HTML({SCRIPT!r}))\ndisplay(Javascript(\"document.title='PWNED'\"))\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"document.title=1\"></svg>'))\n"))
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell(f"{SCRIPT}\n\n# {FORGED}"))
    return notebook


# ----- the attackers of run 2 ---------------------------------------------------------------------

RUN2_LIMITS = sandbox.Limits(memory=3 * 2**29, processes=256, file_size=128 * 2**20)  # 1.5 GiB
MMAP = ("import mmap\nsize = 2 * 2**30\nshared = mmap.mmap(-1, size)\n"
        "for offset in range(0, size, mmap.PAGESIZE):\n    shared[offset] = 1\nprint('TOUCHED', size)\n")


def _fresh(tmp: Path) -> dict[str, Path]:
    paths = {"existing": tmp / "canary-existing", "private": tmp / "canary-private", "new": tmp / "canary-new",
             "checks copy": tmp / "checks-copy.py"}
    for name in ("existing", "private"):
        paths[name].write_text(f"the {name} canary\n")
        paths[name].chmod(0o600)
    shutil.copyfile(course_utils.lesson.checks.__file__, paths["checks copy"])
    paths["checks copy"].chmod(0o640)
    return paths


@pytest.fixture(scope="module")
def red_team(tmp_path_factory):
    require_sandbox()
    tmp = tmp_path_factory.mktemp("red-team")
    course = gs.attack_course(tmp)
    canaries = _fresh(tmp)
    solution = course / "solutions" / LESSON / NOTEBOOK
    course_package = {path: _sha(path) for path in Path(course_utils.__file__).parent.rglob("*.py")}

    # the honest student first: its grade must survive everything after it
    first = gs.submissions_folder(tmp / "first", {"a-honest": gs.solved_notebook(gs.ROOT, LESSON)}, LESSON)
    command.grade(course, LESSON, first, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    gradebook = course / "gradebook.db"
    targets = [str(canaries["existing"]), str(canaries["private"]), str(canaries["new"]),
               str(canaries["checks copy"]), str(gradebook)]
    escape = gs.solved_notebook(gs.ROOT, LESSON)
    _insert_after(escape, "ex1-test", FLOOD)
    escape.cells.append(nbformat.v4.new_code_cell(escape_cell(targets)))
    students = {"b-escape": escape, "c-many": many_tricks(_visible_expected("ex2-test")),
                "d-forged-page": forged_page(), "e-honest": gs.solved_notebook(gs.ROOT, LESSON),
                "f-honest": gs.solved_notebook(gs.ROOT, LESSON)}
    submissions = gs.submissions_folder(tmp / "submissions", students, LESSON)
    (submissions / "g-unreadable").mkdir()
    (submissions / "g-unreadable" / NOTEBOOK).write_text("{ this is not a notebook")
    (submissions / f"h-linked_{NOTEBOOK}").symlink_to(solution)  # a student's file that is a link
    (submissions / "i-linked").mkdir()
    (submissions / "i-linked" / NOTEBOOK).symlink_to(solution)
    os.mkfifo(submissions / "j-fifo.ipynb")
    modes = {name: stat.S_IMODE(path.stat().st_mode) for name, path in canaries.items() if path.exists()}
    contents = {name: path.read_bytes() for name, path in canaries.items() if path.exists()}
    run1 = command.grade(course, LESSON, submissions, jobs=1, timeout=TIMEOUT, echo=lambda *a: None)
    with open(course / "grades.csv", newline="") as table:  # the next run rewrites it
        run1_rows = {row["student"]: row for row in csv.DictReader(table)}

    second = gs.solved_notebook(gs.ROOT, LESSON)
    _insert_after(second, "ex1-test", MMAP)
    sleepy = gs.solved_notebook(gs.ROOT, LESSON)
    _insert_after(sleepy, "ex1-test", *["import time\ntime.sleep(30)"] * 25)
    folder = gs.submissions_folder(tmp / "run2", {"mmap": second, "sleepy": sleepy}, LESSON)
    run2 = command.grade(course, LESSON, folder, jobs=2, timeout=8, notebook_timeout=40, echo=lambda *a: None,
                         sandbox_limits=RUN2_LIMITS)
    yield {"course": course, "canaries": canaries, "modes": modes, "contents": contents, "run1": run1,
           "run2": run2, "course_package": course_package, "run1_rows": run1_rows}


def record(course: Path, student: str) -> dict:
    return json.loads((course / "autograded" / student / LESSON / command.GRADING_RECORD).read_text())


def outputs(course: Path, student: str) -> list[str]:
    """The text of each code cell's outputs in the autograded notebook (what the instructor keeps)."""
    notebook = nb.read(course / "autograded" / student / LESSON / NOTEBOOK)
    return ["".join(str(o.get("text", "")) + json.dumps(o.get("data", {})) for o in cell.outputs)
            for cell in notebook.cells if cell.cell_type == "code"]


def test_every_student_gets_exactly_the_points_of_their_right_answers(red_team):
    run1, run2 = red_team["run1"], red_team["run2"]
    assert not run1.failed and not run2.failed, (run1, run2)
    assert gs.gradebook_scores(red_team["course"], LESSON) == {
        "a-honest": 10.0, "b-escape": 10.0, "c-many": 3.0, "d-forged-page": 0.0, "e-honest": 10.0,
        "f-honest": 10.0, "mmap": 10.0, "sleepy": 10.0}


def test_links_planted_by_a_kernel_are_never_followed(red_team):
    course, canaries = red_team["course"], red_team["canaries"]
    assert any("LINKS PLANTED" in text for text in outputs(course, "b-escape"))
    assert not any("APPENDED TO" in text for text in outputs(course, "b-escape"))
    assert not canaries["new"].exists() and not canaries["new"].is_symlink()
    for name, content in red_team["contents"].items():
        assert canaries[name].read_bytes() == content, name
        assert stat.S_IMODE(canaries[name].stat().st_mode) == red_team["modes"][name], name
    package = red_team["course_package"]
    assert {path: _sha(path) for path in package} == package  # the course's code, checks.py included
    table = gs.csv_table(course)  # the gradebook still opens, with every grade in it
    assert table[("a-honest", LESSON)]["score"] == 10.0 and table[("f-honest", LESSON)]["score"] == 10.0


def test_grading_copies_hold_no_link_after_the_kernels(red_team):
    course = red_team["course"]
    for folder in ("submitted", "autograded", "feedback"):
        links = [p for p in (course / folder).rglob("*") if p.is_symlink()]
        assert links == [], links


def test_an_output_flood_is_cut_as_it_arrives_and_the_grader_stays_small(red_team):
    course = red_team["course"]
    escape = record(course, "b-escape")
    assert any("was cut by the grader" in line for line in escape["report"])
    assert (course / "autograded" / "b-escape" / LESSON / NOTEBOOK).stat().st_size < 2_000_000
    assert 0 < escape["grader_peak_bytes"] < 2**30, escape["grader_peak_bytes"]  # 300 MB went through it


def test_the_kernel_never_holds_hidden_test_code_and_feedback_shows_none(red_team):
    course = red_team["course"]
    hidden = gs.hidden_check_lines(LESSON)
    history = [text for text in outputs(course, "c-many") if "HISTORY" in text]
    assert history and "run_line_magic" in history[0]  # the printing cell ran and showed the history
    for line in hidden:
        assert line not in history[0], line
    seen = [text for text in outputs(course, "c-many") if "SEEN" in text]
    assert seen and "array" in seen[0]  # the student's function did see the hidden inputs ...
    page = feedback_text(course, "c-many")
    for line in hidden:  # ... and nothing of them comes back in the feedback
        assert line not in page, line
    assert "SEEN [" not in page and "HISTORY [" not in page  # no output of the notebook is on the page


def test_forged_and_stray_check_results_do_not_count_and_are_reported(red_team):
    course = red_team["course"]
    result = record(course, "c-many")
    verdicts = result["verdicts"]
    assert verdicts["ex1-test"]["score"] == 3.0
    # a forged result for a check whose call raised does not count: the raise is recorded as such
    assert verdicts["ex2-test"]["failures"][0].startswith("visible check 1 of 3: your code raised CheckFailed"), \
        verdicts["ex2-test"]
    for test_id in ("ex3-test", "ex4-test"):  # 10**400: a wrong answer, never a crash; its digits never shown
        assert verdicts[test_id]["score"] == 0.0 and "10000000000" not in json.dumps(verdicts[test_id])
        assert "your answer" in verdicts[test_id]["failures"][0], verdicts[test_id]
    assert any("sent results that no running check wrote" in line for line in result["report"]), result["report"]


def test_a_forged_feedback_page_shows_the_true_score_and_runs_nothing(red_team):
    course = red_team["course"]
    path = course / "feedback" / "d-forged-page" / LESSON / f"{LESSON}.html"
    page = path.read_text()
    assert "<script" not in page.lower() and "onerror" not in page.lower() and "PWNED" not in page
    assert FORGED not in page and page.count("Score:") == 1 and "Score: 0 / 10" in page
    assert "Content-Security-Policy" in page and "http://" not in page and "https://" not in page
    autograded = nb.read(course / "autograded" / "d-forged-page" / LESSON / NOTEBOOK)
    kinds = {kind for cell in autograded.cells if cell.cell_type == "code" for output in cell.outputs
             for kind in output.get("data", {})}
    assert kinds <= {"text/plain", "image/png", "image/jpeg"}, kinds
    markdown = "".join(cell.source for cell in autograded.cells if cell.cell_type == "markdown")
    assert "<script" not in markdown and "<img" not in markdown


def test_the_forged_page_in_chromium(red_team):
    from tests.browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, REQUIRE_ENV

    if not CHROMIUM.exists():
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    path = red_team["course"] / "feedback" / "d-forged-page" / LESSON / f"{LESSON}.html"
    requests = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri())
            page.wait_for_timeout(500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "forged-feedback-page.png"), full_page=True)
            title, score, text = page.title(), page.inner_text("header.grader .score"), page.inner_text("body")
        finally:
            browser.close()
    assert title == f"Feedback: {LESSON}, d-forged-page"
    assert score == "Score: 0 / 10" and FORGED not in text
    assert requests == [path.as_uri()]  # nothing else was loaded


def test_links_fifos_and_unreadable_files_are_reported_never_read(red_team):
    course, run1 = red_team["course"], red_team["run1"]
    skipped = dict(run1.skipped)
    assert "symbolic link" in skipped[f"h-linked_{NOTEBOOK}"]
    assert any("symbolic link" in why for name, why in skipped.items() if name.startswith("i-linked"))
    assert "not a regular file" in skipped["j-fifo.ipynb"]
    for student in ("h-linked", "i-linked", "j-fifo"):
        assert not (course / "feedback" / student).exists()
    rows = red_team["run1_rows"]
    assert rows["g-unreadable"]["status"].startswith("not graded") and rows["g-unreadable"]["score"] == ""
    assert "h-linked" not in rows and "i-linked" not in rows


def test_shared_memory_cannot_pass_the_memory_limit(red_team):
    course = red_team["course"]
    result = record(course, "mmap")
    assert not any("TOUCHED" in text for text in outputs(course, "mmap"))
    limit = RUN2_LIMITS.describe("memory")
    assert any(limit in line for line in result["report"]), result["report"]
    assert "for all its processes together" in feedback_text(course, "mmap")


def test_a_stalling_notebook_is_graded_in_one_pass_within_its_budget(red_team):
    course = red_team["course"]
    result = record(course, "sleepy")
    assert result["kernel_starts"] == 1  # interrupted in place: no new kernel, no run from the start
    assert any("used up its time budget (40 s)" in line for line in result["report"]), result["report"]
    assert any("were not run" in line for line in result["report"])
    assert result["seconds"] < 40 + 4 * (10 + 5) + 30  # budget, four graded cells after it, kernel start


def test_a_zip_entry_pointing_outside_is_reported(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("alice/" + NOTEBOOK, "{}")
        zipped.writestr("../evil.ipynb", "{}")
    found = collect.collect(archive, LESSON)
    try:
        assert any("../evil.ipynb" in name and "outside" in why for name, why in found.skipped), found.skipped
        assert not (tmp_path.parent / "evil.ipynb").exists()
    finally:
        found.cleanup()
