#!/usr/bin/env python3
"""Set up and run the course: ``python3 course.py start`` or ``python3 course.py test``.

Each command makes its own environment first: it creates ``.venv`` next to this
file if it is missing, installs the course package with the extras the command
needs (pinned by ``constraints.txt``, the versions the test suite last passed
with), then acts:

- ``start``: opens JupyterLab on the student notebooks in ``notebooks/``
  (``start --offline-preview``: with the course's offline stand-in models, to
  look at every lesson without network; they are built from wordllama's static token
  vectors: real signal, far weaker than the real models);
- ``test``: runs the whole test suite (extra arguments go to pytest).

Instructors: ``python3 course.py grade <lesson> <submissions>`` grades a class
(``python -m course_utils grade --help`` in the environment lists the options) and writes the
class report; ``python3 course.py report [<lesson>]`` rebuilds the report from the gradebook and
``python3 course.py export canvas|moodle|blackboard <lesson>`` writes the grades and feedback that
learning system imports.

For maintainers: ``python3 course.py generate`` stamps the Colab badge and set-up
cell (with the course version) into every lesson in ``solutions/`` and regenerates the
student versions in ``notebooks/`` with nbgrader; ``python3 course.py release VERSION``
bumps the version, regenerates, commits and tags ``v<VERSION>``; ``python3 course.py lock``
re-resolves the newest versions that ``pyproject.toml`` allows and writes them to ``constraints.txt``; run the tests
after it and commit the file when they pass.

Only the Python standard library is used here, so any Python 3.10+ can run it.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "constraints.txt"
EXTRAS = {"start": "course", "test": "test", "grade": "grading"}


def venv_python() -> Path:
    """The Python interpreter inside ``.venv``."""
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _install_stamp(extra: str) -> str:
    """Fingerprint of what an install of ``extra`` depends on."""
    digest = hashlib.sha256(extra.encode())
    for path in (ROOT / "pyproject.toml", CONSTRAINTS, ROOT / "course_utils" / "__init__.py"):  # the version
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def ensure_environment(extra: str) -> Path:
    """Create ``.venv`` if needed and install ``course-utils[extra]``; return its Python.

    The install is skipped when nothing it depends on changed since the last one.
    """
    if sys.version_info < (3, 10):
        sys.exit(f"The course needs Python 3.10 or newer; this is {sys.version.split()[0]}. "
                 "Run this file with a newer python3.")
    python = venv_python()
    if not python.exists():
        print(f"Creating the course environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp_file = VENV / f".course-installed-{extra}"
    stamp = _install_stamp(extra)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return python
    print(f"Installing the course package with its '{extra}' tools (first time: one to four minutes) ...",
          flush=True)
    command = [str(python), "-m", "pip", "install", "-qq", "--disable-pip-version-check",  # errors only
               "-e", f"{ROOT}[{extra}]"]
    if CONSTRAINTS.exists():
        command += ["-c", str(CONSTRAINTS)]
    result = subprocess.run(command)
    if result.returncode != 0:
        sys.exit("Installing the course failed (see pip's message above). Check the internet connection "
                 f"and run the same command again; to start from scratch, delete {VENV}.")
    stamp_file.write_text(stamp)
    return python


#: JupyterLab settings of the course (``overrides.json``: no news or update pop-ups; ``page_config.json``:
#: nbgrader's instructor tools switched off for students).
LAB_SETTINGS = ROOT / "jupyterlab-settings"
#: Where ``start --offline-preview`` builds the stand-in models (rebuilt at every preview start).
PREVIEW_CACHE = VENV / "offline-preview-models"
PREVIEW_FLAG = "--offline-preview"
#: ``start --instructor``: JupyterLab with nbgrader's instructor tools (Create Assignment, Formgrader).
INSTRUCTOR_FLAG = "--instructor"
#: The Validate button's answer comes from the course's server extension, not nbgrader's: one line per exercise
#: (course_utils.lesson.validate_button.JPSERVER_EXTENSIONS; not imported: this runs before the environment exists).
VALIDATE_BUTTON_EXTENSIONS = ('{"nbgrader.server_extensions.validate_assignment": False, '
                              '"course_utils.lesson.validate_button": True}')


def _no_browser_here() -> bool:
    """True when Python (and so JupyterLab) finds no web browser to open, as on a headless machine."""
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return True
    return False


def _build_preview_cache(python: Path) -> dict[str, str]:
    """Build the stand-in models into :data:`PREVIEW_CACHE`; return the settings that make the lessons use them."""
    print("Offline preview: building the course's stand-in models (built from wordllama's static token vectors: "
          "real signal, far weaker than the real models) ...", flush=True)
    subprocess.run([str(python), "-c", "import sys; from course_utils.models.standins import build_standin_cache; "
                    "build_standin_cache(sys.argv[1])", str(PREVIEW_CACHE)], check=True)
    # COURSE_OFFLINE_PREVIEW: course_utils.models.environment.OFFLINE_PREVIEW_VARIABLE (doctor recognises the preview)
    return {"FASTEMBED_CACHE_PATH": str(PREVIEW_CACHE), "HF_HUB_OFFLINE": "1", "COURSE_OFFLINE_PREVIEW": "1"}


def _instructor_settings() -> Path:
    """JupyterLab settings for ``start --instructor``: the course's ``overrides.json`` without the student's
    ``page_config.json`` (which switches nbgrader's instructor tools off)."""
    folder = VENV / "jupyterlab-instructor-settings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "overrides.json").write_text((LAB_SETTINGS / "overrides.json").read_text())
    return folder


def start(args: list[str]) -> int:
    """Open JupyterLab on ``notebooks/`` (with ``--offline-preview``: on the stand-in models, no network;
    with ``--instructor``: on the whole course directory, with nbgrader's instructor tools)."""
    preview, instructor = PREVIEW_FLAG in args, INSTRUCTOR_FLAG in args
    args = [arg for arg in args if arg not in (PREVIEW_FLAG, INSTRUCTOR_FLAG)]
    python = ensure_environment(EXTRAS["start"])
    env = dict(os.environ)
    if preview:
        ensure_environment(EXTRAS["grade"])  # building the stand-ins needs onnx, which the grading tools bring
        env.update(_build_preview_cache(python))
    print("Starting JupyterLab on the course notebooks ...", flush=True)
    settings = _instructor_settings() if instructor else LAB_SETTINGS
    folder = ROOT if instructor else ROOT / "notebooks"  # formgrader works on the whole course directory
    command = [str(python), "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder}",
               f"--LabApp.app_settings_dir={settings}",
               # lessons open unmodified: the kernel's language_info is filled in when a notebook opens
               "--ServerApp.contents_manager_class=course_utils.lesson.lab_contents.CourseContentsManager",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
               f"--ServerApp.jpserver_extensions={VALIDATE_BUTTON_EXTENSIONS}"]
    if not any(arg.startswith("--ServerApp.tornado_settings") for arg in args):
        # jupyter_server asks for a 90 s websocket ping timeout, tornado allows at most the 30 s ping interval and
        # warns at every start that it uses 30 s: ask for the 30 s it uses anyway
        command.append('--ServerApp.tornado_settings={"ws_ping_timeout": 30000}')
    if not any(arg.startswith(("--log-level", "--ServerApp.log_level", "--LabApp.log_level", "--debug"))
               for arg in args):  # its start-up log hid the link among 40 lines; run_jupyterlab prints it last
        command += ["--ServerApp.log_level=WARN", "--LabApp.log_level=WARN"]
    runtime = _runtime_dir(str(python), env)
    if os.name != "nt" and runtime is not None and len(str(runtime)) <= 60 and \
            not any(arg.startswith("--KernelManager.transport") for arg in args):
        # kernels talk to JupyterLab over Unix sockets in Jupyter's runtime folder, not TCP (TCP makes every
        # kernel warn that it is "susceptible to eavesdropping"); a socket's path must stay short
        command.append("--KernelManager.transport=ipc")
    command += args
    if not any(arg.startswith(("--no-browser", "--ServerApp.open_browser", "--browser", "--ServerApp.browser"))
               for arg in args) and _no_browser_here():
        print("No web browser found here: open the link printed below in a browser.", flush=True)
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        print("Running as root (as in many containers): adding --allow-root.", flush=True)
        command.append("--allow-root")
    if not env.get("JUPYTER_TOKEN") and not any("token" in arg.lower() for arg in args):
        # a token JupyterLab did not make itself: it prints no banner of links above the course's plain link
        # (an environment variable, which other users cannot read, unlike a command line)
        import secrets

        env["JUPYTER_TOKEN"] = secrets.token_hex(24)
    return run_jupyterlab(command, cwd=ROOT, env=env, runtime=runtime)


def _runtime_dir(python: str, env: dict) -> Path | None:
    """Jupyter's runtime folder (where a running server writes ``jpserver-<pid>.json``), or None."""
    found = subprocess.run([python, "-m", "jupyter", "--runtime-dir"], env=env, capture_output=True, text=True)
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def _print_link_when_ready(process: subprocess.Popen, runtime: Path | None, timeout: float = 120.0,
                           browser: bool = True, found: dict | None = None) -> None:
    """Print the server's link, plainly and last, once its ``jpserver-<pid>.json`` appears (its contents
    go into ``found``: the url and token that stopping it needs)."""
    import json
    import time

    deadline = time.monotonic() + timeout
    info_file = runtime / f"jpserver-{process.pid}.json" if runtime else None
    while info_file and process.poll() is None and time.monotonic() < deadline:
        try:
            info = json.loads(info_file.read_text())
        except (OSError, ValueError):
            time.sleep(0.25)
            continue
        if found is not None:
            found.update(info)
        link = f"{info['url'].rstrip('/')}/lab?token={info['token']}" if info.get("token") else f"{info['url']}lab"
        opened = " (it may have opened already)" if browser else ""
        print(f"\nJupyterLab is running. Open this link in your browser{opened}:\n\n"
              f"    {link}\n\nOpen 01-late-interaction-basics/01-late-interaction-basics.ipynb to begin. "
              "Stop JupyterLab with Ctrl+C here.\n", flush=True)
        return


def run_jupyterlab(command: list[str], *, cwd: Path, env: dict, runtime: Path | None = None) -> int:
    """Run JupyterLab until it stops, print its link once it is up, and stop it cleanly on Ctrl+C.

    JupyterLab answers a Ctrl+C with a question (``Shut down this Jupyter server (y/[n])?``).
    Here it runs in a session of its own, so the terminal's Ctrl+C reaches this script only,
    which asks JupyterLab to shut down as its File > Shut Down menu does (or, if that request
    fails, with a termination signal): it shuts down its kernels, removes its runtime files and
    exits, and this script waits for that.
    A second Ctrl+C stops it at once. ``runtime``: Jupyter's runtime folder, to find the link in.
    """
    if os.name == "nt":  # a console Ctrl+C reaches every process attached to it: JupyterLab asks itself
        return subprocess.call(command, cwd=cwd, env=env)
    import signal
    import threading

    process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)
    server: dict = {}
    threading.Thread(target=_print_link_when_ready, args=(process, runtime),
                     kwargs={"browser": "--no-browser" not in command, "found": server}, daemon=True).start()
    stopping = False
    while True:
        try:
            code = process.wait()
            if stopping:
                print("JupyterLab stopped.", flush=True)
            return code
        except KeyboardInterrupt:
            if stopping:
                process.kill()
                continue
            stopping = True
            print("\nStopping JupyterLab: shutting down its kernels (Ctrl+C again to stop it at once) ...",
                  flush=True)
            if not _ask_to_shut_down(server):
                process.send_signal(signal.SIGTERM)


