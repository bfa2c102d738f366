"""Submissions that try to cheat or break the autograder, each with the score it must get.

- :func:`lesson_one_attacks`: submissions that break the run (hangs, killed kernels, huge output,
  syntax errors) or cheat on the whole notebook, one kind each, on lesson 1 (the quickest to run):
  ``test_grade_attacks.py``.
- :func:`tampered_pair`: for any lesson, two submissions that between them attack every exercise
  with a cheat that must not earn points and with an edit that must not cost points:
  ``test_grading_pipeline.py`` grades them for every lesson.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from course_utils.grading import notebooks as nb
from tests.grading.support import ATTACK_LESSON, exercise_points, solved_notebook

__all__ = ["ALWAYS_EQUAL", "CHEATS", "EDITS", "lesson_one_attacks", "tampered_pair"]

def _cell(notebook, grade_id: str):
    return next(c for c in notebook.cells if nb.nbgrader_info(c).get("grade_id") == grade_id)


def _index(notebook, grade_id: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if nb.nbgrader_info(c).get("grade_id") == grade_id)


def _code_cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)


def lesson_one_attacks(course: Path) -> dict[str, tuple[object, float, str | None]]:
    """{kind: (notebook, expected score, text the feedback must contain or None)} for lesson 1.

    Lesson 1 has four exercises: ex1 3 points, ex2 2, ex3 3, ex4 2 (10 in all). The cheats and edits
    that target one exercise (edited or deleted cells, patched checks...) are in :func:`tampered_pair`,
    graded for every lesson; these are the ones that break the run or the whole notebook.
    """
    lesson = ATTACK_LESSON

    def solved(wrong=frozenset()):
        return solved_notebook(course, lesson, wrong=set(wrong))

    kinds = {}
    # every check of a test cell runs even after one fails, and the feedback reports each
    kinds["one-wrong"] = (solved({"ex3-answer"}), 7.0, "hidden check 2 of 2: returned a wrong answer")

    notebook = solved()
    _cell(notebook, "ex2-answer").source += "\ndef broken(:\n    pass\n"
    kinds["syntax-error"] = (notebook, 8.0, None)

    notebook = solved()
    notebook.cells.insert(1, _code_cell("import a_module_that_does_not_exist"))
    kinds["import-error"] = (notebook, 10.0, None)

    notebook = solved()
    _cell(notebook, "ex2-answer").source = (
        "def colbert_labels(tokens, kind):\n    while True:\n        pass\n")
    kinds["infinite-loop"] = (notebook, 8.0, "ran longer than")

    notebook = solved()
    _cell(notebook, "ex1-answer").source += "\nprint('x' * 50_000_000)\n"
    kinds["50MB-output"] = (notebook, 10.0, "was cut by the grader")

    notebook = solved()
    _cell(notebook, "ex3-answer").source = (
        "def storage_bytes(token_counts, dense_dim=384, token_dim=128, bytes_per_value=4):\n"
        "    return (len(token_counts) * dense_dim * bytes_per_value,\n"
        "            sum(token_counts) * token_dim * bytes_per_value)\n")
    kinds["wrong-type"] = (notebook, 7.0, None)

    notebook = solved()
    _cell(notebook, "ex3-answer").source += "\nimport os\nos._exit(1)\n"
    kinds["kills-kernel"] = (notebook, 7.0, "stopped the Python kernel")

    notebook = solved()
    _cell(notebook, "ex4-answer").source += (
        "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")
    kinds["ignores-interrupts"] = (notebook, 8.0, "ran longer than")

    notebook = solved()
    _cell(notebook, "ex1-answer").source = _cell(notebook, "ex1-answer").source.replace(
        '"""\n', '"""\n    import sys\n    print("debugging...", file=sys.stderr)\n', 1)
    kinds["writes-stderr"] = (notebook, 10.0, None)

    notebook = solved({"ex1-answer", "ex2-answer", "ex3-answer", "ex4-answer"})
    _cell(notebook, "ex1-answer").source += (
        "\ndef _pass_everything(lines):\n"
        "    return ['pass\\n'] if any('check(' in line for line in lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_pass_everything)\n")
    kinds["input-transformer"] = (notebook, 0.0, "rewrites cells before they run")

    notebook = solved({"ex1-answer", "ex2-answer", "ex3-answer", "ex4-answer"})
    _cell(notebook, "ex1-answer").source += (
        "\nget_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)\n")
    kinds["hides-errors"] = (notebook, 0.0, "replaces how errors are reported")

    return kinds


# ----- every lesson: a cheat on one half of the exercises, a harmless edit on the other -------------

#: An answer whose function returns this object claims to equal every expected value.
ALWAYS_EQUAL = ("class _EqualToEverything(list):\n"
                "    def __eq__(self, other):\n        return True\n"
                "    def __ne__(self, other):\n        return False\n"
                "    __hash__ = None\n\n\n")


def _wrong_with_edited_test(notebook, answer: str, test: str) -> None:
    _cell(notebook, test).source = "pass  # I made the test pass"


def _wrong_with_patched_checks(notebook, answer: str, test: str) -> None:
    _cell(notebook, answer).source += (
        "\nimport numpy, course_utils.lesson.checks as checks\n"
        "checks.check = lambda *args, **kwargs: None\n"
        "checks.compare = lambda *args, **kwargs: None\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n")


def _equal_to_everything(notebook, answer: str, test: str) -> None:
    cell = _cell(notebook, answer)
    cell.source = ALWAYS_EQUAL + cell.source


def _deleted_answer(notebook, answer: str, test: str) -> None:
    notebook.cells.pop(_index(notebook, answer))


def _copied_answer(notebook, answer: str, test: str) -> None:
    position = _index(notebook, answer)
    duplicate = copy.deepcopy(notebook.cells[position])
    duplicate.id = f"copy-of-{answer}"
    notebook.cells.insert(position + 1, duplicate)


def _test_to_markdown(notebook, answer: str, test: str) -> None:
    cell = _cell(notebook, test)
    cell.cell_type = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _deleted_test(notebook, answer: str, test: str) -> None:
    notebook.cells.pop(_index(notebook, test))


Attack = Callable[[object, str, str], None]
#: (name, attack on a WRONG answer, text the feedback must contain or None): the exercise earns nothing.
CHEATS: list[tuple[str, Attack, str | None]] = [
    ("edited its locked test cell", _wrong_with_edited_test, "was edited: the original was used"),
    ("patched the checking code", _wrong_with_patched_checks, "touches the course's checking code"),
    ("returned an object equal to everything", _equal_to_everything, None),
    ("deleted its answer cell", _deleted_answer, "was deleted"),
]
#: (name, edit of a RIGHT answer's cells, text the feedback must contain): the exercise keeps its points.
EDITS: list[tuple[str, Attack, str]] = [
    ("copied its answer cell", _copied_answer, "a copy of"),
    ("turned its test cell into markdown", _test_to_markdown, "was changed from code to markdown"),
    ("deleted its test cell", _deleted_test, "was deleted: it was put back"),
]


def _test_of(notebook, answer: str) -> str:
    """The grade_id of the first test cell after the answer cell ``answer``."""
    cells = notebook.cells[_index(notebook, answer) + 1:]
    return next(nb.nbgrader_info(c)["grade_id"] for c in cells if nb.nbgrader_info(c).get("grade"))


def _plan(answers: list[str], variant: int) -> dict[str, tuple[bool, tuple]]:
    """{answer grade_id: (cheats?, the entry of CHEATS or EDITS it gets)} for variant 0 or 1."""
    cheating = answers[variant::2]
    editing = [answer for answer in answers if answer not in cheating]
    plan = {a: (True, CHEATS[(i + 2 * variant) % len(CHEATS)]) for i, a in enumerate(cheating)}
    plan.update({a: (False, EDITS[(i + 2 * variant) % len(EDITS)]) for i, a in enumerate(editing)})
    return plan


def tampered_pair(course: Path, lesson: str) -> dict[str, tuple[object, float, list[str], list[str]]]:
    """{name: (notebook, expected score, feedback texts it must contain, what was done)} for ``lesson``.

    In ``tampered-odd`` the 1st, 3rd, ... exercises are answered wrongly and cheat (:data:`CHEATS`
    in turn) and the others are answered rightly with a harmless edit (:data:`EDITS` in turn);
    ``tampered-even`` swaps the halves and starts both lists further on, so that every lesson meets
    every cheat and every edit, and each exercise is both cheated on and edited once.
    """
    points = exercise_points(course, lesson)
    answers = list(points)
    pair = {}
    for variant, name in enumerate(("tampered-odd", "tampered-even")):
        plan = _plan(answers, variant)
        cheating = {a for a, (cheats, _kind) in plan.items() if cheats}
        equal = {a for a in cheating if plan[a][1][1] is _equal_to_everything}
        notebook = solved_notebook(course, lesson, wrong=cheating - equal)
        faking = solved_notebook(course, lesson, wrong=equal, returning="_EqualToEverything()")
        for answer in equal:
            _cell(notebook, answer).source = _cell(faking, answer).source
        tests = {answer: _test_of(notebook, answer) for answer in answers}  # before any cell is removed
        for answer, (_cheats, (_what, attack, _text)) in plan.items():
            attack(notebook, answer, tests[answer])
        expected = sum(points[a] for a in answers if a not in cheating)
        texts = [text for _cheats, (_what, _attack, text) in plan.values() if text]
        done = [f"{answer} {what}" for answer, (_cheats, (what, _attack, _text)) in plan.items()]
        pair[name] = (notebook, expected, texts, done)
    return pair
