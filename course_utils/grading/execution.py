"""Running one submission's notebook for nbgrader's autograde: one pass, bounded in time and output.

:class:`GradingExecute` takes the place of nbgrader's ``Execute`` step in a grading copy.
It runs the notebook's cells in order in one kernel (in the sandbox when the worker
activated it) and:

- gives each cell at most the per-cell timeout, and the whole notebook at most its time
  budget: a cell that runs too long is interrupted and the next cell runs in the same
  kernel; when the budget is spent, the ordinary cells left are not run, and the answer
  and test cells still are, each for at most :data:`AFTER_BUDGET_SECONDS`;
- when a cell kills the kernel or ignores the interrupt, starts a new kernel and runs the
  cells that had completed again (their outputs and check records are not kept twice),
  then goes on after the stopped cell: one pass, never the whole notebook from the start;
- takes each check's record from the messages of the test cell that is running: a record
  that comes from any other cell, or from a replayed one, is not a result (it is reported);
  records never become outputs;
- keeps at most :data:`MAX_CELL_OUTPUT_CHARS` of each cell's text output and at most
  :data:`MAX_CELL_IMAGE_CHARS` of its images (their base64 or SVG text), counted apart so that
  a lesson's own figures never count as text, dropping the rest as it arrives (the sandbox's
  kernel manager also refuses messages over a size), and ignores widget messages;
- runs test cells without storing them in the kernel's input history, and after each one
  clears it from the kernel's line cache and last-error state, so later cells cannot print
  the hidden checks' code.

What it finds is kept in the :class:`RunRecord` the worker sets as :data:`CURRENT` before it
calls nbgrader, and reads afterwards.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from queue import Empty

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution

from course_utils.lesson.checks import RECORD_MIME
from course_utils.grading.kernel_output import EXEC_LINE
from course_utils.grading.sandbox import MAX_MESSAGE_BYTES
from course_utils.grading.trusted import MARKER, record_entry

__all__ = ["AFTER_BUDGET_SECONDS", "CURRENT", "MAX_CELL_IMAGE_CHARS", "MAX_CELL_OUTPUT_CHARS", "GradingExecute",
           "RunRecord", "limit_findings"]

#: Characters of text output kept per cell: streams, errors and the non-image data of rich outputs.
MAX_CELL_OUTPUT_CHARS = 100_000
#: Characters of images kept per cell (every ``image/*`` entry), counted apart from the text. With the stand-in
#: models (December 2026) the largest images of one lesson cell were 194,728 characters (lesson 7), 176,040 (lesson
#: 6), 115,788 (lesson 2): about 10 times the largest, room for students' plots, a flood still bounded per cell.
MAX_CELL_IMAGE_CHARS = 2_000_000
#: Seconds each answer or test cell may still run once the notebook's time budget is spent.
AFTER_BUDGET_SECONDS = 10
#: Seconds a kernel has to answer after an interrupt before it is stopped and replaced.
INTERRUPT_GRACE_SECONDS = 5
#: New kernels one notebook may need (a cell that kills the kernel again and again stops there).
MAX_KERNEL_STARTS = 8

#: Run after every test cell, silently: forget the test cell's source and its last error.
_FORGET_TEST_CELL = (
    "import linecache as _course_lc, sys as _course_sys\n"
    "for _course_key, _course_entry in list(_course_lc.cache.items()):\n"
    f"    if len(_course_entry) > 2 and {MARKER!r} in ''.join(_course_entry[2] or ()):\n"
    "        _course_lc.cache.pop(_course_key, None)\n"
    "for _course_name in ('last_type', 'last_value', 'last_traceback', 'last_exc'):\n"
    "    if hasattr(_course_sys, _course_name):\n"
    "        setattr(_course_sys, _course_name, None)\n"
    "try:\n"
    "    get_ipython().last_execution_result = None\n"
    "except Exception:\n"
    "    pass\n"
    "for _course_name in [n for n in globals() if n.startswith('_course_')]:\n"
    "    del globals()[_course_name]\n")


@dataclass
class RunRecord:
    """What grading one notebook found.

    Set before the run: ``test_checks`` {test grade_id: [its check ids]}, ``timeout`` seconds per cell, ``budget``
    seconds for the whole notebook. Filled by the run: ``records`` {check id: [values, or ``Raised`` errors]},
    ``stopped`` [(cell index, why)], ``not_run`` (indices of ordinary cells skipped once the budget was spent),
    ``budget_spent_at`` (index of the cell running when it ran out), ``stray`` (cells whose messages held check
    records that were not the running test cell's own), ``cut`` ({``"text"`` or ``"images"``: cells whose output of
    that kind went over its limit and was cut}), ``kernel_starts``, ``seconds``, ``arrivals`` ({check id: [the
    grader's time.monotonic() at each record's arrival]}: the capstone's timings). A cell whose kernel reached a
    sandbox limit says so in its ``stopped`` reason.
    """

    test_checks: dict[str, list[str]]
    timeout: int
    budget: float
    records: dict[str, list] = field(default_factory=dict)
    stopped: list[tuple[int, str]] = field(default_factory=list)
    not_run: list[int] = field(default_factory=list)
    budget_spent_at: int | None = None
    stray: list[int] = field(default_factory=list)
    cut: dict[str, list[int]] = field(default_factory=dict)
    kernel_starts: int = 0
    seconds: float = 0.0
    arrivals: dict[str, list[float]] = field(default_factory=dict)


#: The record of the notebook being graded in this process (set by the worker around nbgrader's call).
CURRENT: RunRecord | None = None


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_graded(cell) -> bool:
    return is_grade(cell) or is_solution(cell)


def _stopped_output(why: str) -> NotebookNode:
    return new_output("error", ename="StoppedByGrader", evalue=f"The grader stopped this cell: it {why}.",
                      traceback=[f"The grader stopped this cell: it {why}."])


def _output_size(msg: dict) -> tuple[int, int]:
    """(characters of text, characters of images) of one output message."""
    content = msg.get("content", {})
    text = len(content.get("text", "") or "") + len(content.get("evalue", "") or "")
    text += sum(len(line) for line in content.get("traceback", []) or [] if isinstance(line, str))
    images = 0
    for mime, value in (content.get("data") or {}).items():
        size = len(value) if isinstance(value, str) else 1_000
        if str(mime).startswith("image/"):
            images += size
        else:
            text += size
    return text, images


class GradingExecute(Execute):
    """nbgrader's Execute step, run as the module docstring says (timeouts in seconds)."""

    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient
        from nbclient.util import run_sync

        NotebookClient.__init__(self, nb, km)
        if EXEC_LINE not in self.extra_arguments:
            self.extra_arguments = [*self.extra_arguments, EXEC_LINE]
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        run = CURRENT if CURRENT is not None else RunRecord({}, int(self.timeout or 60), float("inf"))
        self._run = run
        self._capture: str | None = None  # the test grade_id whose records are being taken
        self._replaying = False
        self._output_chars: dict[int, int] = {}  # characters of text kept, per cell
        self._image_chars: dict[int, int] = {}  # characters of images kept, per cell
        started = time.monotonic()
        try:
            run_sync(self._run_notebook)()
        finally:
            run.seconds = time.monotonic() - started
        return self.nb, self.resources

    # ----- messages ----------------------------------------------------------------------------

    def process_message(self, msg, cell, cell_index):
        if msg.get("msg_type") in ("display_data", "execute_result", "update_display_data"):
            data = msg.get("content", {}).get("data") or {}
            if RECORD_MIME in data:
                self._take_record(data[RECORD_MIME], cell_index)
                return None
        return super().process_message(msg, cell, cell_index)

    def _take_record(self, record, cell_index: int) -> None:
        if self._replaying:
            return  # a replayed test cell: its results were taken the first time
        entry = record_entry(record)
        expected = self._run.test_checks.get(self._capture or "", [])
        if entry is None or entry[0] not in expected:
            if cell_index not in self._run.stray:
                self._run.stray.append(cell_index)
            return
        self._run.records.setdefault(entry[0], []).append(entry[1])
        self._run.arrivals.setdefault(entry[0], []).append(time.monotonic())

    def output(self, outs, msg, display_id, cell_index):
        if self._replaying:
            return None
        used, used_images = self._output_chars.get(cell_index, 0), self._image_chars.get(cell_index, 0)
        size, images = _output_size(msg)
        if used + size > MAX_CELL_OUTPUT_CHARS:
            self._cut(outs, msg, cell_index, "text", MAX_CELL_OUTPUT_CHARS - used)
            self._output_chars[cell_index] = MAX_CELL_OUTPUT_CHARS
            return None
        if used_images + images > MAX_CELL_IMAGE_CHARS:
            self._cut(outs, msg, cell_index, "images", 0)
            self._image_chars[cell_index] = MAX_CELL_IMAGE_CHARS
            return None
        self._output_chars[cell_index] = used + size
        self._image_chars[cell_index] = used_images + images
        return super().output(outs, msg, display_id, cell_index)

    def _cut(self, outs, msg, cell_index: int, kind: str, room: int) -> None:
        """Drop ``msg`` (``kind``: ``text`` or ``images`` went over the cell's limit), saying so once per kind."""
        if cell_index not in self._run.cut.get(kind, []):
            self._run.cut.setdefault(kind, []).append(cell_index)
            content = msg.get("content", {})
            if kind == "text" and msg.get("msg_type") == "stream" and room > 0 and isinstance(content.get("text"), str):
                outs.append(new_output("stream", name=content.get("name", "stdout"), text=content["text"][:room]))
            limit = (f"more than {MAX_CELL_OUTPUT_CHARS:,} characters of text" if kind == "text" else
                     f"images over {MAX_CELL_IMAGE_CHARS:,} characters")
            outs.append(new_output("stream", name="stdout", text=f"\n... [output cut by the grader: {limit}]\n"))

    def handle_comm_msg(self, outs, msg, cell_index):
        return None  # no widgets: their messages could redirect outputs

    # ----- the run -----------------------------------------------------------------------------

    async def _start_kernel(self) -> None:
        self.km = self.create_kernel_manager()
        self._run.kernel_starts += 1
        await self.async_start_new_kernel()
        await self.async_start_new_kernel_client()

    async def _stop_kernel(self) -> None:
        if self.km is not None:
            await self._async_cleanup_kernel()

    def _cell_limit_hit(self) -> str | None:
        """The sandbox limit the current kernel reached, as its kernel manager knows it."""
        check = getattr(self.km, "limit_reached", None)
        return check() if check else None

    async def _run_notebook(self) -> None:
        run = self._run
        deadline = time.monotonic() + run.budget
        completed: list[int] = []
        await self._start_kernel()
        try:
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0 and run.budget_spent_at is None:
                    run.budget_spent_at = index
                if remaining <= 0 and not _is_graded(cell):
                    run.not_run.append(index)
                    cell.outputs = []
                    continue
                seconds = min(run.timeout, remaining) if remaining > 0 else min(run.timeout, AFTER_BUDGET_SECONDS)
                outcome = await self._run_cell(cell, index, seconds)
                if outcome == "done":
                    completed.append(index)
                    continue
                why = {"died": "stopped the Python kernel",
                       "lost output": "sent output the grader could not receive (a message over "
                                      f"{MAX_MESSAGE_BYTES // 2**20} MB)"}.get(
                    outcome, f"ran longer than {math.ceil(seconds)} s")
                if outcome == "died":
                    hit = self._cell_limit_hit()
                    if hit:
                        why = f"stopped the Python kernel by reaching {hit}"
                run.stopped.append((index, why))
                cell.outputs.append(_stopped_output(why))
                if outcome in ("died", "unresponsive", "lost output"):
                    if run.kernel_starts >= MAX_KERNEL_STARTS:
                        run.stopped.append((index, f"needed a new Python kernel {MAX_KERNEL_STARTS} times; "
                                                   "the cells after it were not run"))
                        break
                    await self._stop_kernel()
                    await self._start_kernel()
                    completed = await self._replay(completed, deadline)
        finally:
            await self._stop_kernel()

    async def _replay(self, completed: list[int], deadline: float) -> list[int]:
        """Run the completed cells again in a new kernel (outputs and records not kept); the ones that ran."""
        self._replaying = True
        done = []
        try:
            for index in completed:
                seconds = max(1.0, min(self._run.timeout, deadline - time.monotonic()))
                cell = self.nb.cells[index]
                kept = cell.outputs
                outcome = await self._run_cell(cell, index, seconds)
                cell.outputs = kept
                if outcome != "done":
                    if outcome in ("died", "unresponsive", "lost output"):
                        await self._stop_kernel()
                        await self._start_kernel()
                    break  # the state the later cells need cannot be rebuilt: go on from here
                done.append(index)
        finally:
            self._replaying = False
        return done

    async def _run_cell(self, cell, index: int, seconds: float) -> str:
        """Run one cell for at most ``seconds``: ``done``, ``interrupted`` (timed out, the kernel answered the
        interrupt), ``unresponsive`` (it did not), ``lost output`` (it ended, its output never arrived) or
        ``died``."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        test_id = _grade_id(cell) if _grade_id(cell) in self._run.test_checks else None
        self.timeout = max(1, math.ceil(seconds))
        self._capture = test_id
        try:
            await self.async_execute_cell(cell, index, execution_count=None, store_history=test_id is None)
            outcome = "done"
        except CellTimeoutError as error:
            if "IOPub" in str(error):  # it finished, but its output never came: a new kernel, a new channel
                outcome = "lost output"
            else:
                outcome = "interrupted" if await self._interrupt() else "unresponsive"
        except DeadKernelError:
            outcome = "died"
        except Exception:  # noqa: BLE001 - a message the client could not read, say: do not trust this kernel
            outcome = "died" if not await self._alive() else "unresponsive"
        finally:
            self._capture = None
        if test_id is not None and outcome in ("done", "interrupted"):
            await self._forget_test_cell()
        return outcome

    async def _alive(self) -> bool:
        try:
            return bool(await self.km.is_alive())
        except Exception:  # noqa: BLE001
            return False

    async def _wait_for_reply(self, msg_id: str, seconds: float) -> bool:
        """Whether the kernel replies to request ``msg_id`` within ``seconds`` (other replies are passed over)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=left)
            except Empty:
                return False
            except Exception:  # noqa: BLE001 - an unreadable message
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    async def _interrupt(self) -> bool:
        """Interrupt the running cell; True when the kernel then answers a new request in time."""
        try:
            await self.km.interrupt_kernel()
            probe = self.kc.execute("", silent=True, store_history=False)
        except Exception:  # noqa: BLE001
            return False
        return await self._wait_for_reply(probe, INTERRUPT_GRACE_SECONDS)

    async def _forget_test_cell(self) -> None:
        try:
            request = self.kc.execute(_FORGET_TEST_CELL, silent=True, store_history=False)
        except Exception:  # noqa: BLE001
            return
        await self._wait_for_reply(request, INTERRUPT_GRACE_SECONDS)
        await asyncio.sleep(0)


