"""The course's models: their names, where fastembed caches them, a fast check (every lesson).

Every lesson loads its models by the names defined here, for example
``TextEmbedding(DENSE_MODEL)``. Before a class, ``python -m course_utils prefetch``
downloads every lesson's models into fastembed's cache; on a machine without network,
:func:`check_models` says within about two seconds which model is missing and
what to do, instead of fastembed's ~40 s of retries ending in "Could not load
model ... from any source".

The package also holds :mod:`~course_utils.models.cache` (the model folder that survives a
reboot), :mod:`~course_utils.models.guard` (fast failure of model loads when models are missing),
:mod:`~course_utils.models.environment` (Colab or local, temporary settings: here because the model
folder depends on it, and ``lesson`` sits above ``models``), :mod:`~course_utils.models.lessons` (which
models each lesson loads: its set-up cell checks exactly those) and :mod:`~course_utils.models.standins`
(offline stand-in models for tests and grading).
"""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from course_utils.models import cache as model_cache
from course_utils.models.environment import environment_variables

__all__ = ["ALL_MODELS", "BM25_MODEL", "COLBERT_DIM", "COLBERT_QUERY_LENGTH", "COLPALI_MODEL", "CROSS_ENCODER_MODEL",
           "DENSE_DIM", "DENSE_MODEL", "LATE_INTERACTION_MODEL", "STANDIN_MARKER", "VISUAL_MODEL", "VISUAL_MODELS",
           "ModelsUnavailableError", "cache_dir", "cache_folder_name", "cached_snapshot", "check_models",
           "how_to_get_models", "hub_endpoint", "hub_files", "hub_offline_by_setting", "hub_reachable", "is_standin",
           "missing_models", "prefetch", "prefetch_command"]

#: Dense (single-vector) embedding model: one 384-d vector per text.
DENSE_MODEL = "BAAI/bge-small-en-v1.5"
#: Cross-encoder: one relevance logit per (query, passage) pair.
CROSS_ENCODER_MODEL = "Xenova/ms-marco-MiniLM-L-6-v2"
#: Late-interaction (ColBERT) model: one 128-d vector per token.
LATE_INTERACTION_MODEL = "colbert-ir/colbertv2.0"
#: All three, in the order the course introduces them.
ALL_MODELS = (DENSE_MODEL, CROSS_ENCODER_MODEL, LATE_INTERACTION_MODEL)
#: Lesson 7's page-image model (1.0 GB): 128-d vectors per image patch and per query token.
VISUAL_MODEL = "Qdrant/colmodernvbert"
#: Lesson 7's optional larger page-image model (6.5 GB download; never fetched unless asked for by name).
COLPALI_MODEL = "Qdrant/colpali-v1.3-fp16"
#: Both, smallest first.
VISUAL_MODELS = (VISUAL_MODEL, COLPALI_MODEL)
#: Lexical BM25 (lessons 5a and 5b): not a neural model, a config and stop-word lists; sparse vectors.
BM25_MODEL = "Qdrant/bm25"

#: Output sizes of the real models (the stand-ins have the same).
DENSE_DIM = 384
COLBERT_DIM = 128
COLBERT_QUERY_LENGTH = 32

_DEFAULT_HUB = "https://huggingface.co"


#: What the offline stand-ins of the three text models are (messages of the set-up cell, doctor, README).
STANDIN_TEXT_MODELS_ARE = "built from wordllama's static token vectors: real signal, far weaker than the real models"
#: File that marks a cached snapshot as one of the course's offline test stand-ins.
STANDIN_MARKER = "COURSE_STANDIN.txt"


