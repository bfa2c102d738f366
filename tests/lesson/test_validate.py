"""python -m course_utils validate: the set-up cell's failure first, then each exercise passed / not solved yet /
failed with the check's message, on a real lesson notebook run as nbgrader's Validate button runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat

from course_utils.lesson import validate

ROOT = Path(__file__).resolve().parents[2]
LESSON = "02-maxsim"


def student_notebook(tmp_path: Path, answers: dict[str, str]) -> Path:
    """Lesson 2's student notebook with some answer cells replaced (cell id -> source), saved in tmp_path."""
    notebook = nbformat.read(ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.get("id") in answers:
            cell.source = answers[cell.get("id")]
    path = tmp_path / LESSON / f"{LESSON}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    return path


def run_validate(path: Path, **env: str) -> subprocess.CompletedProcess:
    """Run the README's command from the course folder (two levels above the notebook), as students do: the
    kernel starts in the notebook's folder, so a relative socket path would never connect."""
    environment = {**os.environ, "MPLBACKEND": "Agg", **env}
    relative = str(path.relative_to(path.parents[1]))
    prefix = environment.pop("COURSE_TEST_PREFIX", None)  # run as if the course's Python lived there
    command = ["-m", "course_utils", "validate", relative] if prefix is None else [
        "-c", "import sys; sys.prefix = sys.argv[1]; from course_utils.__main__ import main; "
              "sys.exit(main(['validate', sys.argv[2]]))", prefix, relative]
    done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=300, env=environment,
                          cwd=path.parents[1])
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith("kernel-")], "sockets left behind"
    return done


def test_each_exercise_is_passed_not_solved_yet_or_failed_with_the_checks_message(tmp_path):
    solution = nbformat.read(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    right = next(cell.source for cell in solution.cells if cell.get("id") == "ex1-answer")
    path = student_notebook(tmp_path, {"ex1-answer": right,
                                       "ex2-answer": "def maxsim_vectorized(*args):\n    return 0.0"})
    result = run_validate(path)  # the session's stand-in models (conftest.py)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("Exercise 1 (3 points): passed"), result.stdout
    assert lines[2].startswith("Exercise 2 (2 points): failed: Not yet: expected"), result.stdout
    assert lines[3] == "Exercise 3 (3 points): not solved yet: best_matches still raises NotImplementedError"
    assert lines[-1] == "1 of 5 exercises pass their visible checks."
    assert "set-up" not in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert "eavesdropping" not in result.stderr


def test_a_failed_setup_cell_is_said_first_and_no_exercise_is_blamed(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        hub = f"http://127.0.0.1:{sock.getsockname()[1]}"
    path = student_notebook(tmp_path, {})
    # an environment where the offline preview was built (its folder beside the Python), used without the flag
    prefix = tmp_path / "venv"
    (prefix / "offline-preview-models").mkdir(parents=True)
    result = run_validate(path, FASTEMBED_CACHE_PATH=str(tmp_path / "no-models"), HF_ENDPOINT=hub,
                          HF_HUB_OFFLINE="", COURSE_TEST_PREFIX=str(prefix))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("You have built the offline preview")  # first, and last (below)
    lines = lines[next(n for n, line in enumerate(lines) if line.startswith("Running ")):]
    assert lines[1].startswith("The set-up cell (the lesson's first code cell) FAILED"), result.stdout
    assert lines[2].startswith("  ModelsUnavailableError: Missing model(s): colbert-ir/colbertv2.0.")
    exercises = [line for line in lines if line.startswith("Exercise ")]
    assert len(exercises) == 5
    assert all(line.endswith("not checked: the set-up cell failed (above)") for line in exercises), exercises
    assert result.returncode == 1
    # last, how to use the preview's stand-ins with this command
    assert "You have built the offline preview" in result.stdout
    relative = path.relative_to(path.parents[1])
    assert result.stdout.rstrip().endswith(f"course_utils validate {relative} --offline-preview")


def test_a_validate_cell_in_the_notebook_does_not_run_validate_again_and_again(tmp_path):
    """The README's validate cell, saved at the end of the notebook: validate runs it once, and it stops at once."""
    path = student_notebook(tmp_path, {})
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(f"import sys\n!{{sys.executable}} -m course_utils validate "
                                                    f"{path.name}"))
    nbformat.write(notebook, path)
    result = run_validate(path)  # without the guard: one validate inside another until the timeout
    assert result.stdout.count("Running ") == 1 and result.stdout.count("exercises pass their visible checks") == 1
    assert result.returncode == 1  # the exercises are not solved
    executed = validate.execute(path)  # and what the cell printed there
    assert "validate is running this notebook" in "".join(o.get("text", "") for o in executed.cells[-1].outputs)


def test_summarize_numbers_exercises_by_their_headings_and_reads_errors():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### ✏️ Exercise 4 (2 points): something"),
        nbformat.v4.new_code_cell("check(f(), 1)", metadata={"nbgrader": {"grade": True, "points": 2}},
                                  outputs=[nbformat.v4.new_output("error", ename="ValueError", evalue="bad shape",
                                                                  traceback=[])], execution_count=3),
    ])
    summary = validate.summarize(notebook)
    assert [(r.number, r.points, r.status, r.message) for r in summary.exercises] == [
        (4, "2 points", "failed", "ValueError: bad shape")]
    assert "0 of 1 exercises" in validate.format_summary(summary)


