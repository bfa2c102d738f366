"""Colab: badges and set-up cells agree with the one setting, and the set-up cell on a simulated Colab.

The setting is ``[project.urls] Repository`` and ``[tool.course] branch`` in
``pyproject.toml``; ``python3 course.py generate`` stamps it into every lesson.

Colab is simulated the way the set-up cell and ``course_utils.models.environment``
detect it: a module named :data:`~course_utils.models.environment.COLAB_MODULE` that
``importlib.util.find_spec`` can see. ``subprocess.run`` is replaced by a
recorder, so nothing is installed, and the course package can be reported
missing until the recorded pip command "installs" it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import course_utils
import course_utils.models
from course_utils.lesson import colab, doctor
from course_utils.models import environment
from course_utils.lesson.moved import MOVED_LESSONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
BRANCH = PYPROJECT["tool"]["course"]["branch"]
DISTRIBUTION = PYPROJECT["project"]["name"]
VERSION = course_utils.__version__
FORK = ("https://github.com/some-university/late-interaction-fork", "spring-2026")
RESTAMP = "run `python3 course.py generate` to stamp the setting into every lesson (see course_utils/lesson/colab.py)"


def lesson_notebooks() -> list[Path]:
    """Every lesson's notebook, not the ungraded pointers left where a moved lesson was (test_moved.py)."""
    return sorted(path for folder in ("solutions", "notebooks") for path in (ROOT / folder).glob("*/*.ipynb")
                  if path.stem == path.parent.name and path.stem not in MOVED_LESSONS)


def load_course_py(root: Path = ROOT) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_course_cli_{abs(hash(root))}", root / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the setting and the notebooks ------------------------------------------------------------------

def test_course_py_reads_the_same_setting_as_tomllib():
    assert load_course_py().course_setting() == (REPOSITORY, BRANCH)
    assert DISTRIBUTION == colab.DISTRIBUTION


@pytest.mark.parametrize("reader", ["tomllib", "python-3.10-fallback"])
def test_course_py_reads_the_setting_with_either_reader_and_stops_without_it(reader, tmp_path, monkeypatch):
    course = load_course_py()
    if reader != "tomllib":
        monkeypatch.setattr(course, "tomllib", None)  # what course.py has on Python 3.10
    assert course.course_setting() == (REPOSITORY, BRANCH)
    text = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text.replace(f'branch = "{BRANCH}"', "# no branch"))
    monkeypatch.setattr(course, "ROOT", tmp_path)
    with pytest.raises(SystemExit, match=r"\[tool.course\] branch"):
        course.course_setting()


def test_there_are_lessons_to_check():
    names = {path.relative_to(ROOT).parts[0] for path in lesson_notebooks()}
    assert names == {"solutions", "notebooks"}


@pytest.mark.parametrize("path", lesson_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_notebook_agrees_with_the_setting(path):
    notebook = nbformat.read(path, as_version=4)
    problems = colab.stamp_problems(notebook, REPOSITORY, BRANCH, path.parent.name)
    assert not problems, f"{path.relative_to(ROOT)}: {'; '.join(problems)}; {RESTAMP}"


def cells_without_stamp(notebook) -> list[tuple[str, str]]:
    """(cell type, source) of every cell, with the badge and the set-up cell's source blanked out."""
    result = []
    for cell in notebook.cells:
        source = "<set-up>" if cell.get("id") == colab.SETUP_CELL_ID else colab._BADGE.sub("<badge>", cell.source)
        result.append((cell.cell_type, source))
    return result


def test_stamping_another_setting_changes_exactly_the_badge_and_the_setup_cell(tmp_path):
    original = ROOT / "solutions" / "01-late-interaction-basics" / "01-late-interaction-basics.ipynb"
    copy = tmp_path / original.parent.name / original.name
    copy.parent.mkdir()
    shutil.copy(original, copy)
    colab.stamp_notebook(copy, REPOSITORY, BRANCH)  # a no-op while the lessons agree with the setting
    before = nbformat.read(copy, as_version=4)

    assert colab.stamp_notebook(copy, *FORK) is True
    after = nbformat.read(copy, as_version=4)
    assert colab.stamp_problems(after, *FORK, original.parent.name) == []
    assert colab.stamp_problems(after, REPOSITORY, BRANCH, original.parent.name) != []
    changed = [i for i, (a, b) in enumerate(zip(before.cells, after.cells)) if a != b]
    setup = next(i for i, cell in enumerate(after.cells) if cell.get("id") == colab.SETUP_CELL_ID)
    badge = next(i for i, cell in enumerate(after.cells) if colab._BADGE.search(cell.source))
    assert changed == sorted({setup, badge})
    assert cells_without_stamp(before) == cells_without_stamp(after)
    assert after.cells[setup].source == colab.setup_cell_source(FORK[0], lesson=original.parent.name)
    assert colab.badge_markdown(*FORK, original.parent.name) in after.cells[badge].source

    assert colab.stamp_notebook(copy, *FORK) is False  # stamping is idempotent
    assert colab.stamp_notebook(copy, REPOSITORY, BRANCH) is True  # and reversible
    assert nbformat.read(copy, as_version=4) == before


@pytest.mark.parametrize("repository, branch", [
    ("https://gitlab.com/a/b", "main"), ("http://github.com/a/b", "main"), ("https://github.com/a", "main"),
    (REPOSITORY, "main; rm -rf ~"), (REPOSITORY, 'x" + "y'), (REPOSITORY, "a..b"), (REPOSITORY, ""),
])
def test_a_setting_colab_cannot_use_is_refused(repository, branch):
    with pytest.raises(ValueError):
        colab.badge_markdown(repository, branch, "01-late-interaction-basics")


@pytest.mark.parametrize("version", ["main", "0.2.0; rm -rf ~", '0.2" + "0', "v0.2.0", "", "0.2.0\n"])
def test_a_version_that_is_no_release_number_is_refused(version):
    with pytest.raises(ValueError):
        colab.setup_cell_source(REPOSITORY, version, lesson="02-maxsim")
    assert colab.setup_cell_source(REPOSITORY, "0.10.2rc1", lesson="02-maxsim")


# -- the version every notebook is stamped with ------------------------------------------------------

def test_the_version_lives_in_one_place_and_course_py_reads_it():
    text = (ROOT / "pyproject.toml").read_text()
    assert "version" not in PYPROJECT["project"] and PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "course_utils.__version__"}
    assert not re.search(r'^version\s*=\s*"', text, re.M)
    assert load_course_py().course_version() == VERSION == "0.2.0"


