"""Inside the grading sandbox: set the limits, leave root, then run the kernel.

Run by bubblewrap as the sandbox's first command (``python -I -S confine.py
--memory BYTES [--address-space BYTES] --processes N --file-size BYTES [--uid UID] --
KERNEL ARGV``),
with only the standard library (the sandbox's Python starts it without site).

- ``--memory``: RLIMIT_DATA, the bytes a process may allocate (heap and private mappings), so
  that an ordinary allocation past the limit fails with a ``MemoryError``;
- ``--address-space``: RLIMIT_AS, the bytes of address space a process may map, shared
  mappings included: given only where no memory cgroup bounds the sandbox as a whole
  (:mod:`course_utils.grading.memory_cgroup`);
- ``--processes``: RLIMIT_NPROC, processes and threads of the sandbox's user;
- ``--file-size``: RLIMIT_FSIZE, the largest file a process may write;
- ``--uid``: when bubblewrap ran as root, the unprivileged user (and group) to become.
  The Linux kernel ignores RLIMIT_NPROC for root, so the kernel never runs as root.

Limits are set as both soft and hard limits: the student's code cannot raise them.
"""

import os
import resource
import sys

__all__ = []


def _confine(argv: list) -> list:
    """Apply the options of ``argv``; return the command after ``--``."""
    if "--" not in argv:
        raise SystemExit("confine.py: usage: confine.py [options] -- command ...")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    values = dict(zip(options[::2], options[1::2]))
    limits = {"--memory": resource.RLIMIT_DATA, "--address-space": resource.RLIMIT_AS,
              "--processes": resource.RLIMIT_NPROC, "--file-size": resource.RLIMIT_FSIZE}
    for name, which in limits.items():
        if name in values:
            value = int(values[name])
            resource.setrlimit(which, (value, value))
    if "--uid" in values:
        uid = int(values["--uid"])
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)  # drops every capability bubblewrap kept for this step
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("confine.py: could not leave root")
    if not command:
        raise SystemExit("confine.py: no command to run")
    return command


if __name__ == "__main__":
    run = _confine(sys.argv[1:])
    os.execv(run[0], run)
