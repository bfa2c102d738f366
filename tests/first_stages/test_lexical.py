"""BM25 with the engine's IDF, in numpy: the same scores as Qdrant, and the terms two texts share."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastembed import SparseEmbedding

from course_utils.first_stages.lexical import Bm25Index, shared_terms


def sparse(pairs: dict[int, float]) -> SparseEmbedding:
    return SparseEmbedding(indices=np.array(list(pairs), dtype=np.int64), values=np.array(list(pairs.values())))


def test_scores_are_idf_times_weight_summed_over_shared_terms():
    index = Bm25Index([sparse({1: 1.0, 2: 0.5}), sparse({2: 1.2}), sparse({3: 0.9})])
    idf1, idf2 = math.log(1 + 2.5 / 1.5), math.log(1 + 1.5 / 2.5)
    assert index.scores(sparse({2: 1.0, 1: 1.0})) == pytest.approx([idf1 + 0.5 * idf2, 1.2 * idf2, 0.0])
    assert index.scores(sparse({99: 1.0})).tolist() == [0.0, 0.0, 0.0]
    assert len(index) == 3


def test_scores_equal_qdrant_embedded_on_the_corpus():
    from fastembed import SparseTextEmbedding
    from qdrant_client import QdrantClient, models

    from course_utils.data import load_corpus
    from course_utils.models import BM25_MODEL

    corpus = load_corpus()
    bm25 = SparseTextEmbedding(BM25_MODEL)
    passages = list(bm25.embed(corpus.passage_texts))
    index = Bm25Index(passages)
    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config={},
                             sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    client.upsert("c", [models.PointStruct(id=i, vector={"bm25": models.SparseVector(
        indices=v.indices.tolist(), values=v.values.tolist())}) for i, v in enumerate(passages)])
    for text in list(corpus.queries.values())[:6]:
        query = next(bm25.query_embed(text))
        hits = client.query_points("c", query=models.SparseVector(indices=query.indices.tolist(),
                                                                  values=query.values.tolist()),
                                   using="bm25", limit=len(passages)).points
        ours = index.scores(query)
        assert {h.id for h in hits} == set(np.flatnonzero(ours > 0).tolist())
        assert [h.score for h in hits] == pytest.approx([ours[h.id] for h in hits], rel=1e-5)


def test_shared_terms_and_bad_input():
    assert shared_terms(sparse({1: 1.0, 2: 1.0}), sparse({2: 0.3, 5: 0.1})) == {2}
    assert shared_terms(sparse({1: 1.0}), sparse({5: 0.1})) == set()
    with pytest.raises(ValueError, match="passages is empty"):
        Bm25Index([])
    with pytest.raises(TypeError, match=r"passages\[1\] must be a fastembed SparseEmbedding"):
        Bm25Index([sparse({1: 1.0}), [1, 2]])
    with pytest.raises(TypeError, match="query must be"):
        Bm25Index([sparse({1: 1.0})]).scores("jaguar")
