"""The capstone (lesson 9) graded for real, once: six submissions in one ``grade`` run, many assertions.

The held-out run gives partial credit by the rubric (``course_utils.lesson.capstone.POINTS``): 3 points for
beating BM25's held-out nDCG@10, 3 for beating dense -> ColBERT's, 1 for each budget line (counted only above
BM25). The written explanation (3 points) is graded by hand and stays pending.

- ``solution``: the instructor's pipeline: 9;
- ``blank``: the student notebook as released: 0;
- ``cheat``: searches every file the sandbox lets it read for the held-out split (queries and judgements),
  and would answer from the judgements if it found them; it finds nothing and answers with the first ten
  passages: 0;
- ``over-bytes``: the solution keeping 4 KB of padding per passage: 8 (the bytes line lost);
- ``slow``: the solution sleeping 300 ms per query (thousands of times BM25's time): 8 (the time line lost);
- ``crash``: the solution whose search kills the kernel on the first held-out query: 0, a plain message,
  and the grader goes on;
- ``forger``: the solution whose search also sends, on its first call, a record of the run's last step
  (the held-out rankings, as if already answered in no time): the step then arrives twice and counts for
  nothing: 0.
"""

from __future__ import annotations

import json
import shutil

import pytest

from course_utils.grading import command
from course_utils.grading import notebooks as nb
from course_utils.grading.capstone import HELDOUT, load_heldout
from course_utils.grading.gradebook import read_record
from tests.grading import support as gs

LESSON = gs.CAPSTONE
TEST_ID = "capstone-heldout"
CELL_TIMEOUT = 120

#: Runs in an ordinary cell of the cheat's notebook, in the sandbox: every readable file whose name suggests
#: data, and every file of the course package and the working folder, searched for the held-out split.
CHEAT_SEARCH = r'''
import os
# joined at run time, so that this cell's own source (in IPython's history file) holds none of them
MARKERS = [b"h01\t" + b"p029", b'"id": ' + b'"h12"', b"which serpent " + b"weighs the most on earth", b"heldout"]
found, read = [], 0
for top in ("/",):
    for folder, folders, files in os.walk(top):
        folders[:] = [f for f in folders if os.path.join(folder, f) not in ("/proc", "/sys", "/dev")]
        for name in files:
            path = os.path.join(folder, name)
            interesting = name.endswith((".jsonl", ".tsv", ".json", ".ipynb", ".csv", ".txt")) or \
                "course_utils" in path or not (path.startswith("/usr") or "site-packages" in path)
            if not interesting or os.path.islink(path):
                continue
            try:
                if os.path.getsize(path) > 2_000_000:
                    continue
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            read += 1
            if any(marker in data for marker in MARKERS[:3]) or MARKERS[3] in path.encode():
                found.append(path)
print(f"CHEAT files read: {read}; held-out files found: {len(found)} {found[:5]}")
'''

CHEAT_PIPELINE = '''
def build_pipeline(passages):
    """Answers from the held-out judgements when the search above found them; else the first ten passages."""
    ids = list(passages)

    def search(query_text, k):
        return ids[:k]

    return search
'''

OVER_BYTES = '''
_solution_build = build_pipeline


def build_pipeline(passages):
    """The solution, keeping 4 KB of padding per passage."""
    inner = _solution_build(passages)
    padding = np.ones(len(passages) * 4096, np.uint8)

    def search(query_text, k):
        assert padding.size
        return inner(query_text, k)

    return search
'''

SLOW = '''
import time

_solution_build = build_pipeline


def build_pipeline(passages):
    """The solution, 300 ms slower per query."""
    inner = _solution_build(passages)

    def search(query_text, k):
        time.sleep(0.3)
        return inner(query_text, k)

    return search
'''

CRASH = '''
import os

from course_utils.data import load_corpus as _load

_solution_build, _dev = build_pipeline, set(_load().queries.values())


def build_pipeline(passages):
    """The solution, but a held-out query (one not in the development set) kills the kernel."""
    inner = _solution_build(passages)

    def search(query_text, k):
        if query_text not in _dev:
            os._exit(3)
        return inner(query_text, k)

    return search
'''