@pytest.mark.parametrize("path", lesson_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_committed_notebook_carries_the_package_version(path):
    assert colab.notebook_version(nbformat.read(path, as_version=4)) == VERSION, RESTAMP


def test_a_notebook_stamped_with_another_version_is_reported():
    path = ROOT / "notebooks" / "02-maxsim" / "02-maxsim.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert colab.stamp_problems(notebook, REPOSITORY, BRANCH, "02-maxsim", version="0.1.9") == [
        f"the set-up cell is stamped with version {VERSION}, not 0.1.9"]


def test_locally_a_notebook_of_another_version_stops_with_the_fix(not_on_colab, recorder, model_checks):
    with pytest.raises(RuntimeError) as error:
        run_setup_cell(version="0.1.9")
    message = str(error.value)
    assert f"made for version 0.1.9 of the course package, but version {VERSION} is loaded" in message
    assert "git pull" in message and "git checkout v0.1.9" in message and "python3 course.py start" in message
    assert recorder.commands == [] and model_checks == [], "nothing installed, no model check"


def test_on_colab_a_session_holding_another_version_installs_it_then_asks_for_a_restart(
        on_colab, recorder, model_checks):
    """The session imported this version; the notebook wants 0.1.9: pip installs the tag, the import still
    holds the old module, so the cell asks for a restart (after which the installed version is loaded)."""
    with pytest.raises(RuntimeError, match=r"made for version 0\.1\.9.*Runtime > Restart session") as error:
        run_setup_cell(version="0.1.9")
    assert "git pull" not in str(error.value)
    assert len(recorder.commands) == 1 and recorder.commands[0][-1].endswith("@v0.1.9")
    assert model_checks == []


def test_the_colab_install_comment_says_why_a_tag():
    source = colab.setup_cell_source(REPOSITORY, lesson="02-maxsim")
    assert "a notebook cannot name the commit that contains it" in source


def test_a_fork_sets_its_url_and_restamps_with_course_py(tmp_path, monkeypatch):
    """What the README tells a fork to do: edit the setting in pyproject.toml, run `course.py generate`."""
    lesson = "01-late-interaction-basics"
    fork = tmp_path / "fork"
    fork.mkdir()
    for name in ("course.py", "nbgrader_config.py"):
        shutil.copy(ROOT / name, fork / name)
    (fork / "course_utils").mkdir()
    shutil.copy(ROOT / "course_utils" / "__init__.py", fork / "course_utils" / "__init__.py")  # the version
    shutil.copytree(ROOT / "solutions" / lesson, fork / "solutions" / lesson)
    text = (ROOT / "pyproject.toml").read_text()
    assert text.count(f'"{REPOSITORY}"') == 1 and text.count(f'branch = "{BRANCH}"') == 1
    (fork / "pyproject.toml").write_text(text.replace(f'"{REPOSITORY}"', f'"{FORK[0]}"')
                                         .replace(f'branch = "{BRANCH}"', f'branch = "{FORK[1]}"'))
    course = load_course_py(fork)
    monkeypatch.setattr(course, "ensure_environment", lambda extra: Path(sys.executable))
    assert course.course_setting() == FORK
    assert course.generate([lesson]) == 0
    for folder in ("solutions", "notebooks"):
        notebook = nbformat.read(fork / folder / lesson / f"{lesson}.ipynb", as_version=4)
        assert colab.stamp_problems(notebook, *FORK, lesson) == [], folder