def _ask_to_shut_down(server: dict) -> bool:
    """Ask the JupyterLab described by ``server`` (its ``jpserver-<pid>.json``) to shut down, as its File >
    Shut Down menu does; True if it accepted (it then stops its kernels and exits, quietly: a termination
    signal makes it log "received signal 15, stopping" as a critical message)."""
    import urllib.request

    if not server.get("url") or not server.get("token"):
        return False
    request = urllib.request.Request(f"{server['url'].rstrip('/')}/api/shutdown", data=b"", method="POST",
                                     headers={"Authorization": f"token {server['token']}"})
    try:  # on this machine: no proxy
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=5).close()
    except OSError:
        return False
    return True


def test(args: list[str]) -> int:
    """Run the test suite with pytest (options from pyproject.toml, plus ``args``)."""
    python = ensure_environment(EXTRAS["test"])
    return subprocess.call([str(python), "-m", "pytest", *args], cwd=ROOT)


def grade(args: list[str]) -> int:
    """Instructors: ``python -m course_utils grade`` in the course environment (see the README)."""
    python = ensure_environment(EXTRAS["grade"])
    course = [] if any(a == "--course" or a.startswith("--course=") for a in args) else ["--course", str(ROOT)]
    return run_to_the_end([str(python), "-m", "course_utils", "grade", *course, *args])


