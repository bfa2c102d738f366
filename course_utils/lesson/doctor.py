"""``python -m course_utils doctor``: a plain-language report for a stuck student.

It checks Python, the installed packages, where fastembed caches models,
whether each course model is there (with the lessons that load it, and each
lesson's readiness), whether this is the offline preview (and how to leave it),
whether the model hub can be reached, and whether this is Colab; for every problem it prints what to do there: on Colab
the fixes are Colab's (the set-up cell, a fresh runtime, Google Drive), locally
they are the README's start command and the course environment in ``.venv``.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import time
from dataclasses import dataclass, field

from course_utils.models import environment, cache as model_cache
from course_utils import models
from course_utils.models.lessons import LESSON_MODELS, lesson_models, lessons_loading, prefetched_models
from course_utils.models.standins.snapshot import MARKER_FILE

__all__ = ["LESSON_PACKAGES", "LOCAL_PACKAGES", "MIN_PYTHON", "Report", "build_report", "run"]

MIN_PYTHON = (3, 10)


@dataclass
class Report:
    """Lines to print, and the problems found (each with its fix)."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, label: str, value: str) -> None:
        self.lines.append(f"  {label:<30} {value}")

    def problem(self, text: str) -> None:
        self.problems.append(text)


#: Packages the lessons import: without one of them a lesson stops.
LESSON_PACKAGES = ("course-utils", "fastembed", "numpy", "matplotlib", "qdrant-client")
#: Packages for running the course locally in JupyterLab; Colab brings its own notebook.
LOCAL_PACKAGES = ("jupyterlab", "nbgrader", "ipykernel")


def build_report(timeout: float = 1.5) -> Report:
    """Collect the report; takes at most about ``timeout`` seconds of network waiting."""
    report = Report()
    colab = environment.on_colab()
    _report_python(report, colab)
    if _report_packages(report, colab) and importlib.util.find_spec("huggingface_hub") is None:
        # not the course's environment (said above, with the fix): models and hub cannot be looked up here
        report.add("Models", "not looked up: this Python lacks the course's packages (see the fix below)")
        return report
    uncached = _report_models(report, colab)
    _report_hub(report, colab, uncached, timeout)
    return report


def _report_python(report: Report, colab: bool) -> None:
    """Python's version (a problem if too old) and whether this is Colab."""
    version = platform.python_version()
    report.add("Python", f"{version} ({sys.executable})")
    if sys.version_info[:2] < MIN_PYTHON:
        needed = ".".join(map(str, MIN_PYTHON))
        report.problem(
            f"Python {version} is too old: the course needs Python {needed} or newer. "
            + ("On Colab, choose Runtime > Change runtime type, pick the latest runtime version, "
               "and run the lesson's first cell again." if colab else
               "Install a newer Python, delete the .venv folder and start the course again."))
    report.add("Running on Colab", "yes: the lesson's first cell installs the course; a new runtime starts empty"
               if colab else "no (local Jupyter or terminal)")


def _report_packages(report: Report, colab: bool) -> list[str]:
    """The installed versions of the course's packages; a problem if a lesson's package is missing (returned)."""
    for name in environment.REPORTED_PACKAGES:
        found = environment.package_version(name)
        if found is None and name in LOCAL_PACKAGES:
            found = ("not installed (not needed on Colab)" if colab else
                     "not installed (needed to run the lessons locally; the README's start command installs it)")
        report.add(name, found or "not installed")
    missing = [name for name in LESSON_PACKAGES if environment.package_version(name) is None]
    if missing:
        names = ", ".join(missing)
        if colab and "course-utils" in missing:
            fix = "run the lesson's first cell (the set-up cell): it installs the course package and what it needs"
        elif colab:
            fix = ("the course package is there but not all it needs. Choose Runtime > Disconnect and delete "
                   "runtime, open the lesson again and run its first cell: a fresh runtime installs everything")
        else:
            fix = (f"this Python ({sys.executable}) is not the course's environment, or its install was cut short. "
                   "Start the course with the README's start command (python3 course.py start), which installs "
                   "everything into .venv, and run this report with the Python in .venv")
        report.problem(f"Not installed: {names}. To fix it, {fix}.")
    return missing