# -- the set-up cell on a simulated Colab -----------------------------------------------------------

class Recorder:
    """Stands in for ``subprocess.run``: records each command; a pip install "installs" the course package."""

    def __init__(self, returncode: int = 0, stderr: str = ""):
        self.commands: list[list[str]] = []
        self.returncode, self.stderr = returncode, stderr
        self.on_install = lambda: None

    def __call__(self, command, *args, **kwargs):
        self.commands.append(list(command))
        if self.returncode == 0 and list(command[1:4]) == ["-m", "pip", "install"]:
            self.on_install()
        return subprocess.CompletedProcess(command, self.returncode, "", self.stderr)


def fake_colab_module() -> types.ModuleType:
    module = types.ModuleType(environment.COLAB_MODULE)
    module.__spec__ = importlib.machinery.ModuleSpec(environment.COLAB_MODULE, loader=None)
    return module


@pytest.fixture
def on_colab(monkeypatch):
    """Make this process look like Colab to ``importlib.util.find_spec``, as the set-up cell checks."""
    monkeypatch.setitem(sys.modules, environment.COLAB_MODULE, fake_colab_module())


@pytest.fixture
def not_on_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, environment.COLAB_MODULE, None)  # find_spec now says: not there


@pytest.fixture
def recorder(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(subprocess, "run", recorder)
    return recorder


@pytest.fixture
def model_checks(monkeypatch):
    """Calls of the model check (which still runs, on the session's models)."""
    calls = []
    real = course_utils.models.check_models

    def check_models(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(course_utils.models, "check_models", check_models)
    return calls


@pytest.fixture
def course_package_missing(monkeypatch, recorder):
    """``course_utils`` (and its modules) cannot be found until the recorded pip command installs it."""
    loaded = {name: module for name, module in sys.modules.items()
              if name == colab.PACKAGE or name.startswith(colab.PACKAGE + ".")}
    for name in loaded:
        monkeypatch.setitem(sys.modules, name, None)
    assert importlib.util.find_spec(colab.PACKAGE) is None
    recorder.on_install = lambda: sys.modules.update(loaded)


def run_setup_cell(repository: str = REPOSITORY, version: str = VERSION) -> dict:
    """Execute the set-up cell as a kernel would; return its variables."""
    namespace = {"__name__": "__main__"}
    exec(compile(colab.setup_cell_source(repository, version, lesson="02-maxsim"), "<set-up cell>", "exec"), namespace)
    return namespace


FORCING_FLAGS = {"-U", "--upgrade", "--force-reinstall", "-I", "--ignore-installed", "--no-deps",
                 "--pre", "--break-system-packages", "--user"}


@pytest.mark.parametrize("setting", [(REPOSITORY, BRANCH), FORK], ids=["course", "fork"])
def test_on_colab_the_setup_cell_installs_the_course_quietly_then_checks_models(
        setting, on_colab, recorder, course_package_missing, model_checks, capsys):
    namespace = run_setup_cell(setting[0])
    assert namespace["ON_COLAB"] is True
    assert len(recorder.commands) == 1, recorder.commands
    command = recorder.commands[0]
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--quiet" in command or "-q" in command
    strategy = command.index("--upgrade-strategy")
    assert command[strategy + 1] == "only-if-needed"
    assert not FORCING_FLAGS & set(command), command
    assert not any(name in argument.lower() for argument in command for name in ("numpy", "matplotlib"))
    requirement = Requirement(command[-1])
    assert canonicalize_name(requirement.name) == canonicalize_name(DISTRIBUTION)
    assert requirement.url == f"git+{setting[0]}@v{VERSION}"  # the release tag, whatever the badge's branch
    assert not requirement.extras and not requirement.specifier and requirement.marker is None
    assert len(model_checks) == 1, "the model check runs after the install"
    assert f"Installing version {VERSION} of the course package" in capsys.readouterr().out


def test_on_colab_with_the_course_installed_the_setup_cell_installs_nothing(on_colab, recorder, model_checks):
    assert importlib.util.find_spec(colab.PACKAGE) is not None
    assert run_setup_cell()["ON_COLAB"] is True
    assert recorder.commands == []
    assert len(model_checks) == 1


def test_locally_the_setup_cell_only_checks_the_models(not_on_colab, recorder, model_checks):
    assert run_setup_cell()["ON_COLAB"] is False
    assert recorder.commands == []
    assert len(model_checks) == 1


def test_locally_the_setup_cell_never_installs(not_on_colab, recorder, course_package_missing):
    with pytest.raises(ImportError):  # locally, the README's start command installs the course
        run_setup_cell()
    assert recorder.commands == []


def test_a_failed_install_on_colab_shows_what_pip_said(on_colab, recorder, course_package_missing, model_checks):
    recorder.returncode, recorder.stderr = 1, "ERROR: Repository not found"
    with pytest.raises(RuntimeError, match="Repository not found"):
        run_setup_cell()
    assert len(recorder.commands) == 1 and model_checks == []


def test_the_cell_and_the_package_detect_colab_the_same_way(monkeypatch):
    source = colab.setup_cell_source(REPOSITORY, lesson="02-maxsim")
    assert f'    ON_COLAB = importlib.util.find_spec("{environment.COLAB_MODULE}") is not None' in source
    assert "except ModuleNotFoundError:" in source  # as environment.on_colab: no google package, no Colab
    monkeypatch.setitem(sys.modules, colab.PACKAGE, course_utils)
    monkeypatch.setattr(course_utils.models, "check_models", lambda *a, **k: None)
    for colab_module, expected in ((fake_colab_module(), True), (None, False)):
        monkeypatch.setitem(sys.modules, environment.COLAB_MODULE, colab_module)
        monkeypatch.setattr(subprocess, "run", Recorder())
        assert environment.on_colab() is expected
        assert run_setup_cell()["ON_COLAB"] is expected


# -- doctor on Colab --------------------------------------------------------------------------------

@pytest.fixture
def no_models_no_hub(tmp_path, monkeypatch):
    """An empty model cache, and a model hub on a loopback port where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


def without_packages(monkeypatch, *names: str) -> None:
    real = environment.package_version
    monkeypatch.setattr(environment, "package_version", lambda name: None if name in names else real(name))


def line(report: doctor.Report, label: str) -> str:
    return next(text for text in report.lines if text.strip().startswith(label))


def test_doctor_on_colab_says_so_and_gives_colab_fixes(on_colab, no_models_no_hub, monkeypatch):
    without_packages(monkeypatch, "fastembed", "jupyterlab", "nbgrader")
    report = doctor.build_report(timeout=0.5)
    assert "yes" in line(report, "Running on Colab")
    assert "not needed on Colab" in line(report, "jupyterlab") and "not needed on Colab" in line(report, "nbgrader")
    problems = "\n".join(report.problems)
    assert len(report.problems) == 2, problems  # fastembed, and the models; not JupyterLab or nbgrader
    assert "fastembed" in problems and "Runtime > Disconnect and delete runtime" in problems
    assert "Google Drive" in problems and "FASTEMBED_CACHE_PATH" in problems
    assert "course.py" not in problems and "before starting Jupyter" not in problems


def test_doctor_on_colab_without_the_course_package_points_to_the_setup_cell(on_colab, monkeypatch):
    without_packages(monkeypatch, "course-utils")
    problems = "\n".join(doctor.build_report(timeout=0.5).problems)
    assert "course-utils" in problems and "first cell" in problems


def test_doctor_locally_gives_local_fixes(not_on_colab, no_models_no_hub, monkeypatch):
    without_packages(monkeypatch, "fastembed", "jupyterlab")
    report = doctor.build_report(timeout=0.5)
    assert "no (local" in line(report, "Running on Colab")
    assert "start command" in line(report, "jupyterlab")
    problems = "\n".join(report.problems)
    assert len(report.problems) == 3, problems  # fastembed, the models, and their cache in a temporary folder
    assert "is in a temporary folder" in problems
    assert "python3 course.py start" in problems and sys.executable in problems
    assert "Colab" not in problems
    # the set-up cell's fixes, with the local prefetch command
    for fix in course_utils.models.how_to_get_models(offline=False):
        assert fix in problems
    assert "`.venv/bin/python -m course_utils prefetch --cache-dir DIR`" in problems and "--offline-preview" in problems


def test_doctor_command_detects_colab_like_the_setup_cell(tmp_path):
    """`python -m course_utils doctor` in a Python where google.colab can be found (a stand-in package)."""
    package = tmp_path / "fake-colab" / Path(*environment.COLAB_MODULE.split("."))
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "fake-colab"), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "course_utils", "doctor"], capture_output=True, text=True,
                            env=env, timeout=60, cwd=tmp_path)
    assert "Running on Colab               yes" in result.stdout, result.stdout + result.stderr
