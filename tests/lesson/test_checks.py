"""check(): the comparison of every graded test, its messages, and what it sends to the grader."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.lesson import checks
from course_utils.lesson.checks import check, compare, plain


def test_plain_turns_numpy_and_tuples_into_python_data():
    assert plain(np.array([[1, 2], [3, 4]], dtype=np.int64)) == [[1, 2], [3, 4]]
    assert plain(np.float32(0.5)) == 0.5 and type(plain(np.float32(0.5))) is float
    assert plain((1, (2.0, "a"))) == [1, [2.0, "a"]]
    assert plain({"k": np.int32(3)}) == {"k": 3}
    assert plain(True) is True and plain(None) is None
    assert plain(object())["__repr__"].startswith("<object")


class Sneaky:
    """An answer that claims to equal everything."""

    def __eq__(self, other):
        return True


@pytest.mark.parametrize("actual, expected", [
    (1.0000001, 1.0), (1e-7, 0.0), ([1, 2, 0], [1, 2, 0]), (np.array([1.0, 2.0]), [1.0, 2.0]),
    ({"dense": 3072, "multi_vector": 13312}, {"dense": 3072, "multi_vector": 13312}), ("a", "a"), (None, None),
    (3.0, 3), (np.int64(7), 7), ((1, 2), [1, 2]),
])
def test_equal_answers_pass(actual, expected):
    assert compare(plain(actual), plain(expected)) is None
    check(actual, expected)  # silent


@pytest.mark.parametrize("actual, expected, words", [
    (1_000_001, 1_000_000, "expected 1000000, got 1000001"),  # whole numbers are exact
    (1.001, 1.0, "expected 1.0, got 1.001"),
    (float("nan"), 1.0, "got nan"),
    (True, 1, "expected a number, got a bool"),
    ("1.5", 1.5, "expected a number, got a string"),
    ([0, 1], [0, 1, 2], "expected 3 items, got 2"),
    ((3072, 13312), {"dense": 3072, "multi_vector": 13312}, "expected a dict, got a list or tuple of 2"),
    ({"dense": 1}, {"dense": 1, "multi_vector": 2}, "expected the keys"),
    ([[1, 2], [3, 5]], [[1, 2], [3, 4]],
     "expected [[1, 2], [3, 4]], got [[1, 2], [3, 5]]: they first differ at [1][1]"),
    (list(range(60)), list(range(59)) + [0], "expected 0 at [59], got 59"),  # long lists: only the difference
    (Sneaky(), [1, 2], "got an object"),
    (None, 0.5, "got None"),
])
def test_wrong_answers_fail_with_one_sentence(actual, expected, words):
    with pytest.raises(AssertionError) as error:
        check(actual, expected, "look at the rows")
    message = str(error.value)
    assert words in message and message.startswith("Not yet: ") and message.endswith("Hint: look at the rows")
    assert "\n" not in message


def test_tolerance_can_be_widened_for_floats():
    check(1.01, 1.0, tolerance=0.05)
    with pytest.raises(AssertionError):
        check(1.01, 1.0)


def test_expected_values_must_be_plain_data():
    with pytest.raises(TypeError, match="plain data"):
        compare(1, object())


def test_grading_run_publishes_values_and_compares_hidden_checks_outside(monkeypatch):
    records = []
    monkeypatch.setattr(checks, "publish_record", records.append)
    check(np.array([1, 2]), [1, 2], "hint", check_id="ex1-test/0")
    check([9], hint="hidden: no expected value here", check_id="ex1-test/1")  # never raises in the kernel
    check(5, 5)  # no id: a student's own check, not published
    assert records == [{"check": "ex1-test/0", "value": [1, 2]}, {"check": "ex1-test/1", "value": [9]}]
    with pytest.raises(checks.CheckFailed) as failed:
        check(3, 4, check_id="ex1-test/2")
    assert failed.value.course_recorded and records[-1] == {"check": "ex1-test/2", "value": 3}


def test_nothing_is_published_or_written_outside_grading(tmp_path, monkeypatch):
    records = []
    monkeypatch.setattr(checks, "publish_record", records.append)
    monkeypatch.chdir(tmp_path)
    check(1, 1)
    with pytest.raises(checks.CheckFailed):
        check(1, 2)
    assert records == [] and list(tmp_path.iterdir()) == []


def test_a_record_is_display_data_of_the_course_type_that_front_ends_do_not_show(monkeypatch):
    import IPython.display

    sent = []
    monkeypatch.setattr(IPython.display, "publish_display_data", lambda data, metadata: sent.append(data))
    checks.publish_record({"check": "a/0", "value": 1})
    assert sent == [{checks.RECORD_MIME: {"check": "a/0", "value": 1}}]
    assert "text/plain" not in sent[0]  # nothing for a person to read


def test_a_huge_integer_is_a_wrong_answer_not_a_crash():
    assert compare(10**400, 3.5) == "expected 3.5, got " + checks.short_repr(10**400)
    assert compare(10**400, 2) is not None and compare(-(10**400), 0.0) is not None


def test_a_failing_check_shows_its_message_alone_and_a_real_error_its_traceback(capsys):
    """In IPython (JupyterLab, Colab, nbgrader), a failed check is one marked message, no traceback
    into this module; an error in the student's own code keeps its traceback."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        shell.run_cell("from course_utils.lesson.checks import check\ncheck([0, 1], [1, 0], 'sort by score')")
        shown = capsys.readouterr().out
        assert "Check failed" in shown and "Not yet: expected [1, 0], got [0, 1]" in shown
        assert "Hint: sort by score" in shown
        assert "Traceback" not in shown and "checks.py" not in shown
        shell.run_cell("def answer():\n    return 1 / 0\ncheck(answer(), 1, 'hint')")
        shown = capsys.readouterr().out
        assert "ZeroDivisionError" in shown and "Check failed" not in shown
        assert "Traceback" in shown or "Cell In[" in shown
    finally:
        InteractiveShell.clear_instance()


def test_a_dict_of_hints_gives_the_hint_of_the_part_that_differs():
    hints = {"candidates": "the best by binary score", "top": "reorder the candidates by exact score"}
    with pytest.raises(checks.CheckFailed, match=r"differ at \['top'\]\[0\]\. Hint: reorder the candidates by exact"):
        check({"candidates": [1, 3], "top": [1]}, {"candidates": [1, 3], "top": [3]}, hints)
    with pytest.raises(checks.CheckFailed, match=r"Hint: the best by binary score$"):
        check({"candidates": [3, 1], "top": [1]}, {"candidates": [1, 3], "top": [3]}, hints)
    with pytest.raises(checks.CheckFailed, match="Hint: candidates: the best by binary score top: reorder"):
        check([1, 3], {"candidates": [1, 3], "top": [3]}, hints)  # not a dict: every part's hint
