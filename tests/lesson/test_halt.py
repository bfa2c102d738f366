"""After a failed set-up cell, every later cell stops at once pointing at the set-up (course_utils.lesson.halt)."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_utils.lesson import halt
from course_utils.lesson.colab import setup_cell_source

MESSAGE = "Missing model(s): colbert-ir/colbertv2.0. They are not in the model cache.\nTo fix it, ..."


@pytest.fixture
def shell():
    shell = InteractiveShell()
    yield shell
    halt.resume(shell)
    halt.resume()


def test_a_later_cell_stops_with_the_setup_message_and_runs_again_after_resume(shell):
    halt.halt(MESSAGE, shell)
    result = shell.run_cell("answer = 42")
    assert isinstance(result.error_in_exec, halt.SetupFailedError)
    assert "answer" not in shell.user_ns
    text = str(result.error_in_exec)
    assert "the set-up cell (the lesson's first code cell) failed" in text
    assert text.endswith("It said: Missing model(s): colbert-ir/colbertv2.0. They are not in the model cache.")
    assert result.error_in_exec._render_traceback_() == [f"SetupFailedError: {text}"]
    halt.resume(shell)
    assert shell.run_cell("answer = 42").success and shell.user_ns["answer"] == 42


def test_fixes_and_the_setup_cell_itself_still_run(shell):
    halt.halt(MESSAGE, shell)
    assert shell.run_cell("%env COURSE_HALT_TEST=1").success
    assert shell.run_cell("import os\nos.environ['COURSE_HALT_TEST'] = '2'  # a fix").success
    assert not shell.run_cell("import os\nx = 1").success  # any other line stops it
    assert halt.lets_through(setup_cell_source("https://github.com/a/b", lesson="02-maxsim"))
    assert halt.lets_through("import sys\n!{sys.executable} -m course_utils doctor")


def test_halting_twice_registers_once_and_bad_messages_are_refused(shell):
    halt.halt(MESSAGE, shell)
    halt.halt("another", shell)
    assert shell.input_transformers_post.count(halt._transformer) == 1
    assert halt.stopped_by() == "another"
    with pytest.raises(ValueError, match="message must be"):
        halt.halt("", shell)
