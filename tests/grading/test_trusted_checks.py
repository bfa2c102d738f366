"""The grader's reading of test cells, the version it runs, and its verdicts."""

from __future__ import annotations

import pytest

from course_utils.grading import trusted

CELL = '''import numpy as np

from course_utils.checks import check

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
    assert "from course_utils.checks import check" not in source and "spec_from_file_location" in source
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
    raised = {**right, "ex1-test/1": [trusted.Raised("ValueError: shapes do not match")]}
    verdict = trusted.verdicts({"ex1-test": cell}, raised)["ex1-test"]
    assert verdict.score == 0 and verdict.failures == [
        "hidden check 1 of 2: your code raised ValueError: shapes do not match. Hint: a 2-D array"]
    forged_twice = {**right, "ex1-test/0": [[1, 0], [0, 1]]}  # a second, different value for the same check
    assert trusted.verdicts({"ex1-test": cell}, forged_twice)["ex1-test"].score == 0


def test_visible_failures_say_what_was_expected(cell):
    verdict = trusted.verdicts({"ex1-test": cell}, {"ex1-test/0": [[0, 1]]})["ex1-test"]
    assert verdict.failures[0] == ("visible check 1 of 1: expected [1, 0], got [0, 1]: they first differ at [0]. "
                                   "Hint: sort by score")


def test_log_lines_that_are_not_json_are_ignored(tmp_path):
    log = tmp_path / "log"
    log.write_text('{"check": "a/0", "value": 1}\nnot json\n{"value": 2}\n')
    assert trusted.read_log(log) == {"a/0": [1]}


def test_grading_version_runs_every_check_and_ends_with_the_first_failure(cell, tmp_path, monkeypatch):
    """A wrong visible answer and a call that raises do not stop the checks after them."""
    import numpy as np

    from course_utils import checks

    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(checks.LOG_VARIABLE, str(log))
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
    logged = trusted.read_log(log)
    assert logged == {"ex1-test/0": [[0, 1]], "ex1-test/1": [trusted.Raised("ValueError: shapes do not match")],
                      "ex1-test/2": [[0]]}
    failures = trusted.verdicts({"ex1-test": cell}, logged)["ex1-test"].failures
    assert [f.split(":")[0] for f in failures] == ["visible check 1 of 1", "hidden check 1 of 2"]
