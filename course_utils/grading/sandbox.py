"""The grading sandbox: every submission's kernel runs inside bubblewrap (``bwrap``), Linux only.

The kernel, and every process it starts, sees the system (``/usr``, ``/etc``, ...) and the
course's Python environment read-only, and writable only two folders made for it alone (a
copy of the lesson's files to work in, its connection file and sockets) and a private
temporary folder: not the instructor's course directory, home folder, gradebook, other
submissions, nor the grading copy's folders that nbgrader writes the results into. Nothing
the kernel writes is read back: its results come over its messages, and after it ends its
folders are removed without following any link it made. It has no network (a
network namespace of its own); it talks to nbgrader over ZMQ's ``ipc`` transport, Unix
sockets in its private folder. Limits (:class:`Limits`) are set by
:mod:`course_utils.grading.confine` before the kernel starts, and its memory, where the machine
allows it, by a memory cgroup for the whole sandbox (:mod:`course_utils.grading.memory_cgroup`);
elsewhere by each process's address space. The kernel is process 1's child in a PID
namespace of its own: when it stops, everything it started is killed.

nbgrader and the checks' verdicts stay outside the sandbox (in the grading worker).

As root, bubblewrap builds the sandbox with root's rights and the kernel then runs as an
unused unprivileged user (:data:`UID_BASE` + the worker's process id): Linux does not
apply RLIMIT_NPROC to root, and one user per worker keeps one submission's fork loop from
using up another's processes. As an ordinary user, bubblewrap makes a user namespace and
the process count is one of that namespace.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager

import course_utils
from course_utils.grading import memory_cgroup

__all__ = [
    "MAX_MESSAGE_BYTES",
    "Limits",
    "SandboxUnavailable",
    "SandboxedKernelManager",
    "activate",
    "bwrap_command",
    "check_available",
    "environment",
    "format_size",
    "parse_size",
    "python_folders",
    "symlinks_to_python",
]

#: The kernel of a worker whose process id is ``pid`` runs, when grading as root, as user UID_BASE + pid.
UID_BASE = 1_500_000_000
GIB = 2**30
CONFINE = Path(__file__).with_name("confine.py")
#: Largest message the grader takes from a kernel (a bigger one is dropped by ZMQ before it is read, and the
#: cell's later messages with it): room for one print of 50 MB, which an honest notebook may do.
MAX_MESSAGE_BYTES = 96 * 2**20
#: Environment variables the kernel keeps (besides those starting with JPY_, LC_ and COURSE_).
KEPT_VARIABLES = ("LANG", "LANGUAGE", "TZ", "MPLBACKEND", "FASTEMBED_CACHE_PATH", "HF_HUB_OFFLINE", "PYTHONHASHSEED",
                  "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PYDEVD_DISABLE_FILE_VALIDATION")
HOW_TO_FIX = ("Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
              "bubblewrap), or grade in the container of the README (section \"Why the scores can be trusted\"), "
              "or, only for submissions you trust, pass --no-sandbox.")


class SandboxUnavailable(ValueError):
    """No grading sandbox can be made on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """What one submission's kernel may use: ``memory`` and ``file_size`` in bytes, ``processes`` a count
    (processes and threads together).

    ``memory`` bounds all the sandbox's processes together where a memory cgroup can be made (each
    process's allocations too, so that an ordinary one past it is a ``MemoryError``); elsewhere each
    process's address space."""

    memory: int = 4 * GIB
    processes: int = 512
    file_size: int = 1 * GIB

    def __post_init__(self):
        for name in ("memory", "processes", "file_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")

    def describe(self, name: str) -> str:
        """``memory`` -> ``the memory limit (4 GiB)``."""
        if name == "processes":
            return f"the process limit ({self.processes} processes and threads)"
        words = {"memory": "memory limit", "file_size": "file size limit"}[name]
        return f"the {words} ({format_size(getattr(self, name))})"


