"""Ctrl+C during a real grading run, through both entry points of the README.

Each test starts the command in a session of its own, waits until the first submission
is stored and the next one's kernel runs, sends SIGINT to the command's process group (as
a terminal's Ctrl+C does), and checks: exit status 130, one line saying how many were
graded and that the same command resumes, no process and no scratch folder left, the
stored result kept, and grades.csv equal to the gradebook.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSON, new_course = gs.ATTACK_LESSON, gs.attack_course

#: course.py's own main(), with the environment it would install replaced by this one.
COURSE_PY = ("import importlib.util, sys; from pathlib import Path\n"
             "spec = importlib.util.spec_from_file_location('course_cli', sys.argv[1])\n"
             "course = importlib.util.module_from_spec(spec); spec.loader.exec_module(course)\n"
             "course.ensure_environment = lambda extra: Path(sys.executable)\n"
             "sys.exit(course.main(sys.argv[2:]))\n")


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """first: solved (stored before the interrupt); second: still running (sleeps); third: never started."""
    tmp = tmp_path_factory.mktemp("interrupt")
    reference = gs.ROOT  # the committed student notebooks are what nbgrader generates (test_grading_pipeline)
    sleeper = gs.solved_notebook(reference, LESSON)
    sleeper.cells.append(nb.nbformat.v4.new_code_cell("import time\ntime.sleep(600)"))
    return gs.submissions_folder(tmp / "submissions", {"a-first": gs.solved_notebook(reference, LESSON),
                                                       "b-sleeper": sleeper,
                                                       "c-later": gs.student_notebook(reference, LESSON)}, LESSON)


def _sessions(listed: list[str]) -> set[int]:
    """The sessions of processes listed by :func:`processes` (those still alive)."""
    found = set()
    for line in listed:
        try:
            stat = Path(f"/proc/{line.split(':')[0]}/stat").read_text()
        except OSError:
            continue
        found.add(int(stat[stat.rindex(")") + 2:].split()[3]))
    return found - {0}


def processes(sessions: set[int] = frozenset(), mentioning: str = "") -> list[str]:
    """Living processes in ``sessions`` or whose command line mentions ``mentioning``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and (int(fields[3]) in sessions or (mentioning and mentioning in command)):
            found.append(f"{entry.name}: {command[:150]}")
    return found


def interrupt_run(command: list[str], course: Path, scratch: Path):
    """Start ``command``, Ctrl+C it once the first result is stored and a kernel runs; (run, its sessions)."""
    environment = {**os.environ, "TMPDIR": str(scratch)}
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                           start_new_session=True)
    stored = course / "autograded" / "a-first" / LESSON / "course_grading.json"
    sessions, deadline = {run.pid}, time.monotonic() + 600
    while time.monotonic() < deadline and run.poll() is None:
        sessions |= _sessions(processes(mentioning=str(scratch)))
        if stored.exists() and any("ipykernel" in p for p in processes(sessions)):
            break
        time.sleep(0.2)
    assert run.poll() is None, f"the run ended before it could be interrupted:\n{run.communicate()}"
    assert stored.exists(), "no submission was stored in time"
    sessions |= _sessions(processes(sessions))
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=180)
    return run.returncode, out, err, sessions


def check_stopped_cleanly(returncode, out, err, sessions, course, scratch):
    assert returncode == 130, (out, err)
    lines = [line for line in out.splitlines() if "Interrupted" in line]
    assert len(lines) == 1 and lines[0].startswith("Interrupted: 1 graded and stored in this run"), out
    assert "run the same command again" in lines[0] and "Traceback" not in err, (out, err)
    deadline = time.monotonic() + 15
    while processes(sessions, str(scratch)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes(sessions, str(scratch)) == []
    # no course-grading-*, course-submissions-*, kernel connection files; onnxruntime keeps a `.ses` file
    # in every temporary folder it is used in (as in /tmp), which is not the grader's to remove
    assert [p.name for p in scratch.iterdir() if p.name != ".ses"] == []
    assert gs.gradebook_scores(course, LESSON) == {"a-first": 10.0}
    assert gs.csv_table(course) == gs.gradebook_table(course)


def test_ctrl_c_through_python_m_course_utils_grade(tmp_path, submissions):
    course, scratch = new_course(tmp_path), tmp_path / "scratch"
    scratch.mkdir()
    command = [sys.executable, "-m", "course_utils", "grade", LESSON, str(submissions), "--course", str(course),
               "--jobs", "1", "--timeout", "120"]
    check_stopped_cleanly(*interrupt_run(command, course, scratch), course, scratch)


def test_ctrl_c_through_course_py_grade(tmp_path, submissions):
    course, scratch = new_course(tmp_path), tmp_path / "scratch"
    scratch.mkdir()
    command = [sys.executable, "-c", COURSE_PY, str(gs.ROOT / "course.py"), "grade", LESSON, str(submissions),
               "--course", str(course), "--jobs", "1", "--timeout", "120"]
    check_stopped_cleanly(*interrupt_run(command, course, scratch), course, scratch)
    shutil.rmtree(scratch)