def _report_models(report: Report, colab: bool) -> list[str]:
    """The model cache, the offline preview, each course model's state and the lessons that load it.

    Returns:
        the models some lesson loads that are not cached (optional ones such as ColPali left out).
    """
    folder = models.cache_dir()
    preview = environment.in_offline_preview()
    report.add("Model cache", f"{folder} (the offline preview's stand-ins)" if preview else
               f"{folder} (set FASTEMBED_CACHE_PATH to change it"
               + ("; on Colab it is emptied when the runtime is deleted)" if colab else ")"))
    if preview:
        report.add("Offline preview", "yes: the lessons run on the course's stand-in models, with downloads "
                                      "switched off. To leave it, stop JupyterLab with Ctrl+C in its terminal "
                                      "and start the course again without --offline-preview: python3 course.py start")
    elif not colab and model_cache.in_temporary_folder(folder):
        report.problem(_temporary_folder_problem(folder))
    uncached, states = [], {}
    for name in (*prefetched_models(), *_optional_models()):
        snapshot = models.cached_snapshot(name)
        lessons = ", ".join(lesson.split("-", 1)[0] for lesson in lessons_loading(name))
        optional = name not in prefetched_models()
        if snapshot is None:
            uncached += [] if optional else [name]
            state = "not cached" + (" (optional: only a setting of the lesson loads it)" if optional else "")
        elif (snapshot / MARKER_FILE).exists() and name == models.BM25_MODEL:
            state = "written offline by the course's stand-ins (the real files: its vectors are the real ones)"
        elif (snapshot / MARKER_FILE).exists():
            state = "offline STAND-IN (" + (models.STANDIN_TEXT_MODELS_ARE.replace("real models", "real model")
                                             if name in models.ALL_MODELS else "its scores mean nothing") + ")"
            if not preview:
                report.problem(_standin_problem(name, folder))
        else:
            state = f"cached ({snapshot})"
        states[name] = "not cached" if snapshot is None else "stand-in" if "STAND-IN" in state else "ready"
        report.add(name, f"{state}; lessons {lessons}")
    for lesson in sorted(LESSON_MODELS):
        needed = lesson_models(lesson)
        missing = [name for name in needed if states[name] == "not cached"]
        kinds = {states[name] for name in needed} - {"not cached"}
        report.add(lesson, f"not cached: {', '.join(missing)}" if missing else
                   "ready on stand-ins" if "stand-in" in kinds else "ready")
    return uncached


def _optional_models() -> list[str]:
    """Models only a lesson's setting loads (lesson 7's ColPali), each once."""
    return list(dict.fromkeys(name for row in LESSON_MODELS.values() for name in row.optional))


def _temporary_folder_problem(folder) -> str:
    """What to do when the model cache is in a temporary folder: it depends on what put it there."""
    if model_cache.explicit_cache_dir() is not None:
        return (f"The model cache {folder} is in a temporary folder, which many systems empty when they restart: the "
                "models would download again. Unset FASTEMBED_CACHE_PATH to use the course's own folder "
                f"({model_cache.course_cache_dir()}), or set it to a folder that is kept.")
    return (f"The model cache {folder} is the course's own folder, but your cache folder "
            f"({model_cache.user_cache_root()}, from HOME or XDG_CACHE_HOME) is itself in a temporary folder, which "
            "many systems empty when they restart: the models would download again. Set FASTEMBED_CACHE_PATH to "
            "a folder that is kept before starting the course, to keep them.")


def _standin_problem(name: str, folder) -> str:
    """What to do when a stand-in sits where the real model should (outside the offline preview)."""
    if model_cache.explicit_cache_dir() is not None:
        return (f"{name} in {folder} is a test stand-in, not the real model, and this is not the offline preview: "
                "FASTEMBED_CACHE_PATH points at a test folder. Unset it (or point it at a folder of real models).")
    return (f"{name} in {folder} is a test stand-in, not the real model: delete the folder {folder} and the real "
            "models download when a lesson first loads them.")


def _report_hub(report: Report, colab: bool, uncached: list[str], timeout: float) -> None:
    """Whether the model hub can be reached; a problem if models are missing and cannot be downloaded."""
    start = time.monotonic()
    offline_setting = models.hub_offline_by_setting()
    reachable = (not offline_setting) and models.hub_reachable(timeout)
    hub = models.hub_endpoint()
    preview = environment.in_offline_preview()
    report.add("Model hub", f"{hub}: " + ("reachable" if reachable else
                                           "downloads switched off (HF_HUB_OFFLINE, set by the offline preview)"
                                           if offline_setting and preview else
                                           "downloads switched off (HF_HUB_OFFLINE)" if offline_setting else
                                           f"NOT reachable (checked in {time.monotonic() - start:.1f} s)"))
    if uncached and not reachable:
        missing_models = ", ".join(uncached)
        if colab:
            report.problem(
                f"Missing model(s) {missing_models} and no way to download them"
                + (" (HF_HUB_OFFLINE is set; nothing in the course sets it on Colab, so remove it where you set it)"
                   if offline_setting else f" ({hub} cannot be reached from this Colab runtime)")
                + ". Choose Runtime > Disconnect and delete runtime, open the lesson again and run its first cell. "
                "If the hub stays out of reach, put a folder made with "
                f"`{models.prefetch_command(' --cache-dir DIR', colab=False)}` on a machine with internet into "
                "your Google Drive, mount the Drive "
                "(from google.colab import drive; drive.mount('/content/drive')) and run "
                "`%env FASTEMBED_CACHE_PATH=/content/drive/MyDrive/DIR` before the lesson's first cell.")
        else:
            fixes = models.how_to_get_models(offline_setting)
            report.problem(f"Missing model(s) {missing_models} and no way to download them. To fix it, do one of these:"
                           + "".join(f"\n       {letter}. {fix}" for letter, fix in zip("abc", fixes)))
    elif uncached:
        report.add("", "missing models will download when a lesson first loads them "
                       f"(or now: {models.prefetch_command()})")


def run(timeout: float = 1.5, problem_hint: str = "") -> int:
    """Print the report; return 0 when nothing is wrong, 1 otherwise (after ``problem_hint``, if given)."""
    report = build_report(timeout)
    print("Course environment report\n")
    print("\n".join(report.lines))
    if report.problems:
        print(f"\n{len(report.problems)} problem(s) found:")
        for number, text in enumerate(report.problems, 1):
            print(f"  {number}. {text}")
        if problem_hint:
            print("\n" + problem_hint)
        return 1
    print("\nEverything looks fine.")
    return 0