def test_the_capstone_says_where_its_points_come_from_and_names_the_written_exercise():
    """Lesson 9 as executed: the held-out test cell passed, the written explanation is graded by hand."""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### ✏️ Exercise 1 (9 points): your pipeline"),
        nbformat.v4.new_code_cell("from course_utils.lesson.capstone import dev_check\n\ndev_check(build_pipeline)",
                                  metadata={"nbgrader": {"grade": True, "points": 9, "solution": False}},
                                  execution_count=5),
        nbformat.v4.new_markdown_cell("### ✏️ Exercise 2 (3 points, graded by your instructor): explain"),
        nbformat.v4.new_markdown_cell("My pipeline ...", metadata={"nbgrader": {"grade": True, "solution": True,
                                                                              "points": 3}}),
    ])
    summary = validate.summarize(notebook)
    assert [(r.number, r.status) for r in summary.exercises] == [(1, "passed"), (2, validate.MANUAL)]
    text = validate.format_summary(summary)
    assert "Exercise 1 (9 points): passed (answers with passage ids; points come from the held-out run when " \
           "graded)" in text
    assert "Exercise 2 (3 points, graded by your instructor): graded by your instructor" in text
    assert "1 of 1 exercises checked by code pass their visible checks; Exercise 2 is graded by your instructor." \
        in text
    assert "hidden checks" not in text


def test_a_missing_notebook_is_named(tmp_path):
    result = run_validate(tmp_path / "nothing.ipynb")
    assert result.returncode == 2 and "not found" in result.stderr and "nothing.ipynb" in result.stderr


def test_offline_preview_without_its_models_says_how_to_build_them(tmp_path):
    """``validate --offline-preview`` where the preview was never built: the fix, no kernel started."""
    prefix = tmp_path / "venv"
    prefix.mkdir()
    code = ("import sys; sys.prefix = sys.argv[1]; from course_utils.__main__ import main; "
            "sys.exit(main(['validate', '--offline-preview', 'missing.ipynb']))")
    done = subprocess.run([sys.executable, "-c", code, str(prefix)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "course.py start --offline-preview" in done.stderr, done.stderr


# -- the Validate button's dialog (course_utils.lesson.validate_button; the browser test clicks it) --------------

def test_the_dialog_puts_the_count_first_then_every_exercise():
    from course_utils.lesson.validate_button import DIALOG_STYLE, dialog_results

    summary = validate.Summary(exercises=[validate.ExerciseResult(1, "2 points", "passed"),
                                          validate.ExerciseResult(2, "3 points", "failed", "Not yet: a < b")])
    (entry,) = dialog_results(summary)["failed"]
    assert entry["source"] == "1 of 2 exercises pass their visible checks."
    assert entry["error"] == DIALOG_STYLE + (
        "Exercise 1 (2 points): passed (visible checks; hidden checks run when graded)\n"
        "Exercise 2 (3 points): failed: Not yet: a &lt; b")  # the dialog reads it as HTML


def test_the_dialog_says_the_setup_cell_failed_and_nothing_else():
    from course_utils.lesson.validate_button import dialog_results

    summary = validate.Summary(setup_error="ModelsUnavailableError: Missing model(s): x <y>", exercises=[
        validate.ExerciseResult(n, "1 point", "not checked", "the set-up cell failed (above)") for n in (1, 2)])
    (entry,) = dialog_results(summary)["failed"]
    assert entry["source"] == ("The set-up cell (the lesson's first code cell) failed, so none of the 2 exercises "
                               "could be checked.")
    assert "<b>ModelsUnavailableError: Missing model(s): x &lt;y&gt;</b>" in entry["error"]
    assert "Exercise 1" not in entry["error"]


def test_the_dialog_says_success_when_every_checked_exercise_passes():
    from course_utils.lesson.validate_button import dialog_results

    passed = validate.ExerciseResult(1, "9 points", "passed", capstone=True)
    assert dialog_results(validate.Summary(exercises=[passed])) == {}
    written = validate.ExerciseResult(2, "3 points", validate.MANUAL)
    assert dialog_results(validate.Summary(exercises=[passed, written])) == {}


def test_the_button_still_refuses_a_notebook_whose_test_cell_was_edited(tmp_path):
    """nbgrader's check of the locked cells comes first, in nbgrader's own answer (its dialog words it)."""
    from course_utils.lesson.validate_button import validate_for_dialog

    path = student_notebook(tmp_path, {"ex1-test": "pass  # edited away"})
    assert validate_for_dialog(path) == {"changed": [{"source": "pass  # edited away"}]}
