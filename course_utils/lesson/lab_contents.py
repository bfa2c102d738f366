"""Lessons that open in JupyterLab unmodified: the course's contents manager.

When a kernel connects, JupyterLab copies the kernel's ``language_info`` into
the notebook's metadata, and any difference marks the notebook modified (the ●
on its tab) before the student has changed anything. The committed lessons
cannot hold the right value: it includes the Python version of whoever runs
them. ``python3 course.py start`` therefore runs JupyterLab with
:class:`CourseContentsManager`, which, when a Python notebook is opened, fills in
the ``language_info`` that this environment's ipykernel will report (the server
and the kernel share the course's environment). Nothing is written to disk until
the student saves.
"""

from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

__all__ = ["CourseContentsManager", "kernel_language_info", "with_kernel_language_info"]


def kernel_language_info() -> dict | None:
    """The ``language_info`` that this environment's ipykernel reports, or None without ipykernel."""
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:
        return None
    return dict(IPythonKernel.language_info)


def with_kernel_language_info(notebook) -> bool:
    """Set the ``language_info`` of ``notebook`` (nbformat node or dict) to the kernel's; True if it changed.

    Only notebooks whose language is already Python are touched.
    """
    if not isinstance(notebook, dict) or not isinstance(notebook.get("metadata"), dict):
        raise TypeError("notebook must be a notebook's JSON (a dict with metadata)")
    metadata = notebook["metadata"]
    language = metadata.get("language_info", {}).get("name") or metadata.get("kernelspec", {}).get("language")
    info = kernel_language_info()
    if language != "python" or info is None or metadata.get("language_info") == info:
        return False
    metadata["language_info"] = info
    return True


class CourseContentsManager(AsyncLargeFileManager):
    """Jupyter Server's default contents manager, with the kernel's ``language_info`` in opened notebooks.

    It also says quietly (debug level) what Jupyter Server warns in the student's terminal each time a
    lesson is opened before it was saved: "Notebook ... is not trusted" (a lesson is signed as trusted
    when the student saves it). What trust does is unchanged: outputs of a notebook not yet trusted are
    shown as Jupyter shows them, untrusted HTML sanitised.
    """

    def mark_trusted_cells(self, nb, path=""):
        trusted = self.notary.check_signature(nb)
        if not trusted:
            self.log.debug("Notebook %s is not trusted (yet: saving it signs it)", path)
        self.notary.mark_cells(nb, trusted)

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
            with_kernel_language_info(model["content"])
        return model
