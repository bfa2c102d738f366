"""Grading a class with nbgrader: course copies, submissions, scores (``python -m course_utils grade``)."""
