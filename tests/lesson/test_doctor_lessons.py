"""doctor by lesson: every course model with the lessons that load it, each lesson's readiness, the offline
preview recognised (with how to leave it), the set-up cell's fixes, and a temporary-folder warning that says
what put the folder there."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from course_utils import models
from course_utils.lesson import doctor, setup as lesson_setup
from course_utils.models import environment, guard as model_guard
from course_utils.models.lessons import LESSON_MODELS

#: The session's stand-in models (conftest.py builds them and points FASTEMBED_CACHE_PATH there).
STANDINS = Path(os.environ["FASTEMBED_CACHE_PATH"])


@pytest.fixture
def closed_hub(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{sock.getsockname()[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv(environment.OFFLINE_PREVIEW_VARIABLE, raising=False)
    monkeypatch.setitem(sys.modules, environment.COLAB_MODULE, None)  # not Colab


def line(report: doctor.Report, label: str) -> str:
    return next(text for text in report.lines if text.strip().startswith(label))


def test_in_the_offline_preview_doctor_says_so_and_how_to_leave_it(monkeypatch):
    monkeypatch.setenv(environment.OFFLINE_PREVIEW_VARIABLE, "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setitem(sys.modules, environment.COLAB_MODULE, None)
    report = doctor.build_report(timeout=0.2)
    preview = line(report, "Offline preview")
    assert "stand-in models" in preview and "Ctrl+C" in preview and "python3 course.py start" in preview
    assert "set by the offline preview" in line(report, "Model hub")
    for lesson in LESSON_MODELS:
        assert line(report, lesson).endswith("ready on stand-ins"), lesson
    assert line(report, "Model cache").endswith("(the offline preview's stand-ins)")
    assert all(len(text) < 2 + 30 or text[2 + 30] == " " for text in report.lines), "a label overflows its column"
    assert not [problem for problem in report.problems if "stand-in" in problem or "FASTEMBED" in problem], \
        report.problems


def test_stand_ins_outside_the_preview_are_a_problem_naming_the_variable_that_points_there(closed_hub):
    report = doctor.build_report(timeout=0.2)
    assert not [text for text in report.lines if text.strip().startswith("Offline preview")]
    standin_problems = [problem for problem in report.problems if "test stand-in" in problem]
    assert len(standin_problems) == len(models.ALL_MODELS) + 2  # the text models and both page-image models
    assert all("Unset it" in problem for problem in standin_problems)


def test_every_model_is_listed_with_its_lessons_and_each_lesson_with_what_it_lacks(tmp_path, monkeypatch,
                                                                                      closed_hub):
    cache = tmp_path / "only-lesson-7"
    repository = models.cache_folder_name(models.hub_files(models.VISUAL_MODEL)[0])
    shutil.copytree(STANDINS / repository, cache / repository, symlinks=True)  # what lesson 7's prefetch leaves
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(cache))
    report = doctor.build_report(timeout=0.2)
    assert line(report, models.VISUAL_MODEL).endswith("lessons 07")
    assert line(report, models.LATE_INTERACTION_MODEL).endswith("lessons 01, 02, 03, 04, 05a, 05b, 06, 08, 09")
    assert "optional" in line(report, models.COLPALI_MODEL)
    assert line(report, "07-visual-documents").endswith("ready on stand-ins")
    assert line(report, "02-maxsim").endswith(f"not cached: {models.LATE_INTERACTION_MODEL}")
    missing = next(problem for problem in report.problems if problem.startswith("Missing model(s)"))
    assert models.VISUAL_MODEL not in missing and models.COLPALI_MODEL not in missing
    for fix in models.how_to_get_models(offline=False):  # the set-up cell's own fixes
        assert fix in missing
    assert "`.venv/bin/python -m course_utils prefetch --cache-dir DIR`" in missing


def test_lesson_7_sets_up_with_only_its_model_and_lesson_2_asks_only_for_colbert(tmp_path, monkeypatch, closed_hub,
                                                                                  capsys):
    cache = tmp_path / "only-lesson-7"
    repository = models.cache_folder_name(models.hub_files(models.VISUAL_MODEL)[0])
    shutil.copytree(STANDINS / repository, cache / repository, symlinks=True)
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(cache))
    try:
        lesson_setup.prepare("07-visual-documents")
        out = capsys.readouterr().out
        assert "Models ready: 1 of 1 in the cache" in out and models.VISUAL_MODEL in out
        with pytest.raises(models.ModelsUnavailableError) as error:
            lesson_setup.prepare("02-maxsim")
        message = str(error.value)
        assert message.startswith(f"Missing model(s): {models.LATE_INTERACTION_MODEL}.")
        assert "`.venv/bin/python -m course_utils prefetch --lesson 02-maxsim --cache-dir DIR`" in message
        assert set(model_guard.blocked()) == {models.LATE_INTERACTION_MODEL}
    finally:
        model_guard.unblock()
        from course_utils.lesson import halt
        halt.resume()


def test_the_temporary_folder_warning_names_what_put_the_folder_there(tmp_path, monkeypatch, closed_hub):
    home = tmp_path / "home"  # pytest's tmp_path is in the system's temporary folder
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("FASTEMBED_CACHE_PATH", raising=False)
    problems = "\n".join(doctor.build_report(timeout=0.2).problems)
    assert "is the course's own folder" in problems and "Unset FASTEMBED_CACHE_PATH" not in problems
    assert str(home / ".cache") in problems and "Set FASTEMBED_CACHE_PATH to a folder that is kept" in problems

    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "models"))
    problems = "\n".join(doctor.build_report(timeout=0.2).problems)
    assert "Unset FASTEMBED_CACHE_PATH" in problems and "is the course's own folder" not in problems


def test_the_prefetch_command_is_the_course_environments_locally_and_plain_python_on_colab():
    assert models.prefetch_command(" --lesson 02-maxsim", colab=False) == \
        ".venv/bin/python -m course_utils prefetch --lesson 02-maxsim"
    assert models.prefetch_command(colab=True) == "python -m course_utils prefetch"


def test_doctor_without_the_flag_where_the_preview_was_built_says_how_to_use_it(tmp_path, closed_hub, monkeypatch,
                                                                               capsys):
    """The command line, run as if the course's Python lived in ``tmp_path`` (where the preview was built)."""
    from course_utils.__main__ import main

    (tmp_path / "offline-preview-models").mkdir()
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "empty"))
    assert main(["doctor", "--timeout", "0.5"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    command = "    .venv/bin/python -m course_utils doctor --offline-preview"
    assert lines[0].startswith("You have built the offline preview") and lines[1] == command
    assert lines[-1] == command and "problem(s) found" in "\n".join(lines)