def report(args: list[str]) -> int:
    """Instructors: rebuild the class report from the gradebook, ``python -m course_utils report [LESSON]``."""
    python = ensure_environment(EXTRAS["grade"])
    course = [] if any(a == "--course" or a.startswith("--course=") for a in args) else ["--course", str(ROOT)]
    return subprocess.call([str(python), "-m", "course_utils", "report", *course, *args])


def export(args: list[str]) -> int:
    """Instructors: grades and feedback for a learning system, ``python -m course_utils export SYSTEM LESSON``."""
    python = ensure_environment(EXTRAS["grade"])
    course = [] if any(a == "--course" or a.startswith("--course=") for a in args) else ["--course", str(ROOT)]
    return subprocess.call([str(python), "-m", "course_utils", "export", *course, *args])


def run_to_the_end(command: list[str]) -> int:
    """Run ``command`` and wait until it has finished, even on Ctrl+C.

    ``subprocess.call`` kills its child on Ctrl+C, so the grader could not stop its own workers
    and kernels. Here the child runs in a session of its own and gets each Ctrl+C (and a
    termination or hang-up) from this process exactly once, as a Ctrl+C, stops cleanly, and is waited for.
    """
    if os.name == "nt":  # a console Ctrl+C reaches every process attached to it
        process = subprocess.Popen(command)
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                continue
    import signal

    process = subprocess.Popen(command, start_new_session=True)

    def forward(signum, frame):  # a termination or hang-up also asks for the clean stop of Ctrl+C
        if process.poll() is None:
            process.send_signal(signal.SIGINT)

    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def course_setting() -> tuple[str, str]:
    """The repository URL and branch that Colab badges and set-up cells point to (from pyproject.toml)."""
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib is not None:
        settings = tomllib.loads(text)
        repository = settings.get("project", {}).get("urls", {}).get("Repository")
        branch = settings.get("tool", {}).get("course", {}).get("branch")
    else:  # Python 3.10 has no TOML reader: find the two lines
        found = (re.search(r'^Repository\s*=\s*"([^"]+)"', text, re.M),
                 re.search(r'^\[tool\.course\][^\[]*?^branch\s*=\s*"([^"]+)"', text, re.M | re.S))
        repository, branch = (match.group(1) if match else None for match in found)
    if not (isinstance(repository, str) and repository and isinstance(branch, str) and branch):
        sys.exit("pyproject.toml needs [project.urls] Repository = \"...\" and [tool.course] branch = \"...\"")
    return repository, branch


