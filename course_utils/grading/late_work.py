"""Late work: a deadline, a penalty per started day late, a cap, and individual extensions.

Settings come from the command line (``--deadline "2026-02-01 23:59" --late-penalty 10%/day
--late-cap 50% --extension alice=2026-02-03``) or from ``[tool.course]`` in the course's
``pyproject.toml`` (the command line wins)::

    [tool.course]
    late-penalty = "10%/day"
    late-cap = "50%"
    [tool.course.deadlines]
    "01-late-interaction-basics" = "2026-02-01 23:59"
    [tool.course.extensions."01-late-interaction-basics"]
    alice = "2026-02-03"

The time a notebook was handed in is only ever the one the learning system recorded, never a
date in the name the student gave their file, nor the file's own modification time:

- Blackboard: the attempt time its download writes into every file name;
- Moodle: the grading worksheet's ``Last modified (submission)`` column, when the worksheet is
  given as the roster (the download's names carry no time);
- Canvas: its download carries no time, only the ``late_`` mark Canvas writes before the user id
  of a submission it counted late (against Canvas's own due date); such a submission is counted
  one day late, the least it can be, and the feedback says so.

Times are compared as the learning system shows them (its time zone); a deadline or an extension
given without a time means the end of that day (23:59), and one given to the minute lasts until the
end of that minute. The penalty is a share of the raw score: ``min(days x per day, cap)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["LatePolicy", "Lateness", "decide", "parse_time", "policy_for", "recorded_times"]

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
#: How Moodle's grading worksheet writes times (``strftimedatetime``), and a few other spellings.
_WORKSHEET_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M",
                      "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def parse_time(text: str, what: str) -> datetime:
    """``2026-02-01 23:59`` (to the end of that minute) or ``2026-02-01`` (to the end of that day).

    Raises:
        ValueError: naming ``what`` (the option) and the formats accepted.
    """
    text = str(text).strip()
    for form in _FORMATS:
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        if form == "%Y-%m-%d":
            return moment.replace(hour=23, minute=59, second=59)
        return moment.replace(second=59) if "%S" not in form else moment
    raise ValueError(f"{what}: {text!r} is not a date; write it as 2026-02-01 23:59 or 2026-02-01")


def _share(text: str, what: str, per_day: bool) -> float:
    """``10%/day`` -> 0.10 (``per_day``), ``50%`` -> 0.50."""
    pattern = r"^\s*(\d+(?:\.\d+)?)\s*%\s*(?:/\s*day)?\s*$" if per_day else r"^\s*(\d+(?:\.\d+)?)\s*%\s*$"
    match = re.match(pattern, str(text))
    if not match or not 0 <= float(match[1]) <= 100:
        example = "10%/day" if per_day else "50%"
        raise ValueError(f"{what}: {text!r} is not a percentage between 0 and 100; write it as {example}")
    return float(match[1]) / 100


@dataclass(frozen=True)
class LatePolicy:
    """A lesson's deadline, the share of the score taken per started day late, its cap, and extensions
    ({student: their own deadline})."""

    deadline: datetime
    per_day: float
    cap: float = 1.0
    extensions: dict[str, datetime] = field(default_factory=dict)

    def deadline_of(self, student: str) -> datetime:
        return self.extensions.get(student, self.deadline)


def _course_settings(course: Path) -> dict:
    path = Path(course) / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(path.read_text()).get("tool", {}).get("course", {})


def policy_for(course: Path, lesson: str, *, deadline: str | None = None, penalty: str | None = None,
               cap: str | None = None, extensions: list[str] | tuple[str, ...] = ()) -> LatePolicy | None:
    """The late-work policy of ``lesson``: the options given here, else ``[tool.course]`` of the course's
    pyproject.toml; None when no deadline is set anywhere.

    Raises:
        ValueError: a malformed date, percentage or extension, or a penalty without a deadline (or the reverse).
    """
    settings = _course_settings(course)
    if deadline is None and (penalty is not None or extensions):
        deadline = settings.get("deadlines", {}).get(lesson)
        if deadline is None:
            raise ValueError("--late-penalty and --extension need a deadline: give --deadline (or set "
                             f'[tool.course.deadlines] "{lesson}" in pyproject.toml)')
    deadline = deadline or settings.get("deadlines", {}).get(lesson)
    if deadline is None:
        return None  # no deadline for this lesson: a course-wide penalty does not apply to it
    penalty = penalty or settings.get("late-penalty")
    cap = cap or settings.get("late-cap")
    given = dict(settings.get("extensions", {}).get(lesson, {}))
    for item in extensions:
        student, separator, date = str(item).partition("=")
        if not separator or not student.strip() or not date.strip():
            raise ValueError(f"--extension: {item!r} should be STUDENT=DATE, for example alice=2026-02-03")
        given[student.strip()] = date.strip()
    if penalty is None:
        raise ValueError("--deadline needs a penalty: give --late-penalty, for example 10%/day (0%/day to only "
                         "report late work)")
    return LatePolicy(parse_time(deadline, "--deadline"), _share(penalty, "--late-penalty", True),
                      _share(cap, "--late-cap", False) if cap is not None else 1.0,
                      {student: parse_time(date, f"--extension {student}") for student, date in given.items()})


def recorded_times(roster) -> dict[str, datetime]:
    """{student: submission time} from a Moodle grading worksheet's ``Last modified (submission)`` column
    (``roster`` a :class:`course_utils.grading.lms_roster.Roster`, or None)."""
    column = roster.column("Last modified (submission)") if roster is not None else None
    times = {}
    for student, row in (roster.rows.items() if column else ()):
        text = row.get(column, "").strip()
        for form in _WORKSHEET_FORMATS:
            try:
                times[student] = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    return times


@dataclass
class Lateness:
    """What the late-work policy decided for one submission: ``days`` late (started days), the ``share``
    of the raw score taken, and the sentence saying how (``how``)."""

    days: int
    share: float
    how: str

    def penalty(self, raw: float) -> float:
        return round(raw * self.share, 2)

    def as_record(self) -> dict:
        return {"days": self.days, "share": self.share, "how": self.how}


def _minutes(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def decide(policy: LatePolicy, submission, recorded: datetime | None = None) -> Lateness:
    """The lateness of ``submission`` (a :class:`course_utils.grading.collect.Submission`) under ``policy``;
    ``recorded``: its submission time from the Moodle worksheet, when there is one."""
    deadline = policy.deadline_of(submission.student)
    whose = "your extended deadline" if submission.student in policy.extensions else "the deadline"
    rule = (f"{policy.per_day:.0%} of your score per started day late"
            + (f", at most {policy.cap:.0%}" if policy.cap < 1 else ""))
    when = submission.recorded if submission.recorded is not None else recorded
    if when is not None:
        source = f"as {submission.system or 'the learning system'} recorded it"
        when = when.replace(tzinfo=None)
        if when <= deadline:
            return Lateness(0, 0.0, f"Handed in on time: {_minutes(when)} ({source}); {whose} was "
                                    f"{_minutes(deadline)}.")
        days = math.ceil((when - deadline) / timedelta(days=1))
        share = min(days * policy.per_day, policy.cap)
        return Lateness(days, share, f"Handed in {_minutes(when)} ({source}), {days} started day(s) after {whose} "
                                     f"({_minutes(deadline)}); the penalty is {rule}: {share:.0%}.")
    if submission.late_mark and submission.student not in policy.extensions:
        share = min(policy.per_day, policy.cap)
        return Lateness(1, share, "Canvas marked this submission late; its download does not say by how much, so "
                                  f"it counts as 1 started day late, the least it can be; the penalty is {rule}: "
                                  f"{share:.0%}.")
    if submission.system == "Canvas" or submission.late_mark:
        return Lateness(0, 0.0, "Canvas did not mark this submission late (or you have an extension).")
    return Lateness(0, 0.0, "No submission time was recorded by a learning system for this file, so no late "
                            "penalty applies.")
