"""A student's path outside the lessons' content: the model folder, fast failure, the pass line, ``start``.

No test here writes into the real user cache: every test that lets the course
choose its default folder first points ``HOME`` and ``XDG_CACHE_HOME`` at a
temporary folder. Nothing is contacted but 127.0.0.1 (the "no network" cases
point ``HF_ENDPOINT`` at a loopback port where nothing listens).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from course_utils.lesson import check_summary, doctor, setup as lesson_setup
from course_utils.models import cache as model_cache, guard as model_guard
from course_utils import models

ROOT = Path(__file__).resolve().parent.parent


def closed_loopback_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def fake_home(tmp_path, monkeypatch):
    """HOME and XDG_CACHE_HOME in a temporary folder, FASTEMBED_CACHE_PATH unset, not on Colab."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("FASTEMBED_CACHE_PATH", raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", None)  # find_spec now says: not Colab
    return home


@pytest.fixture
def no_hub(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", closed_loopback_url())
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.fixture
def guard_cleanup():
    yield
    model_guard.unblock()


# -- the persistent model folder ----------------------------------------------------------------

def test_default_model_folder_is_in_the_users_cache_folder_on_linux(fake_home, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    expected = fake_home / ".cache" / "late-interaction-course" / "models"
    assert model_cache.course_cache_dir() == expected
    assert models.cache_dir() == expected
    monkeypatch.setenv("XDG_CACHE_HOME", str(fake_home / "xdg"))
    assert models.cache_dir() == fake_home / "xdg" / "late-interaction-course" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as the XDG rules say
    assert models.cache_dir() == expected


def test_default_model_folder_on_macos_and_windows(fake_home, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert model_cache.course_cache_dir() == fake_home / "Library" / "Caches" / "late-interaction-course" / "models"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(fake_home / "AppData" / "Local"))
    assert model_cache.course_cache_dir() == \
        fake_home / "AppData" / "Local" / "late-interaction-course" / "Cache" / "models"


def test_explicit_fastembed_cache_path_wins(fake_home, tmp_path, monkeypatch):
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "mine"))
    assert models.cache_dir() == tmp_path / "mine"
    assert model_cache.use_course_cache() == tmp_path / "mine"
    assert os.environ["FASTEMBED_CACHE_PATH"] == str(tmp_path / "mine")
    assert not (fake_home / ".cache").exists()


def test_setup_points_fastembed_at_the_course_folder(fake_home):
    folder = model_cache.use_course_cache()
    assert folder == model_cache.course_cache_dir() and folder.is_dir()
    assert str(fake_home) in str(folder)
    assert os.environ["FASTEMBED_CACHE_PATH"] == str(folder)
    from fastembed.common.utils import define_cache_dir  # what fastembed itself will use

    assert define_cache_dir() == folder


def test_on_colab_fastembeds_own_default_stays(fake_home, monkeypatch):
    colab = types.ModuleType("google.colab")
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", loader=None)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert models.cache_dir() == model_cache.fastembed_default_dir()
    model_cache.use_course_cache()
    assert "FASTEMBED_CACHE_PATH" not in os.environ and not (fake_home / ".cache").exists()


def test_temporary_folders_are_recognised(tmp_path):
    assert model_cache.in_temporary_folder(tmp_path)
    assert model_cache.in_temporary_folder(model_cache.fastembed_default_dir())
    assert not model_cache.in_temporary_folder(Path.home() / ".cache" / "late-interaction-course" / "models")
    assert not model_cache.in_temporary_folder(Path.home() / "courses" / "late-interaction")  # only looked at
    with pytest.raises(TypeError, match="folder"):
        model_cache.in_temporary_folder(42)


def test_doctor_warns_about_a_model_cache_in_a_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", None)
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    problems = "\n".join(doctor.build_report(timeout=0.1).problems)
    assert f"The model cache {tmp_path / 'cache'} is in a temporary folder" in problems
    # a folder outside the temporary one (the clone itself may be in /tmp), only looked at
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(Path.home() / "no-such-model-folder"))
    assert "temporary folder" not in "\n".join(doctor.build_report(timeout=0.1).problems)