def parse_size(text: str) -> int:
    """Bytes from ``"4G"``, ``"512MiB"``, ``"100m"``, ``"2000000"``.

    Raises:
        ValueError: not a positive size.
    """
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.I)
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"not a size: {text!r} (write for example 4G, 512M or 100000000)")
    power = " kmgt".index(found.group(2).lower() or " ")
    return int(float(found.group(1)) * 1024**power)


def format_size(size: int) -> str:
    """``4294967296`` -> ``4 GiB``."""
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024**power:
            return f"{size / 1024**power:g} {unit}"
    return f"{size} bytes"


@functools.cache
def _supports(bwrap: str, option: str) -> bool:
    """Whether this bubblewrap knows ``option`` (``--disable-userns`` since 0.8, ``--size`` since 0.7)."""
    try:
        return option in subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False


def _system_binds() -> list[str]:
    """bwrap arguments for the system folders, read-only; merged-/usr symlinks stay symlinks."""
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


def python_folders() -> list[Path]:
    """The course's Python environment and interpreter, and the course package (read-only in the sandbox)."""
    folders = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    folders.add(Path(sys.executable).resolve().parent.parent)
    folders.add(Path(course_utils.__file__).resolve().parent)
    system = (Path("/usr"), Path("/etc"))
    kept = [f for f in folders if not any(f == s or s in f.parents for s in system)]
    return [f for f in kept if not any(other in f.parents for other in kept)]


def symlinks_to_python(mounted: list[Path]) -> list[tuple[Path, Path]]:
    """[(link, its target)]: the first symbolic link on the paths by which Python was started (a ``.venv``
    that links to an environment elsewhere, say) when no mounted folder holds it. The sandbox mounts
    every folder at its real path, so such a link must be made again inside it."""
    links = {}
    for start in (sys.prefix, sys.exec_prefix, sys.executable):
        path = Path(os.path.abspath(start))
        for candidate in [*reversed(path.parents), path]:
            if candidate.is_symlink():
                if not any(folder == candidate or folder in candidate.parents for folder in mounted):
                    links[candidate] = candidate.resolve()
                break
    return sorted(links.items())


def bwrap_command(argv: list[str], limits: Limits, *, cwd: Path, private: Path, readable: list[Path],
                  uid: int | None, address_space: bool = False) -> list[str]:
    """The command that runs ``argv`` in the sandbox.

    Args:
        argv: the command to run inside (paths as outside: every folder is mounted at its own path).
        cwd: its working folder (writable). private: the kernel's connection file and sockets (writable).
            Both must be folders made for this sandbox alone. /tmp is a private tmpfs of at most
            ``limits.file_size`` bytes.
        readable: more files or folders it may read (models). uid: the user to become (as root), or None.
        address_space: also limit each process's address space to ``limits.memory`` (where no memory
            cgroup bounds the sandbox).
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. {HOW_TO_FIX}")
    command = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
               "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading-sandbox"]
    if uid is None:
        command += ["--unshare-user"] + (["--disable-userns"] if _supports(bwrap, "--disable-userns") else [])
    else:
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    size = ["--size", str(limits.file_size)] if _supports(bwrap, "--size") else []
    command += _system_binds() + ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", *size, "--tmpfs", "/tmp"]
    mounts = [(p, "--ro-bind") for p in [*python_folders(), *readable] if p.exists()]
    mounts += [(p, "--bind") for p in dict.fromkeys([private, cwd])]
    made = {Path("/"), Path("/usr"), Path("/etc"), Path("/tmp")}

    def folders_above(path: Path) -> list[str]:  # readable, as outside
        args = []
        for parent in reversed(path.parents):
            if parent not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        return args

    for path, how in sorted(mounts, key=lambda item: len(item[0].parts)):
        command += [*folders_above(path), how, str(path), str(path)]
        made.add(path)
    for link, target in symlinks_to_python([path for path, _ in mounts]):
        command += [*folders_above(link), "--symlink", str(target), str(link)]
    command += ["--chdir", str(cwd), "--", sys.executable, "-I", "-S", str(CONFINE),
                "--memory", str(limits.memory), "--processes", str(limits.processes),
                "--file-size", str(limits.file_size)]
    if address_space:
        command += ["--address-space", str(limits.memory)]
    if uid is not None:
        command += ["--uid", str(uid)]
    return command + ["--", *argv]


def environment(outside: dict[str, str]) -> dict[str, str]:
    """The kernel's environment: only what grading needs (no instructor's tokens or paths), home in /tmp."""
    kept = {k: v for k, v in outside.items() if k in KEPT_VARIABLES or k.startswith(("JPY_", "LC_", "COURSE_"))}
    kept.pop("JPY_PARENT_PID", None)  # its parent in the sandbox is bwrap's process 1, never the grader
    scripts = str(Path(sys.executable).parent)
    # the kernel imports the course package the grader uses (mounted), even when the environment's
    # own install of it points elsewhere (a course copy sharing another copy's .venv)
    package_parent = str(Path(course_utils.__file__).resolve().parent.parent)
    return {**kept, "PATH": f"{scripts}:/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": package_parent,
            "HOME": "/tmp", "TMPDIR": "/tmp",
            "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/ipython", "PYTHONDONTWRITEBYTECODE": "1"}


#: In a grading worker: the sandbox every kernel it starts runs in ({limits, uid, scratch, readable}), or None.
_ACTIVE: dict | None = None


def activate(limits: Limits | None, scratch: Path, readable: list[Path] = ()) -> None:
    """Make every kernel this process starts with :class:`SandboxedKernelManager` run sandboxed
    (``limits`` None: unsandboxed). ``scratch``: where the kernels' private folders are made."""
    global _ACTIVE
    if limits is None:
        _ACTIVE = None
        return
    Path(scratch).mkdir(parents=True, exist_ok=True)
    uid = UID_BASE + os.getpid() if os.geteuid() == 0 else None
    _ACTIVE = {"limits": limits, "uid": uid, "scratch": Path(scratch), "readable": [Path(p) for p in readable]}