class ModelsUnavailableError(RuntimeError):
    """A course model is neither in the cache nor downloadable from here."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: a student reads the message once, not in a wall of red
        return [f"{type(self).__name__}: {self}"]


def _model_class(model_name: str):
    """The fastembed class that loads ``model_name``."""
    from fastembed import (LateInteractionMultimodalEmbedding, LateInteractionTextEmbedding, SparseTextEmbedding,
                           TextEmbedding)
    from fastembed.rerank.cross_encoder import TextCrossEncoder

    classes = {DENSE_MODEL: TextEmbedding, CROSS_ENCODER_MODEL: TextCrossEncoder,
               LATE_INTERACTION_MODEL: LateInteractionTextEmbedding, BM25_MODEL: SparseTextEmbedding,
               **{name: LateInteractionMultimodalEmbedding for name in VISUAL_MODELS}}
    if model_name not in classes:
        raise ValueError(f"model_name {model_name!r} is not a course model; use one of {list(classes)}")
    return classes[model_name]


def hub_files(model_name: str) -> tuple[str, str]:
    """The hub repository fastembed downloads ``model_name`` from, and its ONNX file.

    Read from fastembed's own model descriptions, so they follow fastembed.

    Returns:
        (repository id, model file path inside it), e.g.
        ``("Qdrant/bge-small-en-v1.5-onnx-Q", "model_optimized.onnx")``.
    """
    for description in _model_class(model_name).list_supported_models():
        if description["model"] == model_name:
            return description["sources"]["hf"], description["model_file"]
    raise ValueError(f"fastembed no longer describes {model_name!r}; check the installed fastembed version")


def cache_dir() -> Path:
    """The folder fastembed caches models in: ``FASTEMBED_CACHE_PATH`` if set, else the course's default.

    The default is a folder in the user's cache folder that survives a reboot
    (``~/.cache/late-interaction-course/models`` on Linux; see
    :mod:`course_utils.models.cache`), or fastembed's ``<tmp>/fastembed_cache`` on Colab.
    """
    return model_cache.resolved_cache_dir()


def cache_folder_name(repo_id: str) -> str:
    """Hugging Face cache folder of a repository: ``models--<org>--<name>``."""
    return "models--" + repo_id.replace("/", "--")


def cached_snapshot(model_name: str, folder: str | os.PathLike | None = None) -> Path | None:
    """The cached snapshot folder of ``model_name`` that fastembed would load, or None.

    A snapshot counts only if ``refs/main`` points to it and it holds the model
    file and ``tokenizer.json`` (an interrupted download does not count). The
    lookup is huggingface_hub's own (``try_to_load_from_cache``), as fastembed's.
    """
    from huggingface_hub import try_to_load_from_cache  # fastembed brings it

    repo_id, model_file = hub_files(model_name)
    cache = folder if folder is not None else cache_dir()
    names = [model_file] if model_name == BM25_MODEL else ["tokenizer.json", model_file]  # BM25 has no tokenizer
    found = [try_to_load_from_cache(repo_id, name, cache_dir=cache) for name in names]
    if all(isinstance(path, str) for path in found):  # else None, or a marker of a file known to be missing
        return Path(found[0]).parent
    return None


def hub_endpoint() -> str:
    """The model hub's address: ``HF_ENDPOINT`` if set, else huggingface.co."""
    return os.environ.get("HF_ENDPOINT", _DEFAULT_HUB).rstrip("/")


def hub_offline_by_setting() -> bool:
    """True when ``HF_HUB_OFFLINE`` forbids downloads (read now, with huggingface_hub's true values)."""
    from huggingface_hub.constants import ENV_VARS_TRUE_VALUES

    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in ENV_VARS_TRUE_VALUES


def hub_reachable(timeout: float = 1.5) -> bool:
    """Whether a TCP connection to the model hub opens within ``timeout`` seconds.

    Behind a proxy (``HTTPS_PROXY`` or ``HTTP_PROXY``, as the hub's downloads use
    them), a connection to the proxy counts instead.
    """
    url = urlparse(hub_endpoint())
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme)
    if proxy and not urllib.request.proxy_bypass_environment(url.hostname or "", proxies):
        url = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_models(model_names=ALL_MODELS, timeout: float = 1.5) -> list[str]:
    """The models among ``model_names`` that can be neither loaded from the cache nor downloaded."""
    uncached = [name for name in model_names if cached_snapshot(name) is None]
    if not uncached:
        return []
    if not hub_offline_by_setting() and hub_reachable(timeout):
        return []
    return uncached


def is_standin(model_name: str) -> bool:
    """True when the cached ``model_name`` is one of the course's offline test stand-ins."""
    snapshot = cached_snapshot(model_name)
    return snapshot is not None and (snapshot / STANDIN_MARKER).exists()


def check_models(model_names=ALL_MODELS, timeout: float = 1.5, *, verbose: bool = False,
                 prefetch_hint: str = "") -> None:
    """Make sure every model in ``model_names`` can be loaded, within about ``timeout`` seconds.

    Passes when each model is in fastembed's cache, or when the model hub can
    be reached (fastembed will then download what is missing). With ``verbose``,
    says in one line which of the two it is, names the models on the next, and
    warns when the cached models are the course's offline test stand-ins.
    ``prefetch_hint`` (e.g. ``" --lesson 02-maxsim"``) is added to the ``prefetch``
    command the message suggests.

    Raises:
        ModelsUnavailableError: naming the missing models, the cache folder
            looked in, and what to do about it.
    """
    missing = missing_models(model_names, timeout)
    if not missing:
        if verbose:
            uncached = [name for name in model_names if cached_snapshot(name) is None]
            print(f"Models ready: {len(model_names) - len(uncached)} of {len(model_names)} in the cache ({cache_dir()})"
                  + (f", the others download from {hub_endpoint()} when first loaded." if uncached else ".")
                  + "\n  " + ", ".join(model_names))
            standins = [name for name in model_names if is_standin(name)]
            if standins:
                print("Note: these are the course's offline test stand-ins, not the real models" + (
                    f": the text models are {STANDIN_TEXT_MODELS_ARE}" if set(standins) & set(ALL_MODELS) else "")
                      + ("; the page-image models' scores mean nothing" if set(standins) & set(VISUAL_MODELS) else "")
                      + " (see the README).")
        return
    offline = hub_offline_by_setting()
    why = ("HF_HUB_OFFLINE is set, so nothing may be downloaded" if offline
           else f"the model hub {hub_endpoint()} cannot be reached from this machine")
    raise ModelsUnavailableError(f"Missing model(s): {', '.join(missing)}. They are not in the model cache "
                                 f"({cache_dir()}) and {why}.\n" + _how_to_get_models(offline, prefetch_hint))


