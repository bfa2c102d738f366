"""What every lesson notebook uses around its exercises (lessons 1-7).

- :mod:`~course_utils.lesson.checks`: ``check``, the graded comparison a test cell makes, and
  :mod:`~course_utils.lesson.check_summary`, the line under a passing test cell;
- :mod:`~course_utils.lesson.setup`: what the set-up cell runs (model folder, model check, guard), and
  :mod:`~course_utils.lesson.colab`: the Colab badge and the set-up cell itself, stamped with the version;
- :mod:`~course_utils.lesson.plots` and :mod:`~course_utils.lesson.diagrams`: similarity heatmaps, score bars
  and the pictures of lessons 1-2;
- :mod:`~course_utils.lesson.halt`: after a failed set-up cell, every later cell stops at once, saying why;
- :mod:`~course_utils.lesson.doctor`: ``python -m course_utils doctor``, what is installed and what is missing;
- :mod:`~course_utils.lesson.validate`: ``python -m course_utils validate``, where a student stands, per exercise,
  and :mod:`~course_utils.lesson.validate_button`: the same in the dialog of nbgrader's Validate button;
- :mod:`~course_utils.lesson.lab_contents`: the JupyterLab contents manager of ``python3 course.py start``.
"""

__all__: list[str] = []
