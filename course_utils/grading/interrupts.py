"""Ctrl+C while a class is graded: stop at once, completely, and never in the middle of storing a result.

- :func:`handled` makes the first Ctrl+C (SIGINT) raise ``KeyboardInterrupt`` once; further
  ones are ignored until the clean-up is over, so a second Ctrl+C cannot cut it short.
- :func:`deferred` holds an interrupt back until a block (storing one result) is finished.
- :func:`init_worker` makes the pool's workers leave Ctrl+C to the main process (a terminal
  sends it to the whole process group), which then stops them with :func:`stop_workers`:
  each worker's kernels and other children first, then the worker itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

__all__ = ["GradingInterrupted", "deferred", "handled", "init_worker", "stop_workers"]


class GradingInterrupted(KeyboardInterrupt):
    """The run was interrupted; ``outcome`` says what had been stored by then."""

    def __init__(self, outcome):
        super().__init__("grading interrupted")
        self.outcome = outcome


_state = {"depth": 0, "previous": None, "deferring": 0, "pending": False}


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_interrupt(signum, frame) -> None:
    if _state["deferring"]:
        _state["pending"] = True
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the clean-up runs to its end
    raise KeyboardInterrupt


@contextlib.contextmanager
def handled():
    """Within this block, Ctrl+C raises KeyboardInterrupt once and then is ignored (blocks nest)."""
    if not _main_thread():
        yield
        return
    if _state["depth"] == 0:
        _state["previous"] = signal.signal(signal.SIGINT, _on_interrupt)
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            signal.signal(signal.SIGINT, _state["previous"] or signal.default_int_handler)
            _state["pending"] = False


@contextlib.contextmanager
def deferred():
    """An interrupt during this block takes effect when the block ends (inside :func:`handled` only)."""
    if not _main_thread() or _state["depth"] == 0:
        yield
        return
    _state["deferring"] += 1
    try:
        yield
    finally:
        _state["deferring"] -= 1
        if not _state["deferring"] and _state["pending"]:
            _state["pending"] = False
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            raise KeyboardInterrupt


def init_worker(*args) -> None:
    """Process-pool initializer: ignore Ctrl+C (the main process stops the worker), then the grading set-up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import tempfile

    from course_utils.grading import worker

    worker.init_worker(*args)
    tempfile.tempdir = None  # take TMPDIR from the grading environment just set


def _kill_tree(pid: int) -> None:
    """Kill a process and everything it started (kernels run in process groups of their own)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        return
    try:
        parent = psutil.Process(pid)
        family = parent.children(recursive=True)
    except psutil.Error:
        return
    for process in [*family, parent]:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs([*family, parent], timeout=10)


def stop_workers(pool) -> None:
    """Stop a ProcessPoolExecutor now: its workers and all their children killed, pending work cancelled."""
    processes = dict(getattr(pool, "_processes", None) or {})  # {pid: Process}; no public way to reach them
    for pid in processes:
        _kill_tree(pid)
    pool.shutdown(wait=True, cancel_futures=True)
