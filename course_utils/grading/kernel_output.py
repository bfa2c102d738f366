"""Inside a grading kernel: text output leaves in messages of at most :data:`PIECE_CHARS` characters.

ipykernel gathers what a cell prints and sends it every 0.2 s as one message, so a loop
that prints 300 MB makes messages of hundreds of MB. The grader refuses messages over
``course_utils.grading.sandbox.MAX_MESSAGE_BYTES`` (it would otherwise have to hold them),
and a refused message cuts the kernel's output channel. So the grader starts every kernel
with :func:`install` (``--IPKernelApp.exec_lines``, which runs outside the input history):
the text waiting to be sent is cut into pieces, one message each. Output is unchanged,
only sent in more messages. Code that undoes this only risks its own notebook's output.

It patches ipykernel's ``OutStream._flush_buffers`` (ipykernel 6.26 and later), not
``write``: IPython puts back each stream's own ``write`` after every cell it runs.
Standard library only.
"""

from __future__ import annotations

import sys

__all__ = ["EXEC_LINE", "PIECE_CHARS", "install"]

#: Characters sent in one message at most (about 1 MB of text).
PIECE_CHARS = 2**20
#: The kernel option that installs it when the kernel starts.
EXEC_LINE = "--IPKernelApp.exec_lines=from course_utils.grading.kernel_output import install as _i; _i(); del _i"


def install() -> bool:
    """Cut the kernel's stream output into pieces (see the module docstring); False where it cannot."""
    kind = type(sys.stdout)
    original = getattr(kind, "_flush_buffers", None)
    if original is None or getattr(kind, "_course_pieces", False):
        return getattr(kind, "_course_pieces", False)

    def _flush_buffers(self):
        for parent, data in original(self):
            if not isinstance(data, str) or len(data) <= PIECE_CHARS:
                yield parent, data
                continue
            for start in range(0, len(data), PIECE_CHARS):
                yield parent, data[start:start + PIECE_CHARS]

    kind._flush_buffers = _flush_buffers
    kind._course_pieces = True
    return True