VERSION_FILE = ROOT / "course_utils" / "__init__.py"
_VERSION_LINE = re.compile(r'^__version__ = "([^"]+)"$', re.M)


def course_version() -> str:
    """The course package's version: the one ``__version__ = "..."`` line of course_utils/__init__.py."""
    found = _VERSION_LINE.findall(VERSION_FILE.read_text())
    if len(found) != 1:
        sys.exit(f"{VERSION_FILE} needs exactly one line __version__ = \"<version>\"")
    return found[0]


def lessons() -> list[str]:
    """Names of the lessons: the folders of solutions/ that hold <name>/<name>.ipynb."""
    return sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def generate(args: list[str]) -> int:
    """Stamp the Colab badge and the set-up cell (with the course version) into solutions/, then make
    notebooks/ with nbgrader."""
    python = ensure_environment(EXTRAS["test"])
    repository, branch = course_setting()
    version = course_version()
    names = args or lessons()
    stamp = ("import sys; from pathlib import Path; from course_utils.lesson.colab import stamp_notebook\n"
             "for path in sys.argv[4:]:\n"
             "    changed = stamp_notebook(Path(path), sys.argv[1], sys.argv[2], sys.argv[3])\n"
             "    print(('stamped ' if changed else 'unchanged ') + path)\n"
             "import nbformat; from course_utils.lesson.moved import MOVED_LESSONS, pointer_notebook\n"
             "for old in MOVED_LESSONS:  # the ungraded pointers left where a moved lesson was\n"
             f"    path = Path({str(ROOT)!r}) / 'notebooks' / old / f'{{old}}.ipynb'\n"
             "    path.parent.mkdir(parents=True, exist_ok=True)\n"
             "    nbformat.write(pointer_notebook(old, sys.argv[1], sys.argv[2]), str(path))\n"
             "    print('pointer ' + str(path))")
    paths = [str(ROOT / "solutions" / name / f"{name}.ipynb") for name in names]
    subprocess.run([str(python), "-c", stamp, repository, branch, version, *paths], check=True)
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in names:
        subprocess.run([str(python.parent / "nbgrader"), "generate_assignment", name, "--force",
                        "--log-level=WARN"], cwd=ROOT, env=env, check=True)
        print(f"generated notebooks/{name}/{name}.ipynb")
    return 0


