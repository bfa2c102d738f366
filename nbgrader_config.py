"""nbgrader configuration: this repository is the course directory.

- ``solutions/<lesson>/<lesson>.ipynb``: the instructor's source (lesson, solutions, hidden tests);
- ``notebooks/<lesson>/<lesson>.ipynb``: the student version, made from it by
  ``nbgrader generate_assignment <lesson>`` (committed, no outputs);
- ``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``: made while grading,
  kept out of git.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "late-interaction"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\n'
              'raise NotImplementedError("Exercise not solved yet: replace this line with your code")'}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Grading: a graded cell a student deleted is put back (and scores 0) instead of
# leaving the whole notebook at "needs manual grading".
c.OverwriteCells.add_missing_cells = True
# Seconds a cell may run during autograding before it is interrupted.
c.ExecutePreprocessor.timeout = 120

# Never released to students nor copied into a grading copy: a lesson's held-out split (the capstone's
# solutions/09-capstone/heldout/, read only by the grader: course_utils/grading/capstone.py).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "heldout"]
