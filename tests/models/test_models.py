"""Model names, the cache, the fast model check, prefetch and doctor.

No test here sends traffic anywhere but 127.0.0.1: the "no network" cases point
HF_ENDPOINT at a loopback port where nothing listens.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from course_utils import models


def closed_loopback_url() -> str:
    """http://127.0.0.1:<port> of a port that was just free (nothing listens there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def no_network_no_cache(tmp_path, monkeypatch):
    """An empty model cache and a model hub that cannot be reached."""
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_ENDPOINT", closed_loopback_url())
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path / "empty-cache"


def test_names_are_the_courses_three_models():
    assert models.ALL_MODELS == ("BAAI/bge-small-en-v1.5", "Xenova/ms-marco-MiniLM-L-6-v2",
                                 "colbert-ir/colbertv2.0")


def test_hub_files_come_from_fastembeds_descriptions():
    assert models.hub_files(models.DENSE_MODEL) == ("Qdrant/bge-small-en-v1.5-onnx-Q", "model_optimized.onnx")
    assert models.hub_files(models.LATE_INTERACTION_MODEL) == ("colbert-ir/colbertv2.0", "model.onnx")
    assert models.hub_files(models.CROSS_ENCODER_MODEL) == ("Xenova/ms-marco-MiniLM-L-6-v2", "onnx/model.onnx")
    with pytest.raises(ValueError, match="not a course model"):
        models.hub_files("sentence-transformers/all-MiniLM-L6-v2")


def test_check_passes_when_models_are_cached():
    models.check_models()  # the session's stand-ins (or real models) are in the cache


def test_check_fails_fast_and_plainly_without_network_and_cache(no_network_no_cache):
    start = time.monotonic()
    with pytest.raises(models.ModelsUnavailableError) as error:
        models.check_models()
    assert time.monotonic() - start < 2.5
    message = str(error.value)
    for name in models.ALL_MODELS:
        assert name in message
    assert str(no_network_no_cache) in message
    assert "python -m course_utils prefetch" in message and "FASTEMBED_CACHE_PATH" in message


def test_check_names_only_the_missing_model(no_network_no_cache, monkeypatch):
    if "COURSE_STANDIN_CACHE" not in os.environ:
        pytest.skip("needs the stand-in cache of this session")
    from course_utils.models import standins

    standins.build_standin_cache(no_network_no_cache)
    repo, _ = models.hub_files(models.CROSS_ENCODER_MODEL)
    shutil.rmtree(no_network_no_cache / models.cache_folder_name(repo))
    with pytest.raises(models.ModelsUnavailableError, match="Missing model\\(s\\): Xenova/ms-marco-MiniLM-L-6-v2\\."):
        models.check_models()
    models.check_models([models.DENSE_MODEL, models.LATE_INTERACTION_MODEL])


def test_check_says_when_offline_mode_forbids_downloads(no_network_no_cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(models.ModelsUnavailableError, match="HF_HUB_OFFLINE is set"):
        models.check_models()


def test_reachable_hub_counts_as_available(no_network_no_cache, monkeypatch):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert models.hub_reachable()
        assert models.missing_models() == []


def test_interrupted_download_does_not_count_as_cached(tmp_path):
    repo, model_file = models.hub_files(models.DENSE_MODEL)
    repo_dir = tmp_path / models.cache_folder_name(repo)
    (repo_dir / "snapshots" / "rev").mkdir(parents=True)
    (repo_dir / "snapshots" / "rev" / "tokenizer.json").write_text("{}")
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text("rev")
    assert models.cached_snapshot(models.DENSE_MODEL, tmp_path) is None


def run_cli(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "course_utils", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_prefetch_fails_plainly_without_network(no_network_no_cache):
    result = run_cli("prefetch", "--cache-dir", str(no_network_no_cache))
    assert result.returncode == 1
    assert "Missing model(s)" in result.stderr and "Traceback" not in result.stderr


def test_prefetch_into_a_folder_uses_what_is_cached_there():
    if "COURSE_STANDIN_CACHE" not in os.environ:
        pytest.skip("needs the stand-in cache of this session")
    folder = os.environ["COURSE_STANDIN_CACHE"]
    result = run_cli("prefetch", "--cache-dir", folder, env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    for name in models.ALL_MODELS:
        assert name in result.stdout
    assert f"FASTEMBED_CACHE_PATH={folder}" in result.stdout


def test_doctor_without_network_reports_quickly_with_fixes(no_network_no_cache):
    start = time.monotonic()
    result = run_cli("doctor", env={"FASTEMBED_CACHE_PATH": str(no_network_no_cache),
                                    "HF_ENDPOINT": os.environ["HF_ENDPOINT"]})
    # a guard against waiting on the unreachable hub (minutes without doctor's 1.5 s limit), not a speed test:
    # a busy 2-core machine took 11 s
    assert time.monotonic() - start < 40
    assert result.returncode == 1
    out = result.stdout
    for expected in ("Python", "fastembed", "numpy", "Running on Colab", "NOT reachable", "not cached",
                     "problem(s) found", "prefetch", str(no_network_no_cache)):
        assert expected in out, expected
    for name in models.ALL_MODELS:
        assert name in out


def test_doctor_flags_standins_as_not_real():
    if "COURSE_STANDIN_CACHE" not in os.environ:
        pytest.skip("needs the stand-in cache of this session")
    result = run_cli("doctor", env={"HF_HUB_OFFLINE": "1"})
    assert "STAND-IN" in result.stdout and "test stand-in, not the real model" in result.stdout
    assert result.returncode == 1


def test_check_says_models_are_ready_and_warns_about_standins(capsys):
    models.check_models(verbose=True)
    out = capsys.readouterr().out
    assert out.startswith("Models ready: 3 of 3 in the cache")
    if "COURSE_STANDIN_CACHE" in os.environ:
        assert "offline test stand-ins" in out and models.STANDIN_TEXT_MODELS_ARE in out
    models.check_models()
    assert capsys.readouterr().out == ""  # quiet unless asked


def test_missing_models_message_is_one_readable_block(no_network_no_cache):
    with pytest.raises(models.ModelsUnavailableError) as error:
        models.check_models()
    message = str(error.value)
    assert "HF_HUB_OFFLINE" not in message  # not set here, so not mentioned
    assert "         import sys\n         !{sys.executable} -m course_utils doctor" in message
    assert error.value._render_traceback_() == [f"ModelsUnavailableError: {message}"]  # IPython shows no traceback