def release(args: list[str]) -> int:
    """Maintainers: bump the version in its one place, regenerate every lesson, commit, tag ``v<version>``."""
    if len(args) != 1 or not re.fullmatch(r"\d+(\.\d+)*((a|b|rc|\.post|\.dev)\d+)?", args[0]):
        sys.exit("usage: python3 course.py release VERSION   (a release number such as 0.3.0)")
    version, old = args[0], course_version()
    git = ["git", "-C", str(ROOT)]
    tag = f"v{version}"
    if subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, check=True).stdout.strip():
        sys.exit("The working tree has uncommitted changes: commit or stash them first.")
    if subprocess.run([*git, "rev-parse", "-q", "--verify", f"refs/tags/{tag}"], capture_output=True).returncode == 0:
        sys.exit(f"The tag {tag} exists already: choose a new version.")
    if f"## {version}" not in (ROOT / "CHANGELOG.md").read_text():
        sys.exit(f"CHANGELOG.md has no section '## {version}': say what changes for students and instructors first.")
    VERSION_FILE.write_text(_VERSION_LINE.sub(f'__version__ = "{version}"', VERSION_FILE.read_text()))
    generate([])
    subprocess.run([*git, "add", "-A", "course_utils/__init__.py", "solutions", "notebooks"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"Release {version} (was {old}): lessons stamped with {version}"],
                   check=True)
    subprocess.run([*git, "tag", "-a", tag, "-m", f"Course {version}"], check=True)
    _, branch = course_setting()
    print(f"Released {version}: committed and tagged {tag}. Run the tests, then push both, e.g.\n"
          f"    git push origin {branch} {tag}\n"
          "The set-up cells on Colab install from the tag, so the lessons work only once it is pushed.")
    return 0


def lock(args: list[str]) -> int:
    """Resolve the newest allowed versions in a scratch environment and write ``constraints.txt``."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="course-lock-") as scratch:
        venv.EnvBuilder(with_pip=True).create(scratch)
        python = Path(scratch) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-e", f"{ROOT}[{EXTRAS['test']}]"], check=True)
        frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"], check=True,
                                capture_output=True, text=True).stdout
    pins = sorted(line for line in frozen.splitlines() if line and not line.startswith(("#", "course-utils")))
    CONSTRAINTS.write_text("# Exact versions the test suite last passed with (all extras), used by course.py.\n"
                           "# Remake with `python3 course.py lock`, run the tests, commit when they pass.\n"
                           + "\n".join(pins) + "\n")
    print(f"Wrote {len(pins)} pins to {CONSTRAINTS}")
    return 0


def main(argv: list[str]) -> int:
    commands = {"start": start, "test": test, "grade": grade, "report": report, "export": export,
                "generate": generate, "release": release, "lock": lock}
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 2
    try:
        return commands[argv[0]](argv[1:])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
