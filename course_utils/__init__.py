"""Helper library of the late-interaction search course.

Modules, one idea each; lessons import the few names they need from them::

    from course_utils.maxsim import maxsim, similarity_matrix, token_alignment, score_corpus
    from course_utils.plots import similarity_heatmap, score_bars
    from course_utils.tokens import token_labels
    from course_utils.models import DENSE_MODEL, check_models

- ``maxsim``: the late-interaction score, for one document or a packed corpus;
- ``plots``: token similarity heatmaps and score charts (matplotlib);
- ``tokens``: token labels aligned row for row with fastembed's ColBERT vectors;
- ``models``: the course's model names, the model cache, ``prefetch`` and the model check;
- ``data``: the running example and the course corpus;
- ``metrics``: recall@k, precision@k, MRR@k, nDCG@k;
- ``qdrant``: connecting to Qdrant (embedded or a server), the course's collection layout, Qdrant Edge;
- ``standins``: the offline stand-in models used by the tests and by grading.
- ``lesson_setup``, ``model_cache``, ``model_guard``: what a lesson's set-up cell does (the model folder
  that survives a reboot, the model check, fast failure of later loads when models are missing);
- ``check_summary``: the line under a test cell whose visible checks passed;
- ``lab_contents``: the JupyterLab contents manager of ``course.py start`` (lessons open unmodified).

The command line is ``python -m course_utils --help``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("course-utils")
except PackageNotFoundError:  # imported from a source folder that was not installed
    __version__ = "unknown"