def prefetch_command(arguments: str = "", colab: bool | None = None) -> str:
    """The ``prefetch`` command as the student types it: ``.venv/bin/python -m course_utils prefetch ...`` locally
    (``.venv\\Scripts\\python`` on Windows).

    Locally plain ``python`` is not the course's environment (``course.py start`` installs into ``.venv``);
    on Colab (``colab`` None: decided now) the notebook's own Python is the course's.
    """
    from course_utils.models.environment import on_colab

    colab = on_colab() if colab is None else colab
    local = ".venv\\Scripts\\python" if os.name == "nt" else ".venv/bin/python"
    return f"{'python' if colab else local} -m course_utils prefetch{arguments}"


def how_to_get_models(offline: bool, prefetch_hint: str = "") -> list[str]:
    """The fixes for missing models, most direct first (``offline``: HF_HUB_OFFLINE is set).

    The set-up cell's message and ``doctor`` list these same fixes.
    """
    from course_utils.models.environment import on_colab

    colab = on_colab()
    return [
        "connect to the internet" + (" and unset HF_HUB_OFFLINE" if offline else "") + ", then run the set-up "
        "cell (the lesson's first code cell) again. Behind a proxy, set HTTPS_PROXY to its address (for example "
        "HTTPS_PROXY=http://proxy.example.org:3128); where huggingface.co is blocked but a mirror of the hub is "
        "allowed, set HF_ENDPOINT to the mirror's address;",
        f"on a machine with internet, run `{prefetch_command(prefetch_hint + ' --cache-dir DIR', colab=False)}` in "
        "the course folder (`python -m ...` with conda), copy DIR here and set FASTEMBED_CACHE_PATH=DIR;",
        *([] if colab else ["to look around without models, start the course with `python3 course.py start "
                            "--offline-preview` (stand-in models " + STANDIN_TEXT_MODELS_ARE + ");"]),
    ]


def _how_to_get_models(offline: bool, prefetch_hint: str = "") -> str:
    """The fixes listed under a missing-models message (``offline``: HF_HUB_OFFLINE is set)."""
    from course_utils.models.environment import on_colab

    colab = on_colab()
    fixes = [
        *how_to_get_models(offline, prefetch_hint),
        "for a full report, run these two lines in a notebook cell:\n"
        "         import sys\n"
        "         !{sys.executable} -m course_utils doctor",
    ]
    if colab:
        setting = ("Set a variable in a cell above the set-up cell (%env NAME=value), choose Runtime > Restart "
                   "session, and run the lesson from that cell.")
    else:
        ways = (("macOS, Linux:", "export NAME=value", "python3"), ("Windows cmd:", "set NAME=value", "py"),
                ("PowerShell:", '$env:NAME = "value"', "py"))
        setting = ("Set a variable in the terminal you start the course from, after stopping JupyterLab there "
                   "with Ctrl+C (the lessons see only what was set when JupyterLab started):\n")
        setting += "\n".join(f"    {system:<14}{command:<22}then: {python} course.py start"
                              for system, command, python in ways)
    return ("To fix it, do one of these:\n" + "".join(f"  {number}. {fix}\n" for number, fix in enumerate(fixes, 1))
            + setting)


def prefetch(model_names=ALL_MODELS, folder: str | os.PathLike | None = None) -> dict[str, Path]:
    """Download ``model_names`` into fastembed's cache (or into ``folder``).

    For a classroom: run it before class, or on one machine with network and
    copy the folder to the others (then set ``FASTEMBED_CACHE_PATH`` there).

    Returns:
        {model name: its snapshot folder}.

    Raises:
        ModelsUnavailableError: if a model can be neither found nor downloaded.
    """
    target = Path(folder) if folder is not None else cache_dir()
    with environment_variables(FASTEMBED_CACHE_PATH=str(target)):
        check_models(model_names)
        result = {}
        for name in model_names:
            _model_class(name)(name, cache_dir=str(target), lazy_load=True)
            result[name] = cached_snapshot(name, target)
        return result
