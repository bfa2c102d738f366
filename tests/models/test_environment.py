"""``environment.environment_variables``: the one helper that sets variables for a block and puts them back."""

from __future__ import annotations

import os

import pytest

from course_utils.models.environment import environment_variables


def test_named_variables_are_set_then_restored_or_removed(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_KEPT", "before")
    monkeypatch.delenv("COURSE_TEST_NEW", raising=False)
    monkeypatch.delenv("COURSE_TEST_OTHER", raising=False)
    with environment_variables(COURSE_TEST_KEPT="inside", COURSE_TEST_NEW="1"):
        assert os.environ["COURSE_TEST_KEPT"] == "inside" and os.environ["COURSE_TEST_NEW"] == "1"
        os.environ["COURSE_TEST_OTHER"] = "set by the block"
    assert os.environ["COURSE_TEST_KEPT"] == "before"
    assert "COURSE_TEST_NEW" not in os.environ
    assert os.environ.pop("COURSE_TEST_OTHER") == "set by the block"  # not one of the named variables: kept


def test_variables_are_restored_after_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_KEPT", "before")
    with pytest.raises(RuntimeError), environment_variables(COURSE_TEST_KEPT="inside"):
        raise RuntimeError("stop")
    assert os.environ["COURSE_TEST_KEPT"] == "before"


def test_a_value_that_is_not_a_string_is_a_type_error(monkeypatch):
    monkeypatch.delenv("COURSE_TEST_NEW", raising=False)
    with pytest.raises(TypeError, match="COURSE_TEST_NEW must be a string, got int"):
        with environment_variables(COURSE_TEST_NEW=1):
            pass
    assert "COURSE_TEST_NEW" not in os.environ
