"""Grading a class with nbgrader: course copies, submissions, scores (``python -m course_utils grade``)."""

from course_utils.quick_start import skip_unused_slow_imports

skip_unused_slow_imports()  # every grading process (the command, its workers) reads notebooks
