"""Integrity of the course corpus shipped as package data (course_utils/data/).

The files are read raw here, not only through ``load_corpus``: loading into dicts
would silently drop a repeated id or a repeated judgement.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections import Counter
from importlib import resources

import numpy as np
import pytest

from course_utils import models
from course_utils.data import QUERY_SUBSETS, load_corpus
from course_utils.data.vocabulary import content_words, subset_of
from course_utils.scoring.metrics import ndcg_at_k
from tests.models_fixtures import load

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
    assert 50 <= len(QUERIES) <= 80


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


# ----- the query subsets: lexical and vocabulary-mismatch ----------------------------------------------


def relevant_texts(corpus, query_id: str) -> list[str]:
    return [corpus.passages[p] for p, grade in corpus.qrels[query_id].items() if grade >= 1]


def test_every_query_has_a_relevant_passage_and_a_known_subset():
    corpus = load_corpus()
    assert all(relevant_texts(corpus, q) for q in corpus.queries)
    assert set(corpus.query_subsets.values()) == set(QUERY_SUBSETS)


def test_subset_labels_agree_with_the_definition():
    """``mismatch``: no content word (lowercased, stop words dropped, stemmed) shared with ANY relevant passage."""
    corpus = load_corpus()
    defined = {q: subset_of(text, relevant_texts(corpus, q)) for q, text in corpus.queries.items()}
    wrong = {q: (corpus.query_subsets[q], subset) for q, subset in defined.items() if corpus.query_subsets[q] != subset}
    assert wrong == {}, "query: (label in queries.jsonl, what the definition says)"


def test_the_corpus_has_enough_queries_of_each_subset():
    corpus = load_corpus()
    assert len(corpus.queries_in("mismatch")) >= 12 and len(corpus.queries_in("lexical")) >= 36
    assert len(corpus.queries) == 60


def test_mismatch_queries_still_share_words_with_some_judged_traps():
    """A mismatch query is not a query about nothing: most share a word with a passage judged 0 (a keyword trap)."""
    corpus = load_corpus()
    with_traps = [q for q in corpus.queries_in("mismatch")
                  if any(content_words(corpus.queries[q]) & content_words(corpus.passages[p])
                         for p, grade in corpus.qrels[q].items() if grade == 0)]
    assert len(with_traps) >= len(corpus.queries_in("mismatch")) // 2


@pytest.mark.parametrize("text, words", [
    ("Jaguars hunt in the rainforest", {"jaguar", "hunt", "rainforest"}),
    ("The iPhone's battery, and THE batteries", {"iphon", "batteri"}),
    ("what is it", set()),
])
def test_content_words_lowercase_drop_stop_words_and_stem(text, words):
    assert content_words(text) == words


def test_subset_of_needs_a_relevant_passage_and_a_string():
    assert subset_of("cheap flights", ["Fares drop midweek.", "A flight search site."]) == "lexical"
    assert subset_of("cheap flights", ["Fares drop midweek."]) == "mismatch"
    with pytest.raises(ValueError, match="relevant_passages"):
        subset_of("cheap flights", [])
    with pytest.raises(TypeError, match="text must be a string"):
        content_words(None)


# ----- BM25 (the real one: the stand-in's files are Qdrant/bm25's) on each subset -------------------------


@functools.cache
def bm25_ndcg_per_query() -> dict[str, float]:
    """nDCG@10 of every query under lesson 5's BM25: fastembed's vectors times Qdrant's IDF, matched passages only.

    A query that matches no passage has an empty ranking and nDCG@10 0.
    """
    from course_utils.first_stages.candidates import matched_top_k

    corpus = load_corpus()
    bm25 = load(models.BM25_MODEL)
    passages = list(bm25.embed(corpus.passage_texts))
    columns = {term: c for c, term in enumerate(sorted({int(t) for v in passages for t in v.indices}))}
    weights = np.zeros((len(passages), len(columns)))                          # (passages, terms)
    for row, vector in enumerate(passages):
        weights[row, [columns[int(t)] for t in vector.indices]] = vector.values
    containing = (weights > 0).sum(axis=0)
    idf = np.log(1 + (len(passages) - containing + 0.5) / (containing + 0.5))  # Qdrant's Modifier.Idf
    ndcg = {}
    for query_id, vector in zip(corpus.queries, bm25.query_embed(list(corpus.queries.values()))):
        terms = [columns[int(t)] for t in vector.indices if int(t) in columns]
        ranking = [corpus.passage_ids[i] for i in matched_top_k(weights[:, terms] @ idf[terms], 10)]
        ndcg[query_id] = ndcg_at_k(ranking, corpus.qrels[query_id], 10) if ranking else 0.0
    return ndcg


def test_content_words_are_exactly_the_terms_of_fastembeds_bm25():
    """The subsets' definition is BM25's own vocabulary: same tokens, stop words and stems, on every text."""
    from fastembed.sparse.bm25 import Bm25

    corpus = load_corpus()
    texts = corpus.passage_texts + list(corpus.queries.values())
    vectors = load(models.BM25_MODEL).embed(texts)
    differ = [text for text, vector in zip(texts, vectors)
              if {Bm25.compute_token_id(word) for word in content_words(text)} != set(vector.indices.tolist())]
    assert differ == []


def test_bm25_fails_on_the_mismatch_queries_and_does_well_on_the_lexical_ones():
    """BM25 cannot find what shares no term with the query; the lexical queries are its home ground.

    Measured (the real BM25: the stand-in's files are Qdrant/bm25's): nDCG@10 0.867 on the 44 lexical
    queries, 0.000 on the 16 mismatch queries, 0.635 on all 60 (0.853 on the first 36 queries alone).
    0 on the mismatch subset is no accident: a relevant passage shares no term with its query (the
    test above shows the definition's words are BM25's terms), so it scores 0 and is never ranked.
    """
    corpus = load_corpus()
    ndcg = bm25_ndcg_per_query()
    lexical = np.mean([ndcg[q] for q in corpus.queries_in("lexical")])
    mismatch = np.mean([ndcg[q] for q in corpus.queries_in("mismatch")])
    print(f"BM25 nDCG@10: lexical {lexical:.3f}, mismatch {mismatch:.3f}, all {np.mean(list(ndcg.values())):.3f}")
    assert lexical >= 0.75
    assert mismatch == 0.0