FORGER = '''
from IPython.display import publish_display_data

_solution_build = build_pipeline


def build_pipeline(passages):
    """The solution, sending a forged record of the run's last step the first time search is called."""
    inner, sent = _solution_build(passages), []

    def search(query_text, k):
        if not sent:
            sent.append(True)
            forged = {"rankings": [list(passages)[:k]] * 16}
            publish_display_data({"application/vnd.course-check+json": {"check": "capstone-heldout/6",
                                                                         "value": forged}})
        return inner(query_text, k)

    return search
'''

EXPECTED = {"solution": 9.0, "blank": 0.0, "cheat": 0.0, "over-bytes": 8.0, "slow": 8.0, "crash": 0.0,
            "forger": 0.0}


def _with_answer(extra: str | None = None, replace: str | None = None, before_test: str | None = None):
    """The student notebook with the solution's answer (plus ``extra``), or ``replace`` as the answer; and
    ``before_test`` as an ordinary cell just above the answer."""
    notebook = gs.solved_notebook(gs.ROOT, LESSON)
    cells = notebook.cells
    index = next(i for i, cell in enumerate(cells) if nb.nbgrader_info(cell).get("grade_id") == "ex1-answer")
    if replace is not None:
        cells[index].source = replace.strip()
    if extra is not None:
        cells[index].source += "\n\n" + extra.strip()
    if before_test is not None:
        import nbformat

        cells.insert(index, nbformat.v4.new_code_cell(before_test.strip()))
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course after one ``grade`` run of the capstone's six submissions."""
    tmp = tmp_path_factory.mktemp("capstone")
    course = gs.new_course(tmp / "course", [LESSON])
    submissions = {
        "solution": nb.read(gs.ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"),
        "blank": gs.student_notebook(gs.ROOT, LESSON),
        "cheat": _with_answer(replace=CHEAT_PIPELINE, before_test=CHEAT_SEARCH),
        "over-bytes": _with_answer(OVER_BYTES),
        "slow": _with_answer(SLOW),
        "crash": _with_answer(CRASH),
        "forger": _with_answer(FORGER),
    }
    folder = gs.submissions_folder(tmp / "submissions", submissions, LESSON)
    outcome = command.grade(course, LESSON, folder, jobs=2, timeout=CELL_TIMEOUT, echo=lambda *a: None)
    return course, outcome


def _verdict(course, student) -> dict:
    return read_record(course, LESSON, student)["verdicts"][TEST_ID]


def test_every_submission_gets_exactly_its_points(graded):
    course, outcome = graded
    assert not outcome.failed and not outcome.skipped, outcome
    scores = gs.gradebook_scores(course, LESSON)
    assert scores == pytest.approx(EXPECTED), json.dumps(
        {student: _verdict(course, student) for student in scores}, indent=1, default=str)


def test_the_solution_beats_both_baselines_within_the_budget(graded):
    course, _ = graded
    details = _verdict(course, "solution")["details"]
    assert details["pipeline"]["ndcg"] > details["bm25"]["ndcg"] > 0
    assert details["pipeline"]["ndcg"] > details["dense_colbert"]["ndcg"] > 0
    queries, _ = load_heldout(gs.ROOT / "solutions" / LESSON / HELDOUT)
    assert details["bytes_per_passage"] < 2048 and details["queries"] == len(queries)
    assert details["points"] == {"beats_bm25": 3, "beats_dense_colbert": 3, "bytes_per_passage": 1,
                                 "query_time_ratio": 1, "build_seconds": 1}


def test_over_budget_pipelines_lose_only_that_line_and_are_told_why(graded):
    course, _ = graded
    over = _verdict(course, "over-bytes")
    assert over["details"]["points"]["bytes_per_passage"] == 0 and over["details"]["bytes_per_passage"] > 4096
    assert any("bytes stored per passage" in line for line in over["failures"])
    slow = _verdict(course, "slow")
    assert slow["details"]["points"]["query_time_ratio"] == 0 and slow["details"]["pipeline"]["ms"] >= 300
    assert any("time per query" in line for line in slow["failures"])
    feedback = gs.feedback_text(course, "slow", LESSON)
    assert "over budget" in feedback and "held-out queries: nDCG@10" in feedback


def test_a_crashing_pipeline_gets_a_plain_message_and_the_rest_is_graded(graded):
    course, _ = graded
    crash = _verdict(course, "crash")
    assert crash["score"] == 0 and "pipeline" not in crash["details"]
    assert any("did not answer the held-out queries" in line for line in crash["failures"]), crash["failures"]
    assert any("did not finish: the test cell stopped the Python kernel" in line for line in crash["failures"])
    forger = _verdict(course, "forger")
    assert forger["score"] == 0 and "pipeline" not in forger["details"], forger
    assert any("stopped the Python kernel" in line for line in read_record(course, LESSON, "crash")["report"])
    for student in ("solution", "blank", "over-bytes", "slow"):  # nbgrader's in-kernel score is not a finding here
        assert not [line for line in read_record(course, LESSON, student)["report"] if "nbgrader gave" in line]
    assert "held-out queries instead" in gs.feedback_text(course, "blank", LESSON)


def test_the_cheat_finds_no_held_out_file_in_the_sandbox(graded):
    course, _ = graded
    autograded = nb.read(course / "autograded" / "cheat" / LESSON / f"{LESSON}.ipynb")
    printed = "".join(output.get("text", "") for cell in autograded.cells if cell.cell_type == "code"
                      for output in cell.get("outputs", []))
    line = next(text for text in printed.splitlines() if text.startswith("CHEAT files read"))
    read = int(line.split("files read: ")[1].split(";")[0])
    assert read > 1000, line  # it did search: the course package, the environment, the working folder
    assert "held-out files found: 0 " in line, line


def test_held_out_judgements_never_reach_the_kernel_and_are_never_released(graded, tmp_path):
    """The grading version of the notebook holds the held-out query texts only; nbgrader's release has no
    held-out folder."""
    from course_utils.grading import nbgrader_course

    course, _ = graded
    queries, qrels = load_heldout(gs.ROOT / "solutions" / LESSON / HELDOUT)
    setup = nbgrader_course.prepare(course, LESSON, CELL_TIMEOUT)
    try:
        graded_version = (setup.template / "solutions" / LESSON / f"{LESSON}.ipynb").read_text()
        copied = (setup.template / "solutions" / LESSON / HELDOUT).exists()
    finally:
        shutil.rmtree(setup.template.parent, ignore_errors=True)
    assert all(text in graded_version for text in queries.values())
    judged = {pid for grades in qrels.values() for pid in grades}
    assert not [pid for pid in judged if pid in graded_version], "a judged passage id reached the notebook"
    assert not [qid for qid in queries if qid in graded_version], "a held-out query id reached the notebook"
    assert not copied
    assert not (course / "notebooks" / LESSON / HELDOUT).exists()
    released = gs.make_course(tmp_path / "released", [LESSON])
    assert not (released / "notebooks" / LESSON / HELDOUT).exists()
    assert sorted(p.name for p in (released / "notebooks" / LESSON).iterdir()) == [f"{LESSON}.ipynb"]


def test_the_written_explanation_waits_for_the_instructor_and_the_report_has_the_leaderboard(graded):
    from nbgrader.api import Gradebook

    from course_utils.grading import report

    course, _ = graded
    report.write_lesson(course, LESSON)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("capstone-explanation", LESSON, LESSON, "solution")
        assert grade.needs_manual_grade and grade.max_score == 3
    page = (course / "reports" / LESSON / "report.html").read_text()
    assert "Leaderboard" in page and "waiting for manual grading" in page
    assert (course / "reports" / LESSON / "leaderboard.png").stat().st_size > 10_000
    rows = gs.csv_table(course)
    assert rows[("solution", LESSON)]["score"] == 9


def test_the_waiting_explanation_is_pending_not_missed_everywhere(graded):
    """The explanation waits for the instructor: the summary lists it as waiting (never as missed), grades.csv
    says so in its status, and the feedback page counts 9 of 12 so far and says the 3 points wait."""
    import csv

    from course_utils.grading.gradebook import summary

    course, _ = graded
    text = summary(course, LESSON)
    assert "capstone-explanation" not in text.split("Waiting for manual grading")[0], text
    assert "capstone-explanation: 7 of 7 students (3 points)" in text.split("Waiting for manual grading")[1], text
    assert "capstone-heldout: 6 of 7 students (9 points)" in text.split("Waiting for manual grading")[0], text
    with open(course / "grades.csv", newline="") as table:
        status = {row["student"]: row["status"] for row in csv.DictReader(table) if row["lesson"] == LESSON}
    assert len(status) == 7 and all("manual grading pending: capstone-explanation" in s for s in status.values())
    feedback = gs.feedback_text(course, "solution", LESSON)
    assert "Score: 9 / 12 so far" in feedback, feedback[:400]
    assert "(3 points) is waiting for your instructor" in feedback and "explain your pipeline" in feedback


def test_the_report_tells_the_capstone_as_it_was_graded(graded):
    """Unsolved from the held-out run's failure (the blank raised NotImplementedError), the rubric lines as its
    item analysis, and the over-budget submissions marked on the leaderboard."""
    from course_utils.grading import class_results, item_analysis, report
    from course_utils.grading import notebooks as nbs
    from course_utils.grading.nbgrader_course import source_notebook_path
    from course_utils.grading.trusted import parse_test_cells

    course, _ = graded
    results = class_results.lesson_results(course, LESSON)
    stats = item_analysis.analyse(results, parse_test_cells(nbs.read(source_notebook_path(course, LESSON))))
    heldout = next(e for e in stats.exercises if e.test_id == TEST_ID)
    assert heldout.unsolved == pytest.approx(1 / 7)  # the blank
    lost = {c.check_id.split("/")[1]: c.failed for c in stats.checks}
    assert lost == {"beats_bm25": 4, "beats_dense_colbert": 4, "bytes_per_passage": 5, "query_time_ratio": 5,
                    "build_seconds": 4}, lost
    report.write_lesson(course, LESSON)
    page = (course / "reports" / LESSON / "report.html").read_text()
    assert "0 of 0 checks" not in page and "rubric: above BM25" in page
    over = {student: report._over_budget(_verdict(course, student)["details"]) for student in ("solution",
                                                                                               "over-bytes", "slow")}
    assert over == {"solution": "", "over-bytes": "bytes", "slow": "time"}, over


def test_the_leaderboard_marks_over_budget_points_and_keeps_them_off_the_frontier(monkeypatch):
    """No grading run: the figure's points as drawn (a fast, better pipeline over the byte budget must not make
    the frontier, and its label says why)."""
    import matplotlib.axes

    from course_utils.grading import report_figures

    steps, labels = [], []
    monkeypatch.setattr(matplotlib.axes.Axes, "step", lambda self, x, y, **kw: steps.append(list(zip(x, y))))
    original = matplotlib.axes.Axes.annotate
    monkeypatch.setattr(matplotlib.axes.Axes, "annotate",
                        lambda self, text, *a, **kw: labels.append(text) or original(self, text, *a, **kw))
    image = report_figures.leaderboard_png({"ok": (5.0, 0.60), "big": (1.0, 0.70)},
                                           {"BM25": (0.05, 0.58), "dense -> ColBERT": (3.0, 0.56)}, 250,
                                           {"big": "bytes"})
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    assert steps == [[(0.05, 0.58), (5.0, 0.60)]]
    assert sorted(labels) == ["big (over budget: bytes)", "ok"]