def _give(paths: list[Path], uid: int | None) -> None:
    """As root: let the sandbox's user write ``paths`` (the folders and files themselves, not their contents;
    never through a symbolic link)."""
    if uid is not None:
        for path in paths:
            os.chown(path, uid, uid, follow_symlinks=False)
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)  # bwrap, which keeps no right to read others' files, must enter it too


def _work_folder(scratch: Path, lesson_folder: Path | None) -> Path:
    """A new folder for the kernel to work in, holding copies of the regular files of ``lesson_folder``
    (data files a lesson ships; the notebook itself is not needed: its cells come over messages)."""
    work = Path(tempfile.mkdtemp(prefix="work-", dir=scratch))
    if lesson_folder is not None and lesson_folder.is_dir():
        for folder, folders, files in os.walk(lesson_folder):  # never follows links
            target = work / Path(folder).relative_to(lesson_folder)
            target.mkdir(exist_ok=True)
            for name in files:
                source = Path(folder) / name
                if source.is_file() and not source.is_symlink() and not name.endswith(".ipynb"):
                    shutil.copyfile(source, target / name, follow_symlinks=False)
            folders[:] = [f for f in folders if not (Path(folder) / f).is_symlink()  # nor the scratch folder
                          and not (Path(folder) / f).resolve().is_relative_to(Path(scratch).resolve())]
    return work


#: A Unix socket's path holds at most 107 bytes; the kernel's ZMQ endpoints are ``<private>/zmq-<n>``.
_SOCKET_PATH_ROOM = 100


def _private_folder(scratch: Path) -> Path:
    """A new private folder for one kernel's connection file and sockets: in ``scratch``, or in the
    system's temporary folder when a socket path in ``scratch`` would be too long (a deep TMPDIR)."""
    folder = Path(tempfile.mkdtemp(prefix="kernel-", dir=scratch))
    if len(str(folder / "zmq-00")) <= _SOCKET_PATH_ROOM:
        return folder
    folder.rmdir()
    return Path(tempfile.mkdtemp(prefix="course-kernel-", dir="/tmp"))


