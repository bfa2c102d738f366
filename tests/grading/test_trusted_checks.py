"""The grader's reading of test cells, the version it runs, and its verdicts."""

from __future__ import annotations

import pytest

from course_utils.grading import trusted

CELL = '''import numpy as np

from course_utils.lesson.checks import check

check(rank(np.array([1.0, 0.0]), [[0.2, 0.9], [0.8, 0.1]]), [1, 0], "sort by score")
### BEGIN HIDDEN TESTS
check(rank(np.array([0.0, 1.0]),
           [[1.0, 0.0], [0.0, 2.0]]), [1, 0], "a 2-D array", tolerance=0.1)
check(rank(np.ones(3), [np.ones(3)]), [0], "one document")
### END HIDDEN TESTS'''


@pytest.fixture
def cell():
    return trusted.parse_test_cell("ex1-test", CELL, points=3)


def test_checks_are_read_with_calls_expected_values_hints_and_visibility(cell):
    assert [c.check_id for c in cell.checks] == ["ex1-test/0", "ex1-test/1", "ex1-test/2"]
    assert [c.hidden for c in cell.checks] == [False, True, True]
    assert cell.checks[1].call == "rank(np.array([0.0, 1.0]),\n           [[1.0, 0.0], [0.0, 2.0]])"
    assert cell.checks[1].expected == [1, 0] and cell.checks[1].tolerance == 0.1
    assert cell.checks[2].hint == "one document"


def test_grading_version_keeps_no_hidden_expected_value_and_loads_check_afresh(cell):
    source = trusted.grading_source(cell, CELL)
    assert "from course_utils.lesson.checks import check" not in source and "spec_from_file_location" in source
    assert "check(rank(np.ones(3), [np.ones(3)]), hint='one document', check_id='ex1-test/2')" in source
    assert "[1, 0], 'sort by score', check_id='ex1-test/0')" in source  # visible: expected kept
    hidden_part = source.split("### BEGIN HIDDEN TESTS")[1]
    assert "[1, 0]" not in hidden_part.replace("[[1.0, 0.0], [0.0, 2.0]]", "")
    compile(source, "grading", "exec")


def test_a_check_needs_a_literal_expected_value():
    with pytest.raises(ValueError, match="literals"):
        trusted.parse_test_cell("t", "check(f(1), compute_expected())", 1)
    with pytest.raises(ValueError, match="literal expected value"):
        trusted.parse_test_cell("t", "check(f(1))", 1)


def test_verdict_needs_every_check_to_run_and_agree(cell):
    right = {"ex1-test/0": [[1, 0]], "ex1-test/1": [[1, 0]], "ex1-test/2": [[0]]}
    assert trusted.verdicts({"ex1-test": cell}, right)["ex1-test"].score == 3
    wrong_hidden = {**right, "ex1-test/2": [[1]]}
    verdict = trusted.verdicts({"ex1-test": cell}, wrong_hidden)["ex1-test"]
    assert verdict.score == 0 and verdict.failures == [
        "hidden check 2 of 2: returned a wrong answer. Hint: one document"]
    stopped = {"ex1-test/0": [[1, 0]]}
    failures = trusted.verdicts({"ex1-test": cell}, stopped)["ex1-test"].failures
    assert failures == ["hidden check 1 of 2: not reached: the cell stopped before it.",
                        "hidden check 2 of 2: not reached: the cell stopped before it."]
    raised = {**right, "ex1-test/1": [trusted.Raised("ValueError")]}
    verdict = trusted.verdicts({"ex1-test": cell}, raised)["ex1-test"]
    assert verdict.score == 0 and verdict.failures == [
        "hidden check 1 of 2: your code raised ValueError. Hint: a 2-D array"]
    own_class = {**right, "ex1-test/1": [trusted.Raised("SecretCarrier")]}  # a class name could carry data
    assert trusted.verdicts({"ex1-test": cell}, own_class)["ex1-test"].failures == [
        "hidden check 1 of 2: your code raised an exception of its own class. Hint: a 2-D array"]
    for forged in ([[1, 0], [0, 1]], [[1, 0], [1, 0]]):  # a check's result reported twice never counts
        assert trusted.verdicts({"ex1-test": cell}, {**right, "ex1-test/0": forged})["ex1-test"].score == 0


def test_visible_failures_say_what_was_expected(cell):
    verdict = trusted.verdicts({"ex1-test": cell}, {"ex1-test/0": [[0, 1]]})["ex1-test"]
    assert verdict.failures[0] == ("visible check 1 of 1: expected [1, 0], your answer differs at [0]. "
                                   "Hint: sort by score")


