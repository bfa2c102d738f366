"""Integrity of the course corpus shipped as package data (course_utils/data/).

The files are read raw here, not only through ``load_corpus``: loading into dicts
would silently drop a repeated id or a repeated judgement.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from importlib import resources

import pytest

from course_utils.data import load_corpus

TOPICS = {"technology", "finance", "nature", "food", "science", "travel", "programming", "databases"}
AMBIGUOUS_WORDS = ("apple", "bank", "python", "jaguar", "java", "mercury")


def data_text(name: str) -> str:
    return resources.files("course_utils").joinpath("data", name).read_text(encoding="utf-8")


def jsonl_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in data_text(name).splitlines() if line.strip()]


PASSAGES = jsonl_rows("passages.jsonl")
QUERIES = jsonl_rows("queries.jsonl")
QRELS = list(csv.DictReader(data_text("qrels.tsv").splitlines(), delimiter="\t"))


def test_rows_have_exactly_the_documented_fields():
    assert all(set(row) == {"id", "topic", "text"} for row in PASSAGES)
    assert all(set(row) == {"id", "text", "subset"} for row in QUERIES)
    assert data_text("qrels.tsv").splitlines()[0] == "query_id\tpassage_id\trelevance"
    assert all(set(row) == {"query_id", "passage_id", "relevance"} and None not in row.values() for row in QRELS)


def test_sizes_are_in_the_documented_range():
    assert 150 <= len(PASSAGES) <= 300
    assert 25 <= len(QUERIES) <= 40


@pytest.mark.parametrize("rows, name", [(PASSAGES, "passage"), (QUERIES, "query")])
def test_ids_are_unique(rows, name):
    repeated = [i for i, n in Counter(row["id"] for row in rows).items() if n > 1]
    assert not repeated, f"repeated {name} ids: {repeated}"


def test_every_passage_has_a_known_topic():
    unknown = {row["id"]: row["topic"] for row in PASSAGES if row["topic"] not in TOPICS}
    assert not unknown
    assert {row["topic"] for row in PASSAGES} == TOPICS


@pytest.mark.parametrize("rows", [PASSAGES, QUERIES], ids=["passages", "queries"])
def test_texts_are_non_empty_ascii(rows):
    for row in rows:
        text = row["text"]
        assert isinstance(text, str) and text.strip(), f"{row['id']} has an empty text"
        assert text.isascii(), f"{row['id']} has non-ASCII characters: {text!r}"


def test_every_judged_id_exists_and_no_pair_is_judged_twice():
    passage_ids = {row["id"] for row in PASSAGES}
    query_ids = {row["id"] for row in QUERIES}
    assert {row["query_id"] for row in QRELS} <= query_ids
    assert {row["passage_id"] for row in QRELS} <= passage_ids
    pairs = Counter((row["query_id"], row["passage_id"]) for row in QRELS)
    assert not [pair for pair, n in pairs.items() if n > 1]


def test_relevance_grades_are_0_1_or_2():
    assert {row["relevance"] for row in QRELS} <= {"0", "1", "2"}


def test_every_query_has_a_highly_relevant_passage():
    best = {}
    for row in QRELS:
        best[row["query_id"]] = max(best.get(row["query_id"], 0), int(row["relevance"]))
    assert {row["id"]: best.get(row["id"], 0) for row in QUERIES} == {row["id"]: 2 for row in QUERIES}


@pytest.mark.parametrize("word", AMBIGUOUS_WORDS)
def test_context_dependent_word_appears_in_at_least_two_topics(word):
    pattern = re.compile(rf"\b{word}", re.IGNORECASE)
    topics = {row["topic"] for row in PASSAGES if pattern.search(row["text"])}
    assert len(topics) >= 2, f"{word!r} appears only in the topics {sorted(topics)}"


def test_load_corpus_returns_what_the_files_hold():
    corpus = load_corpus()
    assert corpus.passage_ids == [row["id"] for row in PASSAGES]
    assert corpus.passage_texts == [row["text"] for row in PASSAGES]
    assert list(corpus.queries) == [row["id"] for row in QUERIES]
    assert sum(len(judged) for judged in corpus.qrels.values()) == len(QRELS)
    assert all(isinstance(grade, int) for judged in corpus.qrels.values() for grade in judged.values())
