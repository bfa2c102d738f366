"""What the browser test needs: the README's JupyterLab server and a headless Chromium.

Both are started and stopped by the test itself, and neither reaches anything
but 127.0.0.1:

- :class:`JupyterLab` runs the command of ``python3 course.py start`` (taken from
  ``course.py`` itself, so the test follows the README's start command when it
  changes) on a free loopback port with a known token; with ``offline_preview``,
  that of ``python3 course.py start --offline-preview``, whose stand-in models
  then are the only ones the lessons can find. Its Jupyter config, data,
  runtime and IPython folders, its JupyterLab settings and workspaces and the
  notebook checkpoints live in a temporary folder, so neither the maintainer's
  own Jupyter set-up nor the test leaves a trace in the other. Autosave is off:
  the lesson files in ``notebooks/`` are never written.
- :func:`open_browser` launches Debian's ``chromium`` with Playwright (its own
  browsers cannot be downloaded here) and aborts every request that is not
  for 127.0.0.1 (the Colab badge's image, for example).

Without Chromium the test is skipped, with how to install it; with
``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) it fails instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
REQUIRE_ENV = "COURSE_REQUIRE_BROWSER"
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = ("install Debian's chromium: sudo apt-get install chromium "
                "(or set COURSE_CHROMIUM to another Chromium executable)")
#: Flags for a headless Chromium that opens no connection of its own (updates, sync, QUIC probes)
#: and resolves no name but the loopback address.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
#: Environment variables of the test session that a student's JupyterLab would not have.
_NOT_A_STUDENTS = ("MPLBACKEND",)  # conftest.py sets Agg, which would keep figures out of the notebook
#: The test session's stand-in model settings (conftest.py), left out when the start command sets its own.
_SESSION_MODEL_SETTINGS = ("FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE", "COURSE_STANDIN_CACHE")


def browser_unavailable() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM}; {INSTALL_HINT}"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed; run the README's test command, which installs it"
    return None


def require_browser() -> None:
    """Skip the calling test when no browser can run here; fail instead under ``COURSE_REQUIRE_BROWSER=1``."""
    reason = browser_unavailable()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 (the CI) needs the browser test to run, but: {reason}", pytrace=False)
    pytest.skip(reason)


def readme_start_command(extra_args: list[str],
                         preview_cache: Path | None = None) -> tuple[list[str], Path, list[str], dict]:
    """What ``python3 course.py start <extra_args>`` runs: its command, folder, extras and environment.

    ``course.py`` is loaded and its ``start`` called with the environment set-up
    and the launch of JupyterLab replaced by recorders: the environment is this test
    session's (the test extra includes the course and grading extras), and JupyterLab
    is not started. Other commands it runs (building the stand-ins of
    ``--offline-preview``, into ``preview_cache`` if given) run for real.

    Returns:
        (command, working folder, extras installed in order, the variables it sets or changes for JupyterLab).
    """
    spec = importlib.util.spec_from_file_location("_course_cli_for_tests", ROOT / "course.py")
    course = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course)
    if preview_cache is not None:
        course.PREVIEW_CACHE = Path(preview_cache)
    seen: dict = {"extras": []}

    def ensure_environment(extra):
        seen["extras"].append(extra)
        return Path(sys.executable)

    def run_jupyterlab(command, **kwargs):
        seen["command"], seen["cwd"] = list(command), Path(kwargs.get("cwd") or os.getcwd())
        env = kwargs.get("env") or os.environ
        seen["env"] = {key: value for key, value in env.items() if os.environ.get(key) != value}
        return 0

    course.ensure_environment = ensure_environment
    course.run_jupyterlab = run_jupyterlab
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        course.start(list(extra_args))
    return seen["command"], seen["cwd"], seen["extras"], seen["env"]


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _loopback_opener() -> urllib.request.OpenerDirector:
    """A urllib opener that ignores proxy settings (the server is on 127.0.0.1)."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def jupyter_environment(folder: Path) -> dict[str, str]:
    """The environment of the test session, with Jupyter's per-user folders moved into ``folder``.

    The stand-in model settings of the session (``FASTEMBED_CACHE_PATH``,
    ``HF_HUB_OFFLINE``) are kept, so the lesson's kernel loads the stand-ins.
    """
    env = {key: value for key, value in os.environ.items() if key not in _NOT_A_STUDENTS}
    for name in ("config", "data", "runtime", "ipython"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    env.update(JUPYTER_CONFIG_DIR=str(folder / "config"), JUPYTER_DATA_DIR=str(folder / "data"),
               JUPYTER_RUNTIME_DIR=str(folder / "runtime"), IPYTHONDIR=str(folder / "ipython"),
               JUPYTER_PLATFORM_DIRS="0", PYTHONUNBUFFERED="1")
    return env


class JupyterLab:
    """The README's JupyterLab on ``notebooks/``, on a free loopback port, as a context manager."""

    def __init__(self, folder: Path, timeout: float = 90.0, offline_preview: bool = False):
        self.folder = Path(folder)
        self.timeout = timeout
        self.token = secrets.token_hex(16)
        self.log_path = self.folder / "jupyterlab.log"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        settings = self.folder / "lab-user-settings"
        autosave = settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
        autosave.parent.mkdir(parents=True, exist_ok=True)
        autosave.write_text(json.dumps({"autosave": False}))
        self.extra_args = [
            "--no-browser", "--ServerApp.open_browser=False", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={free_loopback_port()}", f"--IdentityProvider.token={self.token}",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.folder / 'workspaces'}",
            f"--FileContentsManager.checkpoints_kwargs=root_dir={self.folder / 'checkpoints'}",
            # (no updates and news settings: the start command sets them, and JupyterLab refuses a setting given twice)
            "--LabApp.extension_manager=readonly",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.extra_args.append("--allow-root")  # CI containers run as root; Jupyter refuses without it
        if offline_preview:  # the stand-ins come from the start command only, not from this test session
            self.extra_args.append("--offline-preview")
        self.env = jupyter_environment(self.folder)
        from unittest import mock

        with mock.patch.dict(os.environ, self.env):  # the start command reads Jupyter's folders from it
            self.command, self.cwd, self.extras, changed = readme_start_command(
                self.extra_args, preview_cache=self.folder / "offline-preview-models")
        if offline_preview:
            for name in _SESSION_MODEL_SETTINGS:
                self.env.pop(name, None)
        self.env.update(changed)

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> JupyterLab:
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        runtime = Path(self.env["JUPYTER_RUNTIME_DIR"])
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            for info_file in runtime.glob("jpserver-*.json"):
                with contextlib.suppress(ValueError, OSError):
                    self.port = int(json.loads(info_file.read_text())["port"])
            if self.port and self._get("api/status") is not None:
                return
            time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {self.timeout:.0f} s:\n{self.log_tail()}")

    def _get(self, path: str) -> bytes | None:
        try:
            with _loopback_opener().open(self.url(path), timeout=5) as response:
                return response.read()
        except (urllib.error.URLError, OSError):
            return None

    def stop(self) -> None:
        """Shut the server and its kernels down (politely, then by process id)."""
        if self.process is None:
            return
        try:
            import psutil

            spawned = psutil.Process(self.process.pid).children(recursive=True)
        except Exception:  # psutil missing, or the server already gone
            spawned = []
        if self.process.poll() is None and self.port:
            request = urllib.request.Request(self.url("api/shutdown"), method="POST", data=b"",
                                             headers={"Authorization": f"token {self.token}"})
            with contextlib.suppress(urllib.error.URLError, OSError):
                _loopback_opener().open(request, timeout=5).close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for child in spawned:  # kernels run in sessions of their own; end those this server started
            with contextlib.suppress(Exception):
                if child.is_running():
                    child.kill()
        self._log.close()
        self.process = None

    # -- helpers ----------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """Address of ``path`` on the server, with the token."""
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the server printed."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextlib.contextmanager
def open_browser():
    """A Playwright page in headless Debian Chromium that can reach 127.0.0.1 only.

    Yields ``(page, blocked)``: ``blocked`` lists the URLs of requests that were aborted
    because they were for another address.
    """
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []

    def only_loopback(route):
        url = route.request.url
        host = url.split("/")[2].rsplit(":", 1)[0] if "://" in url else ""
        if url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page, blocked
        finally:
            browser.close()
