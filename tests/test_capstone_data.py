"""The capstone's held-out split (``solutions/09-capstone/heldout/``): well formed, disjoint from the development
set, and its ``subset`` labels are what the one definition of a vocabulary mismatch says. Written for any split
an instructor writes (README, "Change the held-out split"): at least 10 queries, at least 3 mismatch ones, ids
unique, no fixed count."""

from __future__ import annotations

import json
from pathlib import Path

from course_utils.data import load_corpus
from course_utils.data.vocabulary import subset_of
from course_utils.grading.capstone import HELDOUT, load_heldout

FOLDER = Path(__file__).resolve().parents[1] / "solutions" / "09-capstone" / HELDOUT


def _rows() -> list[dict]:
    return [json.loads(line) for line in (FOLDER / "queries.jsonl").read_text().splitlines() if line.strip()]


def test_held_out_queries_are_new_judged_and_over_the_corpus():
    corpus = load_corpus()
    queries, qrels = load_heldout(FOLDER)  # raises for a query without a relevant passage
    rows = _rows()
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == len(queries), "held-out query ids must be unique"
    assert len(queries) >= 10, "too few held-out queries to grade on (nDCG@10 over a handful is noise)"
    assert all(row["text"].strip() for row in rows)
    assert not set(queries) & set(corpus.queries), "held-out ids must differ from the development ids"
    development = {text.lower() for text in corpus.queries.values()}
    assert not [text for text in queries.values() if text.lower() in development]
    assert set(qrels) == set(queries)
    for grades in qrels.values():
        assert set(grades) <= set(corpus.passages) and set(grades.values()) <= {0, 1, 2}


def test_subset_labels_follow_the_content_word_definition():
    corpus = load_corpus()
    _, qrels = load_heldout(FOLDER)
    rows = _rows()
    for row in rows:
        relevant = [corpus.passages[pid] for pid, grade in qrels[row["id"]].items() if grade >= 1]
        assert row["subset"] == subset_of(row["text"], relevant), row
    assert {row["subset"] for row in rows} <= {"lexical", "mismatch"}
    assert sum(row["subset"] == "mismatch" for row in rows) >= 3, "the statement promises vocabulary-mismatch queries"