@pytest.mark.parametrize(("actual", "expected", "words"), [
    ("a secret the code found", [1, 0], "expected [1, 0], got a string"),
    ([1, 2, 3], [1, 0], "expected 2 items, got 3"),
    ({"top": [1, 2]}, {"top": [1, 3]}, "expected {'top': [1, 3]}, your answer differs at ['top'][1]"),
    (10**400, 2.5, "expected 2.5, your answer is different"),
    ({"__repr__": "<object>"}, 1, "expected 1, got an object the checks cannot compare"),
])
def test_failure_words_never_show_the_students_value(actual, expected, words):
    assert trusted.difference(actual, expected) == words
    assert "secret" not in words and "400" not in words


def test_malformed_records_are_not_results():
    assert trusted.record_entry({"check": "a/0", "value": 1}) == ("a/0", 1)
    assert trusted.record_entry({"check": "a/0", "error": "ValueError"}) == ("a/0", trusted.Raised("ValueError"))
    for record in ({"value": 2}, "text", {"check": 3, "value": 1}, {"check": "a/0"}, None):
        assert trusted.record_entry(record) is None


def test_grading_version_runs_every_check_and_ends_with_the_first_failure(cell, monkeypatch):
    """A wrong visible answer and a call that raises do not stop the checks after them; each check's
    value (or the type of what it raised) is published as a record, and the cell ends failing."""
    import IPython.display
    import numpy as np

    published = []
    monkeypatch.setattr(IPython.display, "publish_display_data", lambda data, metadata: published.append(data))
    calls = []

    def rank(query, documents):
        calls.append(len(documents))
        if len(calls) == 2:
            raise ValueError("shapes do not match")
        return [0, 1] if len(calls) == 1 else [0]

    source = trusted.grading_source(cell, CELL)
    with pytest.raises(AssertionError, match="Not yet: expected \\[1, 0\\]") as error:
        exec(compile(source, "grading", "exec"), {"rank": rank, "np": np})
    assert type(error.value).__name__ == "CheckFailed" and calls == [2, 2, 1]  # all three checks ran
    from course_utils.lesson.checks import RECORD_MIME

    logged: dict[str, list] = {}
    for data in published:
        check_id, value = trusted.record_entry(data[RECORD_MIME])
        logged.setdefault(check_id, []).append(value)
    assert logged == {"ex1-test/0": [[0, 1]], "ex1-test/1": [trusted.Raised("ValueError")], "ex1-test/2": [[0]]}
    failures = trusted.verdicts({"ex1-test": cell}, logged)["ex1-test"].failures
    assert [f.split(":")[0] for f in failures] == ["visible check 1 of 1", "hidden check 1 of 2"]


def test_every_exercise_of_every_lesson_has_a_hidden_check():
    """Visible checks' expected values are in the student's notebook, so code running in the kernel could fake
    their results; hidden checks' values never enter it. Every exercise needs one to be worth its points."""
    from course_utils.grading import notebooks as nb
    from course_utils.grading.capstone import is_capstone_cell
    from tests.grading.support import ROOT

    lessons = sorted(ROOT.glob("solutions/*/*.ipynb"))
    assert len(lessons) >= 7
    for path in lessons:
        for grade_id, test in nb.test_cells(nb.read(path)).items():
            if is_capstone_cell(test.source):  # no expected values at all: the grader's held-out run decides
                continue
            checks = trusted.parse_test_cell(grade_id, test.source, 1).checks
            assert any(check.hidden for check in checks), (path.name, grade_id)


def test_a_dict_of_hints_speaks_to_the_part_that_differs():
    source = ('from course_utils.lesson.checks import check\n'
              'check(f(), {"candidates": [1, 3], "top": [3]},\n'
              '      {"candidates": "by binary score", "top": "by exact score"})')
    cell = trusted.parse_test_cell("ex5-test", source, points=3)
    assert cell.checks[0].hint == {"candidates": "by binary score", "top": "by exact score"}
    assert "hint={'candidates'" not in trusted.grading_source(cell, source)  # the dict is passed on as a literal
    failures = trusted.verdicts({"ex5-test": cell}, {"ex5-test/0": [{"candidates": [1, 3], "top": [1]}]})[
        "ex5-test"].failures
    assert failures == ["visible check 1 of 1: expected {'candidates': [1, 3], 'top': [3]}, your answer differs "
                        "at ['top'][0]. Hint: by exact score"]