def test_prefetch_and_doctor_use_the_course_folder_by_default(fake_home):
    env = {key: value for key, value in os.environ.items() if key not in ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE")}
    env.update(HOME=str(fake_home), XDG_CACHE_HOME=str(fake_home / "xdg"), HF_ENDPOINT=closed_loopback_url())
    folder = str(fake_home / "xdg" / "late-interaction-course" / "models")
    for command in (["prefetch"], ["doctor", "--timeout", "0.5"]):
        result = subprocess.run([sys.executable, "-m", "course_utils", *command], capture_output=True, text=True,
                                timeout=60, env=env)
        assert result.returncode == 1 and folder in result.stdout + result.stderr, result.stdout + result.stderr


# -- the missing-models message -----------------------------------------------------------------

def test_missing_models_message_lists_mirror_proxy_preview_and_windows(fake_home, no_hub):
    with pytest.raises(models.ModelsUnavailableError) as error:
        models.check_models()
    message = str(error.value)
    for expected in ("HF_ENDPOINT to the mirror", "HTTPS_PROXY=", "set NAME=value", '$env:NAME = "value"',
                     "export NAME=value",
                     "Ctrl+C", "python3 course.py start --offline-preview", "run the set-up cell"):
        assert expected in message, expected
    assert str(model_cache.course_cache_dir()) in message


def test_missing_models_message_on_colab_gives_colab_ways(tmp_path, no_hub, monkeypatch):
    colab = types.ModuleType("google.colab")
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", loader=None)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "empty"))
    with pytest.raises(models.ModelsUnavailableError) as error:
        models.check_models()
    message = str(error.value)
    assert "%env NAME=value" in message and "Runtime > Restart session" in message
    assert "course.py" not in message and "  3. for a full report" in message


# -- fast failure after a failed set-up check ---------------------------------------------------

def test_after_a_failed_setup_check_model_loads_fail_at_once(fake_home, no_hub, guard_cleanup):
    from fastembed import LateInteractionTextEmbedding, TextEmbedding

    original = TextEmbedding.__dict__["__init__"]
    with pytest.raises(models.ModelsUnavailableError) as setup_error:
        lesson_setup.prepare("01-late-interaction-basics")
    assert set(model_guard.blocked()) == set(models.ALL_MODELS)
    for load in (lambda: TextEmbedding(models.DENSE_MODEL), lambda: TextEmbedding(model_name=models.DENSE_MODEL),
                 lambda: LateInteractionTextEmbedding(models.LATE_INTERACTION_MODEL),
                 lambda: models._model_class(models.CROSS_ENCODER_MODEL)(models.CROSS_ENCODER_MODEL)):
        start = time.monotonic()
        with pytest.raises(models.ModelsUnavailableError) as error:
            load()
        assert time.monotonic() - start < 0.5
        assert str(error.value) == str(setup_error.value)
    with pytest.raises(ValueError, match="not supported"):  # other models still go to fastembed
        TextEmbedding("no-such/model")
    model_guard.unblock()
    assert TextEmbedding.__dict__["__init__"] is original


def test_a_model_that_appears_in_the_cache_loads_again(fake_home, no_hub, guard_cleanup, monkeypatch):
    from course_utils.models.standins import build_standin_cache
    from fastembed import TextEmbedding

    with pytest.raises(models.ModelsUnavailableError):
        lesson_setup.prepare("01-late-interaction-basics")
    folder = Path(os.environ["FASTEMBED_CACHE_PATH"])
    assert folder == model_cache.course_cache_dir()
    build_standin_cache(folder)  # in the temporary HOME: as if the student copied a prefetched folder there
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert TextEmbedding(models.DENSE_MODEL).embedding_size == models.DENSE_DIM
    lesson_setup.prepare("01-late-interaction-basics")  # passes now, and lifts the guard
    assert model_guard.blocked() == {}


def test_guard_rejects_bad_arguments(guard_cleanup):
    with pytest.raises(ValueError, match="not a course model"):
        model_guard.block(["no-such/model"], "message")
    with pytest.raises(TypeError, match="message"):
        model_guard.block([models.DENSE_MODEL], None)
    assert model_guard.blocked() == {}


SETUP_THEN_LOAD = """
import json, sys, time
from course_utils.lesson.colab import setup_cell_source
try:
    exec(setup_cell_source(sys.argv[1], lesson="01-late-interaction-basics"))
except Exception as error:
    setup = f"{type(error).__name__}: {error}"
from fastembed import TextEmbedding
start = time.monotonic()
try:
    TextEmbedding("BAAI/bge-small-en-v1.5")
except Exception as error:
    load = f"{type(error).__name__}: {error}"
print(json.dumps({"setup": setup, "load": load, "seconds": time.monotonic() - start}))
"""


def test_in_a_fresh_kernel_process_the_set_up_cell_makes_loads_fail_fast(fake_home):
    env = {key: value for key, value in os.environ.items() if key not in ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE")}
    env.update(HOME=str(fake_home), XDG_CACHE_HOME=str(fake_home / "xdg"), HF_ENDPOINT=closed_loopback_url())
    result = subprocess.run([sys.executable, "-c", SETUP_THEN_LOAD,
                             "https://github.com/late-interaction-course/late-interaction-course"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["setup"].startswith("ModelsUnavailableError: Missing model(s)")
    assert seen["load"] == seen["setup"] and seen["seconds"] < 1.0, seen


# -- the pass line under a test cell ------------------------------------------------------------

def test_summary_line_words():
    assert check_summary.summary_line(2) == "✓ 2 visible checks passed; hidden checks run when graded"
    assert check_summary.summary_line(1) == "✓ 1 visible check passed; hidden checks run when graded"
    assert check_summary.summary_line(5, "check(f(), 1)\n### BEGIN HIDDEN TESTS\n") == \
        "✓ all 5 checks passed (visible and hidden)"
    with pytest.raises(ValueError, match="passed"):
        check_summary.summary_line(0)


def test_every_lesson_tells_students_about_the_pass_line_not_silence():
    """The lessons' instructions match what a passing test cell does: it prints the pass line."""
    from course_utils.grading import notebooks as nb

    for path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        prose = " ".join(c.source for c in nb.read(path).cells if c.cell_type == "markdown")
        assert "✓" in prose, path.name  # the pass line, quoted
        assert "silent means" not in " ".join(prose.split()), path.name


PASS_LINE_CELLS = [
    "from course_utils.lesson.checks import check\ncheck(1 + 1, 2, 'add')\ncheck([1.0, 2.0], [1, 2.0])",
    "check(1, 2, 'hint')",
    "check(1, 1)\nraise ValueError('after the checks')",
    "x = 3\nprint('no checks here')",
    "try:\n    check(1, 2)\nexcept AssertionError:\n    pass\ncheck(2, 2)",
    "check(1, 1)\n### BEGIN HIDDEN TESTS\ncheck(2, 2)\n### END HIDDEN TESTS",
    "check(1, 1, check_id='t/0')",
]


def test_a_passing_test_cell_prints_one_line_on_stdout_and_nothing_on_stderr():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in PASS_LINE_CELLS])
    NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True,
                   startup_timeout=240).execute()
    outputs = [[(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] for cell in notebook.cells]
    line = "✓ 2 visible checks passed; hidden checks run when graded\n"
    assert outputs[0] == [("stream", "stdout", line)]
    assert [o[0] for o in outputs[1]] == ["error"]  # a failed check: its error, no pass line
    assert [o[0] for o in outputs[2]] == ["error"]  # an error after passing checks: no pass line
    assert outputs[3] == [("stream", "stdout", "no checks here\n")]
    assert outputs[4] == []  # a failed check, even a caught one: no pass line
    assert outputs[5] == [("stream", "stdout", "✓ all 2 checks passed (visible and hidden)\n")]
    from course_utils.lesson.checks import RECORD_MIME

    # the grader's run: the value goes to the grader as a record (no pass line); it decides outside the kernel
    assert [(o.output_type, sorted(o.get("data", {}))) for o in notebook.cells[6].outputs] == [
        ("display_data", [RECORD_MIME])]


# -- course.py start ----------------------------------------------------------------------------

def load_course_cli():
    spec = importlib.util.spec_from_file_location("_course_cli_for_start_tests", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    return course


def recorded_start(args, *, browser: bool, preview_cache: Path | None = None):
    """What ``course.start(args)`` would run: (command, env, extras installed, output)."""
    course = load_course_cli()
    seen = {"extras": []}
    course.ensure_environment = lambda extra: seen["extras"].append(extra) or Path(sys.executable)
    course._no_browser_here = lambda: not browser
    if preview_cache is not None:
        course.PREVIEW_CACHE = preview_cache

    def run_jupyterlab(command, **kwargs):
        seen["command"], seen["env"] = list(command), kwargs.get("env") or dict(os.environ)
        return 0

    course.run_jupyterlab = run_jupyterlab
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        course.start(list(args))
    return seen["command"], seen["env"], seen["extras"], out.getvalue()


def test_start_switches_jupyterlabs_news_off():
    command, _, extras, _ = recorded_start([], browser=True)
    assert extras == ["course"]
    settings = Path(next(a.split("=", 1)[1] for a in command if a.startswith("--LabApp.app_settings_dir=")))
    overrides = json.loads((settings / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert "--LabApp.news_url=None" in command and "--no-browser" not in command


def test_start_without_a_browser_says_where_to_go_instead_of_a_warning():
    command, _, _, out = recorded_start([], browser=False)
    assert "--no-browser" in command and "open the link" in out
    command, _, _, _ = recorded_start(["--ServerApp.open_browser=True"], browser=False)
    assert "--no-browser" not in command  # the student's own choice stays


def test_start_offline_preview_builds_standins_and_points_the_lessons_there(tmp_path):
    cache = tmp_path / "preview"
    command, env, extras, out = recorded_start(["--offline-preview"], browser=True, preview_cache=cache)
    assert "--offline-preview" not in command
    assert extras == ["course", "grading"]  # the stand-ins need onnx, from the grading tools
    assert env["FASTEMBED_CACHE_PATH"] == str(cache) and env["HF_HUB_OFFLINE"] == "1"
    from course_utils.models.environment import OFFLINE_PREVIEW_VARIABLE
    assert env[OFFLINE_PREVIEW_VARIABLE] == "1"  # doctor recognises the preview by it
    for name in models.ALL_MODELS:
        assert models.cached_snapshot(name, cache) is not None
    assert "real signal, far weaker than the real models" in out


# -- lessons open unmodified in JupyterLab ------------------------------------------------------

def test_opened_notebooks_carry_the_kernels_language_info(tmp_path):
    import asyncio

    import nbformat
    from ipykernel.ipkernel import IPythonKernel

    from course_utils.lesson import lab_contents

    lesson = ROOT / "notebooks" / "01-late-interaction-basics" / "01-late-interaction-basics.ipynb"
    (tmp_path / "lesson.ipynb").write_bytes(lesson.read_bytes())
    manager = lab_contents.CourseContentsManager(root_dir=str(tmp_path))
    model = asyncio.run(manager.get("lesson.ipynb"))
    assert model["content"]["metadata"]["language_info"] == IPythonKernel.language_info  # what JupyterLab sets
    assert (tmp_path / "lesson.ipynb").read_bytes() == lesson.read_bytes()  # nothing written
    other = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}})
    assert not lab_contents.with_kernel_language_info(other) and "language_info" not in other.metadata
    with pytest.raises(TypeError, match="notebook"):
        lab_contents.with_kernel_language_info("not a notebook")


def test_behind_a_proxy_the_hub_counts_as_reachable_through_it(monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", closed_loopback_url().replace("http://", "https://"))
    assert not models.hub_reachable(timeout=0.5)
    with socket.socket() as proxy:
        proxy.bind(("127.0.0.1", 0))
        proxy.listen()
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.getsockname()[1]}")
        assert models.hub_reachable(timeout=0.5)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # the hub's address is exempt: straight there, closed
        assert not models.hub_reachable(timeout=0.5)


# -- course.py start on a terminal: the link last, Ctrl+C stops it cleanly, no instructor tools -------------

_DRIVER = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("course_cli", sys.argv[1])
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)
course.ensure_environment = lambda extra: Path(sys.executable)  # this test session's environment has them all
sys.exit(course.main(["start", *sys.argv[2:]]))
"""


def _read_until(master: int, wanted: bytes, seconds: float, seen: bytearray) -> bool:
    import select
    import time

    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                return wanted in seen
            if not chunk:
                break
            seen += chunk
    return wanted in seen


@pytest.mark.skipif(os.name == "nt", reason="a pseudo-terminal is POSIX only")
def test_start_on_a_terminal_prints_the_link_last_and_one_ctrl_c_stops_it_cleanly(tmp_path):
    """What a student sees in the terminal of ``python3 course.py start``: a few lines ending with the link;
    one Ctrl+C shuts the kernels down and ends with no question left (JupyterLab's own Ctrl+C asks
    "Shut down this Jupyter server (y/[n])?"), and JupyterLab's runtime files are gone."""
    import json
    import pty
    import re
    import urllib.request

    from tests.browser_support import free_loopback_port, jupyter_environment

    import tempfile

    env = jupyter_environment(tmp_path / "jupyter")
    runtime = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))  # as short as ~/.local/share/jupyter/runtime
    env["JUPYTER_RUNTIME_DIR"] = str(runtime)
    port = free_loopback_port()
    args = [sys.executable, "-c", _DRIVER, str(ROOT / "course.py"), "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--LabApp.extension_manager=readonly",
            f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    pid, master = pty.fork()
    if pid == 0:  # the child: a session of its own, with the pseudo-terminal as its terminal
        os.execve(sys.executable, args, env)
    seen = bytearray()
    try:
        assert _read_until(master, b"Stop JupyterLab with Ctrl+C here.", 120, seen), seen.decode(errors="replace")
        text = seen.decode(errors="replace").replace("\r", "")
        link = re.search(r"^    (http://\S+/lab\?token=(\w+))$", text, re.M)
        assert link and text.rstrip().endswith("Stop JupyterLab with Ctrl+C here."), text
        token = link.group(2)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        base = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(f"{base}/api/kernels", data=b'{"name": "python3"}', method="POST",
                                         headers={"Authorization": f"token {token}"})
        kernel = json.loads(opener.open(request, timeout=60).read())
        page = opener.open(urllib.request.Request(f"{base}/lab", headers={"Authorization": f"token {token}"}),
                           timeout=60).read().decode()
        assert _read_until(master, b"\x00", 5, seen) is False  # let the kernel start and say what it says
        os.write(master, b"\x03")  # Ctrl+C, as typed
        assert _read_until(master, b"JupyterLab stopped.", 60, seen), seen.decode(errors="replace")
        _read_until(master, b"\x00", 10, seen)  # to the end of its output
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(master)
    text = seen.decode(errors="replace")
    leftovers = sorted(p.name for p in runtime.iterdir())
    import shutil

    shutil.rmtree(runtime, ignore_errors=True)
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "Shut down this Jupyter server" not in text and "eavesdropping" not in text, text
    # no banner of JupyterLab's own links above the course's link, no critical "received signal" line
    assert "To access the server" not in text and "received signal" not in text, text
    assert "websocket_ping_timeout" not in text, text
    assert len([line for line in text.splitlines() if line.strip()]) < 20, text  # not ~40 lines of log
    assert not [name for name in leftovers if name.startswith(("jpserver-", f"kernel-{kernel['id']}"))], leftovers
    # the student's JupyterLab leaves nbgrader's instructor tools (and its menu of them) out; Validate stays
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    disabled = config["disabledExtensions"]
    for plugin in ("create-assignment", "formgrader", "course-list", "assignment-list", "menu"):
        assert f"@jupyter/nbgrader:{plugin}" in disabled, disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled


def test_the_instructor_option_keeps_nbgraders_tools_and_the_course_settings(tmp_path):
    course = load_course_cli()
    course.VENV = tmp_path / "venv"
    seen = {}
    course.ensure_environment = lambda extra: Path(sys.executable)
    course._no_browser_here = lambda: False
    course.run_jupyterlab = lambda command, **kwargs: seen.update(command=command) or 0
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        course.start(["--instructor"])
    settings = Path(next(a.split("=", 1)[1] for a in seen["command"] if a.startswith("--LabApp.app_settings_dir=")))
    assert "--instructor" not in seen["command"] and not (settings / "page_config.json").exists()
    assert f"--ServerApp.root_dir={ROOT}" in seen["command"]  # formgrader needs the whole course directory
    assert (settings / "overrides.json").read_text() == (ROOT / "jupyterlab-settings" / "overrides.json").read_text()
    student = json.loads((ROOT / "jupyterlab-settings" / "page_config.json").read_text())["disabledExtensions"]
    nbgrader_code = "".join(p.read_text(errors="replace") for p in
                            (Path(sys.prefix) / "share/jupyter/labextensions/@jupyter/nbgrader/static").glob("*.js"))
    assert student and all(plugin in nbgrader_code for plugin in student)  # they name nbgrader's real plugins


def test_doctor_in_a_python_without_the_course_packages_says_so_instead_of_crashing(monkeypatch):
    """A student runs ``python3 -m course_utils doctor`` in the course folder with the system Python: no
    google, no huggingface_hub, no fastembed. The report must reach its "not the course's environment" fix."""
    from course_utils.models import environment

    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "huggingface_hub" or name.startswith("google"):
            if name == "google.colab":
                raise ModuleNotFoundError("No module named 'google'", name="google")  # what find_spec does
            return None
        return real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(environment, "package_version", lambda name: None if name != "numpy" else "2.0")
    assert environment.on_colab() is False
    report = doctor.build_report(timeout=0.1)
    problems = "\n".join(report.problems)
    assert "is not the course's environment" in problems and "python3 course.py start" in problems


def test_the_setup_cell_decides_colab_without_the_google_package():
    from course_utils.lesson.colab import setup_cell_source

    source = setup_cell_source("https://github.com/a/b", "0.2.0", lesson="02-maxsim")
    names = {"importlib": __import__("importlib"), "__builtins__": __builtins__}
    decide = source.split("import importlib.metadata", 1)[1].split("\nif ON_COLAB", 1)[0]
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        if name == "google.colab":
            raise ModuleNotFoundError("No module named 'google'", name="google")
        return real_find_spec(name, *args)

    importlib.util.find_spec = find_spec
    try:
        exec("import importlib.metadata" + decide, names)
    finally:
        importlib.util.find_spec = real_find_spec
    assert names["ON_COLAB"] is False


def test_start_answers_the_validate_button_with_the_courses_summary():
    """The Validate button's request goes to course_utils.lesson.validate_button, nbgrader's handler is off (and the
    literal course.py passes is the library's own setting)."""
    import ast

    from course_utils.lesson.validate_button import JPSERVER_EXTENSIONS

    command, _, _, _ = recorded_start([], browser=True)
    flags = [a.split("=", 1)[1] for a in command if a.startswith("--ServerApp.jpserver_extensions=")]
    assert len(flags) == 1 and ast.literal_eval(flags[0]) == JPSERVER_EXTENSIONS
    assert JPSERVER_EXTENSIONS == {"nbgrader.server_extensions.validate_assignment": False,
                                   "course_utils.lesson.validate_button": True}
