"""Outside the grading sandbox, just before it: join a memory cgroup, then become bubblewrap.

Run as ``python -I -S enter_cgroup.py <cgroup.procs file> -- command ...`` (standard library
only): writes its own process id into the file, so that this process and everything it
starts (the sandbox, the kernel, the kernel's children) count against the group's limit,
then replaces itself with the command (same process id, so the kernel manager's handle on
it stays right). See :mod:`course_utils.grading.memory_cgroup`.
"""

import os
import sys

__all__ = []

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) < 3 or arguments[1] != "--":
        raise SystemExit("enter_cgroup.py: usage: enter_cgroup.py <cgroup.procs> -- command ...")
    with open(arguments[0], "w") as procs:
        procs.write(str(os.getpid()))
    os.execv(arguments[2], arguments[2:])
