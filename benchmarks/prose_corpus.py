"""A corpus of varied English prose for the benchmarks: docstring paragraphs, embedded by the stand-in ColBERT.

The course corpus has about 600 sentences. Passages composed from them (``benchmarks.standin_corpus``) repeat
each sentence about 60 times in 10,000 passages, so the exact top 10 of a query is a crowd of near-duplicates
(a median of 35 passages within 1% of the 10th score): no approximation can be expected to pick the same ten.
This corpus is built from text that does not repeat: the paragraphs of the docstrings of Python's standard
library and of the packages installed beside it (:func:`prose_paragraphs`: 15 to 80 words each, plain
characters only, deduplicated; about 21,000 paragraphs in the course's test environment, so the exact
paragraphs depend on the installed versions: ``constraints.txt`` pins them). Its queries
(:func:`prose_corpus`) are six consecutive content words taken from one passage each, lowercased: keyword
queries whose answer is in the corpus, like a user who remembers a few words of what they read.
"""

from __future__ import annotations

import ast
import re
import sysconfig
from functools import lru_cache
from pathlib import Path

import numpy as np

_PLAIN = re.compile(r"[A-Za-z0-9 ,.;:()/!?'-]+")
_SKIPPED_FOLDERS = {"test", "tests", "idlelib", "lib2to3", "turtledemo"}
_STOP_WORDS = frozenset("the a an of to in and or is are be for on with by as at that this it from which if not can "
                        "its was were has have".split())


def _paragraphs_of(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            for paragraph in re.split(r"\n\s*\n", ast.get_docstring(node) or ""):
                text = " ".join(paragraph.split())
                if 15 <= len(text.split()) <= 80 and _PLAIN.fullmatch(text) and text.count("(") < 3:
                    found.append(text)
    return found


@lru_cache(maxsize=4)
def prose_paragraphs(roots: tuple[Path, ...] | None = None) -> tuple[str, ...]:
    """Every distinct docstring paragraph of 15 to 80 words in plain characters of the ``.py`` files under
    ``roots`` (default: the standard library and the installed packages, ``sysconfig``'s ``stdlib`` and
    ``purelib``: about a minute), in a fixed order."""
    roots = roots or tuple(Path(sysconfig.get_paths()[name]) for name in ("stdlib", "purelib"))
    paths = sorted({p for root in roots for p in root.rglob("*.py") if not _SKIPPED_FOLDERS & set(p.parts)})
    return tuple(dict.fromkeys(text for path in paths for text in _paragraphs_of(path)))


def keyword_query(passage: str, rng: np.random.Generator, words: int = 6) -> str:
    """``words`` consecutive content words of ``passage`` (stop words and words of 1-2 letters left out), lowercased,
    from a random starting point."""
    content = [w for w in re.findall(r"[A-Za-z]+", passage) if w.lower() not in _STOP_WORDS and len(w) > 2]
    start = int(rng.integers(0, max(1, len(content) - words)))
    return " ".join(content[start:start + words]).lower()


def prose_corpus(n_passages: int, n_queries: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(``n_passages`` paragraphs drawn at random without repetition, ``n_queries`` keyword queries, each from a
    different one of them), seeded.

    Raises:
        ValueError: more passages asked for than there are paragraphs, or ``n_queries`` not in 1..n_passages.
    """
    paragraphs = prose_paragraphs()
    if not 0 < n_passages <= len(paragraphs) or not 0 < n_queries <= n_passages:
        raise ValueError(f"need 1 <= n_queries <= n_passages <= {len(paragraphs)} (the paragraphs found); got "
                         f"n_passages={n_passages}, n_queries={n_queries}")
    rng = np.random.default_rng(seed)
    passages = [paragraphs[i] for i in rng.choice(len(paragraphs), size=n_passages, replace=False)]
    sources = rng.choice(n_passages, size=n_queries, replace=False)
    return passages, [keyword_query(passages[i], rng) for i in sources]
