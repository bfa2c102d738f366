"""The binary-scorer benchmark on a small corpus: it runs, agrees with Qdrant Edge, and its recall can fail."""

from __future__ import annotations

import re

import numpy as np
import pytest

from benchmarks import binary_scorer as bench
from course_utils.compression.binary import BinaryCorpus
from course_utils.data import random_token_vectors
from course_utils.scoring.maxsim import PackedCorpus


def test_recall_counts_the_exact_top_found():
    assert bench.recall([3, 1, 2], [1, 2, 3]) == 1.0
    assert bench.recall([3, 9, 8, 7], [1, 2, 3, 4]) == 0.25
    assert bench.recall([5, 6], [1, 2]) == 0.0


def test_recall_table_falls_below_one_when_binary_misses():
    """Random queries on random passages: the exact top 10 are near-ties, binary search misses some."""
    corpus = PackedCorpus.from_documents(random_token_vectors(300, min_tokens=5, max_tokens=40, seed=2))
    binary = BinaryCorpus.from_corpus(corpus)
    table = bench.recall_table(binary, corpus, bench.random_queries(3, seed=4))
    assert set(table) == set(bench.OVERSAMPLINGS) and all(0 <= r <= 1 for r in table.values())
    assert table[1] < 1.0


def test_planted_queries_are_unit_rows_that_favour_their_passages():
    corpus = PackedCorpus.from_documents(random_token_vectors(200, min_tokens=5, max_tokens=40, seed=3))
    queries = bench.planted_queries(corpus, 2, sources=4)
    assert all(q.shape == (32, 128) and np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-5) for q in queries)


def test_the_command_reports_on_a_small_corpus(capsys):
    # the random corpus (the prose and stand-in corpora have tests of their own below)
    assert bench.main(["--corpus", "random", "--documents", "60", "--queries", "2", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    for words in ("x less", "recall@10", "binary, random", "binary, planted", "asymmetric, planted",
                  "binary scores alone", "asymmetric search + rescoring x4", "Qdrant Edge, float32 exact",
                  "Qdrant Edge, binary + rescoring x4", "Qdrant Edge, asymmetric + rescoring x4"):
        assert words in printed
    assert "DISAGREEMENT" not in printed


def test_composed_passages_are_course_sentences_drawn_at_random_and_repeatably():
    from benchmarks.standin_corpus import composed_passages, course_sentences

    sentences = set(course_sentences())
    passages = composed_passages(50, seed=1)
    assert len(passages) == 50 and passages == composed_passages(50, seed=1) and passages != composed_passages(50)
    assert all(any(s in passage for s in sentences) for passage in passages)


def test_the_command_reports_on_a_small_standin_corpus(capsys):
    """The stand-in corpus: the course's real queries over passages of its sentences; Edge beside ours, with no
    target judged (near-duplicates crowd its exact top 10: the prose corpus judges the targets)."""
    assert bench.main(["--corpus", "standin", "--documents", "80", "--queries", "3", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    for words in ("standin corpus", "3 course queries", "asymmetric, course queries", "Qdrant Edge"):
        assert words in printed, printed
    assert "DISAGREEMENT" not in printed and "never below" not in printed


@pytest.fixture
def small_prose(monkeypatch):
    """The prose corpus drawn from the docstrings of three standard-library packages only (all take a minute)."""
    import asyncio
    import email
    import logging
    from pathlib import Path

    from benchmarks import prose_corpus

    roots = tuple(Path(package.__file__).parent for package in (asyncio, email, logging))
    paragraphs = prose_corpus.prose_paragraphs(roots)
    monkeypatch.setattr(prose_corpus, "prose_paragraphs", lambda: paragraphs)
    return paragraphs


def test_prose_passages_are_distinct_paragraphs_and_queries_come_from_them(small_prose):
    from benchmarks.prose_corpus import prose_corpus

    assert len(small_prose) >= 200 and len(set(small_prose)) == len(small_prose)
    assert all(15 <= len(p.split()) <= 80 for p in small_prose)
    passages, queries = prose_corpus(200, 5, seed=3)
    assert (passages, queries) == prose_corpus(200, 5, seed=3) and len(set(passages)) == 200
    words = [set(re.findall(r"[a-z]+", p.lower())) for p in passages]
    assert all(len(q.split()) == 6 and any(set(q.split()) <= w for w in words) for q in queries), queries
    with pytest.raises(ValueError, match="n_queries"):
        prose_corpus(10, 11)


def test_the_command_reports_targets_on_a_small_prose_corpus(small_prose, capsys):
    assert bench.main(["--corpus", "prose", "--documents", "60", "--queries", "3", "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    for words in ("prose corpus", "3 keyword queries", "asymmetric, keyword queries", "at 4 >= 0.95",
                  "never below Edge's"):
        assert words in printed, printed
