"""What a student sees of the lessons' code: lines that fit without horizontal scrolling, honest progress bars."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").iterdir() if (path / f"{path.name}.ipynb").exists())
#: Longest code line a student sees (session convention): JupyterLab shows it whole at 100% in a 1,366 px window.
MAX_CODE_LINE = 100


def student_code_cells(lesson: str) -> list:
    notebook = nbformat.read(ROOT / "notebooks" / lesson / f"{lesson}.ipynb", as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def long_lines(cells) -> list[str]:
    """``cell id, line number: length`` of every code line longer than :data:`MAX_CODE_LINE`."""
    return [f"cell {cell.get('id')}, line {number}: {len(line)} characters: {line[:60]}..."
            for cell in cells for number, line in enumerate(cell.source.splitlines(), 1) if len(line) > MAX_CODE_LINE]


def test_lessons_were_found():
    assert "01-late-interaction-basics" in LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_student_visible_code_lines_fit_in_100_characters(lesson):
    found = long_lines(student_code_cells(lesson))
    assert not found, f"{lesson} (edit solutions/{lesson}, then generate):\n" + "\n".join(found)


def test_the_long_line_check_can_fail():
    cell = nbformat.v4.new_code_cell("x = 1\n" + "y = " + "1 + " * 30 + "1")
    assert long_lines([cell]) and "line 2" in long_lines([cell])[0]
    assert long_lines([nbformat.v4.new_code_cell("x = 1")]) == []


#: A progress bar around a fastembed embedding generator (which computes a batch before yielding its first item).
PROGRESS_OVER_EMBEDDING = re.compile(r"tqdm\((?:[^()]|\([^()]*\))*?\.(?:passage_|query_)?embed(?:_image|_text)?\(")


def dishonest_bars(source: str) -> list[str]:
    """Progress bars over a model's embedding without ``batch_size=``: fastembed's default batch (256) holds the
    whole corpus, so the bar waits, then jumps from 0 to all, and its speed is that of the first item ("3.99it/s"
    for 218 passages)."""
    found = []
    for match in PROGRESS_OVER_EMBEDDING.finditer(source):
        depth, start, end = 0, match.start() + len("tqdm"), len(source)
        for position in range(start, len(source)):  # to the parenthesis that closes tqdm(
            depth += {"(": 1, ")": -1}.get(source[position], 0)
            if depth == 0:
                end = position + 1
                break
        call = source[match.start():end]
        if "batch_size=" not in call:
            found.append(call.splitlines()[0])
    return found


@pytest.mark.parametrize("lesson", LESSONS)
def test_progress_bars_over_model_embeddings_move_with_the_work(lesson):
    found = [line for cell in student_code_cells(lesson) for line in dishonest_bars(cell.source)]
    assert not found, f"{lesson}: pass batch_size= to the embedding under the bar:\n" + "\n".join(found)


def test_the_progress_bar_check_can_fail():
    assert dishonest_bars('v = list(tqdm(model.passage_embed(texts), total=len(texts)))\n')
    assert not dishonest_bars('v = list(tqdm(model.embed_image(images, batch_size=2), total=n))\n')
    assert not dishonest_bars('v = list(tqdm(model.passage_embed(texts, batch_size=16), total=n,\n'
                              '                smoothing=0))\n')