def autograde_preprocessors() -> list:
    """nbgrader's autograde steps with its ``Execute`` replaced by :class:`GradingExecute`, whose kernels
    use the sandbox (for ``c.Autograde.autograde_preprocessors`` in a grading copy's nbgrader_config.py)."""
    from nbgrader.converters.autograde import Autograde

    from course_utils.grading.sandbox import SandboxedKernelManager

    class SandboxedGradingExecute(GradingExecute):
        def __init__(self, *args, **kwargs):
            kwargs["kernel_manager_class"] = SandboxedKernelManager
            super().__init__(*args, **kwargs)

    return [SandboxedGradingExecute if step is Execute else step
            for step in Autograde.class_traits()["autograde_preprocessors"].default()]


#: (limit, error name, words in the error message) that mark a cell stopped by a limit.
_LIMIT_ERRORS = (("memory", "MemoryError", ""), ("memory", "", "Unable to allocate"),
                 ("memory", "", "Cannot allocate memory"),
                 ("file_size", "", "File too large"), ("processes", "", "Resource temporarily unavailable"),
                 ("processes", "", "can't start new thread"))


def limit_findings(notebook, limits) -> list[str]:
    """Sentences for the grading report: the cells whose error shows they hit a sandbox limit."""
    lines = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") != "error":
                continue
            name, message = str(output.get("ename", "")), str(output.get("evalue", ""))
            hit = next((limit for limit, ename, words in _LIMIT_ERRORS
                        if (ename and name == ename) or (words and words in message)), None)
            if hit:
                lines.append(f"Cell {index + 1} reached {limits.describe(hit)} of the grading sandbox and "
                             f"stopped with {name}; the rest of the notebook was graded.")
                break
    return lines