@functools.cache
def _client_context() -> zmq.asyncio.Context:
    """The ZMQ context of this process's kernel clients: messages over MAX_MESSAGE_BYTES are refused."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    return context


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox of :func:`activate` (plain when none is active).

    Each kernel gets a new working folder (a copy of the lesson's files, never the folder nbgrader
    writes the graded notebook to), a memory cgroup where one can be made, and clients that refuse
    messages over :data:`MAX_MESSAGE_BYTES`.
    """

    def __init__(self, **kwargs):
        private = None
        if _ACTIVE is not None:
            private = _private_folder(_ACTIVE["scratch"])
            kwargs.update(transport="ipc", ip=str(private / "zmq"), connection_file=str(private / "kernel.json"))
        super().__init__(**kwargs)
        self._private = private
        self._sandbox = _ACTIVE
        self._work: Path | None = None
        self._cgroup: memory_cgroup.MemoryCgroup | None = None
        self._oom = False

    def client(self, **kwargs):
        kwargs.setdefault("context", _client_context())
        return super().client(**kwargs)

    def limit_reached(self) -> str | None:
        """The limit the last kernel reached when the Linux kernel stopped it (``the memory limit (4 GiB)``)."""
        if self._cgroup is not None and self._cgroup.oom_kills():
            self._oom = True
        return self._sandbox["limits"].describe("memory") if self._oom and self._sandbox else None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        if self._private is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        settings, private = self._sandbox, self._private
        outside = dict(kw.get("env") or os.environ)
        lesson_folder = Path(kw["cwd"]) if kw.get("cwd") else None
        self._release_work()
        self._work = _work_folder(settings["scratch"], lesson_folder)
        _give([private, Path(self.connection_file), self._work], settings["uid"])
        self.kernel_spec.interrupt_mode = "message"  # a signal would stop bwrap, not interrupt the kernel
        kw["env"] = environment(outside)
        kw["cwd"] = str(self._work)
        kw["independent"] = True  # no JPY_PARENT_PID: bwrap --die-with-parent, not the kernel, watches the grader
        limits = settings["limits"]
        self._cgroup = memory_cgroup.create(limits.memory, f"course-grading-{os.getpid()}-{private.name}")
        command = bwrap_command(kernel_cmd, limits, cwd=self._work, private=private,
                                readable=settings["readable"], uid=settings["uid"],
                                address_space=self._cgroup is None)
        if self._cgroup is not None:
            command = [sys.executable, "-I", "-S", str(memory_cgroup.ENTER), str(self._cgroup.procs), "--", *command]
        await super()._async_launch_kernel(command, **kw)

    def _release_work(self) -> None:
        """Remove the last kernel's working folder and cgroup (its processes are gone)."""
        if self._cgroup is not None:
            if self._cgroup.oom_kills():
                self._oom = True
            self._cgroup.remove()
            self._cgroup = None
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)  # never follows the links a kernel made
            self._work = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._private is not None and not restart:
            self._release_work()
            shutil.rmtree(self._private, ignore_errors=True)


def check_available(limits: Limits, scratch: Path | None = None) -> None:
    """Run a tiny command in the sandbox, as grading would.

    Raises:
        SandboxUnavailable: not Linux, no bwrap, or bwrap cannot make the sandbox here (with its message).
    """
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the grading sandbox needs Linux (this is {sys.platform}). {HOW_TO_FIX}")
    with tempfile.TemporaryDirectory(prefix="course-sandbox-check-", dir=scratch) as folder:
        private = Path(folder)
        uid = UID_BASE + os.getpid() if os.geteuid() == 0 else None
        _give([private], uid)
        probe = [sys.executable, "-c", "import socket, course_utils; print('sandbox works')"]
        command = bwrap_command(probe, limits, cwd=private, private=private, readable=[], uid=uid)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                    env=environment(dict(os.environ)))
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(f"bubblewrap could not be started ({error}). {HOW_TO_FIX}") from None
    if result.returncode != 0 or "sandbox works" not in result.stdout:
        why = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SandboxUnavailable(f"bubblewrap cannot make the grading sandbox here ({why}); a container may "
                                 f"forbid user namespaces. {HOW_TO_FIX}")
