"""A memory cgroup per sandboxed kernel: one bound on everything a notebook's processes use together.

A process limit such as ``RLIMIT_DATA`` does not count shared memory (``mmap(-1, n)``
with ``MAP_SHARED``, files in ``/tmp``'s tmpfs) and applies to each process alone. A
memory cgroup counts every page the sandbox's processes touch, shared ones included,
and the Linux kernel stops (OOM-kills) a process of the group that would go past it.

:func:`create` makes one under the grading process's own cgroup, in cgroup v2
(``memory.max``, ``memory.swap.max``, ``memory.events``) or v1 (``memory.limit_in_bytes``,
``memory.memsw.limit_in_bytes``, ``memory.oom_control``), and returns None where this
process may not (an ordinary user without a delegated cgroup, a container without the
memory controller): the sandbox then limits each process's address space instead
(:mod:`course_utils.grading.confine`). The kernel's launcher enters the group before it
starts bubblewrap (:data:`ENTER`), so every process of the sandbox is counted from its start.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENTER", "MemoryCgroup", "available", "create"]

#: ``python -I -S ENTER <cgroup.procs> -- command...``: put itself into the group, then become the command.
ENTER = Path(__file__).with_name("enter_cgroup.py")
#: Set to 1 to grade as if this machine had no usable memory cgroup (the fallback's tests).
DISABLE_VARIABLE = "COURSE_SANDBOX_NO_CGROUP"


@dataclass
class MemoryCgroup:
    """One kernel's memory cgroup: its folder, its cgroup version (1 or 2) and its limit in bytes."""

    path: Path
    version: int
    limit: int

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def oom_kills(self) -> int:
        """How many processes the Linux kernel stopped for going past the limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            text = (self.path / name).read_text()
        except OSError:
            return 0
        found = re.search(r"^oom_kill (\d+)", text, re.M)
        if found:
            return int(found.group(1))
        if self.version == 1:  # older kernels: only whether the limit was hit at all
            with contextlib.suppress(OSError, ValueError):
                return int((self.path / "memory.failcnt").read_text().strip()) and 1
        return 0

    def peak(self) -> int | None:
        """The most memory the group used at once, in bytes (None when the kernel does not say)."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.path / name).read_text().strip())
        except (OSError, ValueError):
            return None

    def remove(self, wait: float = 5.0) -> None:
        """Remove the group once its processes are gone (they are: the sandbox's first process ended)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return  # a zombie still being reaped: an empty leftover folder, harmless
                time.sleep(0.05)


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, file system type, super options) of every mount, from /proc/self/mountinfo."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            found.append((fields[4].replace("\\040", " "), tail[0], tail[2]))
    return found


def _own_groups() -> dict[str, str]:
    """{controller or "" for cgroup v2: this process's cgroup path} from /proc/self/cgroup."""
    groups = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _number, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                groups[controller] = path
    except (OSError, ValueError):
        pass
    return groups


def _parent_folder() -> tuple[Path, int] | None:
    """(the folder of this process's memory cgroup, its version), or None."""
    groups = _own_groups()
    for point, kind, options in _mounts():
        if kind == "cgroup2" and "" in groups:
            base = Path(point) / groups[""].lstrip("/")
            controllers = (Path(point) / "cgroup.controllers")
            if controllers.exists() and "memory" in controllers.read_text().split():
                return base, 2
        if kind == "cgroup" and "memory" in options.split(",") and "memory" in groups:
            return Path(point) / groups["memory"].lstrip("/"), 1
    return None


def _write(path: Path, value: str) -> None:
    with open(path, "w") as file:
        file.write(value)


def create(limit: int, name: str) -> MemoryCgroup | None:
    """A new memory cgroup of at most ``limit`` bytes (no swap) named ``name``, or None where none can be made."""
    if os.environ.get(DISABLE_VARIABLE) == "1" or not os.path.isdir("/proc/self"):
        return None
    found = _parent_folder()
    if found is None:
        return None
    parent, version = found
    path = parent / name
    try:
        if version == 2:
            subtree = parent / "cgroup.subtree_control"
            if "memory" not in subtree.read_text().split():
                _write(subtree, "+memory")
            path.mkdir()
            _write(path / "memory.max", str(limit))
            if (path / "memory.swap.max").exists():
                _write(path / "memory.swap.max", "0")
        else:
            path.mkdir()
            _write(path / "memory.limit_in_bytes", str(limit))
            if (path / "memory.memsw.limit_in_bytes").exists():
                with contextlib.suppress(OSError):  # no swap accounting on this machine: RAM is still bounded
                    _write(path / "memory.memsw.limit_in_bytes", str(limit))
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        return None
    return MemoryCgroup(path, version, limit)


@functools.cache
def available() -> bool:
    """Whether this process can make memory cgroups (tried once: a group made and removed)."""
    group = create(2**30, f"course-grading-probe-{os.getpid()}")
    if group is None:
        return False
    group.remove()
    return True
