"""Where the course keeps its models: a folder that survives a reboot.

fastembed, left to itself, caches models in ``<tmp>/fastembed_cache``, which many
systems empty when they restart: the course's downloads would happen again. For
local runs the course uses the user's cache folder instead (the usual place on
each system, like the ``platformdirs`` package would choose):

- Linux and other Unix: ``$XDG_CACHE_HOME/late-interaction-course/models``, by
  default ``~/.cache/late-interaction-course/models``;
- macOS: ``~/Library/Caches/late-interaction-course/models``;
- Windows: ``%LOCALAPPDATA%\\late-interaction-course\\Cache\\models``.

On Colab the runtime is temporary anyway, so fastembed's own default stays. An
explicit ``FASTEMBED_CACHE_PATH`` always wins. The lesson's set-up cell calls
:func:`use_course_cache` so that fastembed, ``prefetch`` and ``doctor`` all use
the same folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from course_utils.models import environment

__all__ = [
    "course_cache_dir",
    "default_cache_dir",
    "explicit_cache_dir",
    "fastembed_default_dir",
    "in_temporary_folder",
    "resolved_cache_dir",
    "use_course_cache",
    "user_cache_root",
]

#: The environment variable fastembed reads its cache folder from.
CACHE_VARIABLE = "FASTEMBED_CACHE_PATH"
#: Folder name of the course inside the user's cache folder.
APP_NAME = "late-interaction-course"


def user_cache_root() -> Path:
    """The user's cache folder on this system (``~/.cache`` on Linux); not created."""
    home = Path.home()
    if sys.platform.startswith("win"):
        local = os.environ.get("LOCALAPPDATA", "").strip()
        return (Path(local) if local else home / "AppData" / "Local")
    if sys.platform == "darwin":
        return home / "Library" / "Caches"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg) if xdg and os.path.isabs(xdg) else home / ".cache"


def course_cache_dir() -> Path:
    """The course's persistent model folder in the user's cache folder; not created.

    Returns:
        e.g. ``~/.cache/late-interaction-course/models`` on Linux,
        ``%LOCALAPPDATA%\\late-interaction-course\\Cache\\models`` on Windows.
    """
    root = user_cache_root()
    if sys.platform.startswith("win"):
        return root / APP_NAME / "Cache" / "models"
    return root / APP_NAME / "models"


def fastembed_default_dir() -> Path:
    """fastembed's own default folder, ``<tmp>/fastembed_cache`` (used on Colab)."""
    return Path(tempfile.gettempdir()) / "fastembed_cache"


def explicit_cache_dir() -> Path | None:
    """The folder set in ``FASTEMBED_CACHE_PATH``, or None when it is unset or empty."""
    value = os.environ.get(CACHE_VARIABLE, "").strip()
    return Path(value) if value else None


def default_cache_dir() -> Path:
    """Where models go when ``FASTEMBED_CACHE_PATH`` is not set: the course folder, fastembed's on Colab."""
    return fastembed_default_dir() if environment.on_colab() else course_cache_dir()


def resolved_cache_dir() -> Path:
    """The model folder in use: ``FASTEMBED_CACHE_PATH`` if set, else :func:`default_cache_dir`."""
    return explicit_cache_dir() or default_cache_dir()


def use_course_cache() -> Path:
    """Point fastembed at the course's model folder, unless ``FASTEMBED_CACHE_PATH`` is already set.

    Sets ``FASTEMBED_CACHE_PATH`` in this process (and the processes it starts)
    to :func:`default_cache_dir` when it is unset, creating the folder. Nothing
    changes on Colab or when the variable is set.

    Returns:
        the folder fastembed will use.
    """
    if explicit_cache_dir() is not None or environment.on_colab():
        return resolved_cache_dir()
    folder = course_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: leave fastembed's own default in place
        return fastembed_default_dir()
    os.environ[CACHE_VARIABLE] = str(folder)
    return folder


def in_temporary_folder(folder: str | os.PathLike) -> bool:
    """True when ``folder`` lies in the system's temporary folder (often emptied on a reboot)."""
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path, not {type(folder).__name__}")
    path = Path(folder).expanduser().resolve()
    temporary = {Path(tempfile.gettempdir()).resolve()}
    if os.name != "nt":
        temporary.add(Path("/tmp").resolve())
    return any(path == root or root in path.parents for root in temporary)
