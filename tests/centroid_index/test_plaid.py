"""The centroid index: what it stores, each of PLAID's stages against a direct computation, recall, errors."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.centroid_index.plaid import build_index, check_corpus
from course_utils.centroid_index.residuals import ResidualCodec
from course_utils.centroid_index.token_candidates import nearest_tokens, owners, token_candidates
from course_utils.scoring.maxsim import PackedCorpus, maxsim, score_corpus, top_k


def clustered_corpus(n_passages=120, topics=12, dim=16, seed=0):
    """Passages whose tokens lie near a few topic directions (as real token vectors cluster by word)."""
    rng = np.random.default_rng(seed)
    words = rng.normal(size=(topics * 4, dim))
    documents = []
    for _ in range(n_passages):
        chosen = rng.integers(0, len(words), size=rng.integers(3, 15))
        vectors = words[chosen] + 0.15 * rng.normal(size=(len(chosen), dim))
        documents.append((vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32))
    queries = [documents[i][:4] + 0.05 * rng.normal(size=(min(4, len(documents[i])), dim)).astype(np.float32)
               for i in range(0, min(40, n_passages), 4)]
    return PackedCorpus.from_documents(documents), queries


@pytest.fixture(scope="module")
def built():
    corpus, queries = clustered_corpus()
    return corpus, queries, build_index(corpus, n_centroids=32, bits=4, seed=1)


def test_the_index_holds_every_token_once_and_consistent_lists(built):
    corpus, _, index = built
    assert len(index) == len(corpus) and index.codes.shape == (len(corpus.vectors),)
    assert index.residuals.shape == (len(corpus.vectors), 16 * 4 // 8) and index.bytes_per_token == 4 + 8
    for passage in range(len(corpus)):
        mine = set(index.codes[corpus.offsets[passage]:corpus.offsets[passage + 1]].tolist())
        stored = index.passage_centroids[index.passage_centroid_offsets[passage]:
                                         index.passage_centroid_offsets[passage + 1]]
        assert stored.tolist() == sorted(mine)
        for c in mine:
            assert passage in index.ivf[index.ivf_offsets[c]:index.ivf_offsets[c + 1]]
    assert index.ivf_offsets[-1] == len(index.passage_centroids)
    assert set(index.build_seconds) == {"k-means", "assignment", "residuals", "inverted lists"}


def test_decompressed_passages_are_close_to_the_originals(built):
    corpus, _, index = built
    restored = index.decompress(np.array([5, 0]))
    np.testing.assert_array_equal(restored.lengths, corpus.lengths[[5, 0]])
    cosines = np.einsum("ij,ij->i", restored.document(0), corpus.document(5))
    assert cosines.min() > 0.9


def test_stage_one_is_the_union_of_the_probed_lists(built):
    corpus, queries, index = built
    scores = index.centroid_scores(queries[0])
    probed = set(np.argsort(-scores, axis=1)[:, :2].ravel().tolist())
    expected = sorted({p for p in range(len(corpus)) if probed & set(index.codes[corpus.offsets[p]:
                                                                                  corpus.offsets[p + 1]].tolist())})
    assert index.candidates(scores, 2).tolist() == expected


def test_centroid_interaction_is_maxsim_over_centroid_scores_with_and_without_pruning(built):
    corpus, queries, index = built
    scores = index.centroid_scores(queries[1])
    passages = np.array([3, 7, 0, 50])
    threshold = float(np.quantile(scores.max(axis=0), 0.7))
    got, pruned = index.centroid_interaction(scores, passages), index.centroid_interaction(scores, passages, threshold)
    for value, value_pruned, p in zip(got, pruned, passages):
        ids = np.unique(index.codes[corpus.offsets[p]:corpus.offsets[p + 1]])
        assert value == pytest.approx(scores[:, ids].max(axis=1).sum(), rel=1e-5)
        kept = ids[scores[:, ids].max(axis=0) >= threshold]
        assert value_pruned == (pytest.approx(scores[:, kept].max(axis=1).sum(), rel=1e-5) if len(kept) else -np.inf)


def test_search_reranks_with_decompressed_maxsim_and_finds_the_exhaustive_top(built):
    corpus, queries, index = built
    everything = index.decompress(np.arange(len(corpus)))  # the stages should lose little against all of it
    recalls = []
    for query in queries:
        result = index.search(query, 5, nprobe=4, threshold=None, candidates=64)
        restored = index.decompress(result.passages)
        for i, score in enumerate(result.scores):
            assert score == pytest.approx(maxsim(query, restored.document(i)), rel=1e-5)
        assert np.all(np.diff(result.scores) <= 0)
        recalls.append(len(set(result.passages.tolist()) & set(top_k(score_corpus(query, everything), 5).tolist())) / 5)
    assert np.mean(recalls) >= 0.95
    assert result.stage_sizes["reranked"] == 16 and result.stage_sizes["candidates"] >= 16


def test_rerank_vectors_score_the_survivors_on_the_originals(built):
    """The same stages, then MaxSim on the original vectors (here float16, as on disk): exact scores, and at
    more of the exact top found than with the decompressed tokens on this corpus (0.94 against 0.86)."""
    corpus, queries, index = built
    originals = PackedCorpus(corpus.vectors.astype(np.float16), corpus.offsets)
    found = {"decompressed": [], "originals": []}
    for query in queries:
        truth = set(top_k(score_corpus(query, corpus), 5).tolist())
        result = index.search(query, 5, nprobe=4, threshold=None, candidates=64, rerank_vectors=originals)
        for passage, score in zip(result.passages, result.scores):
            assert score == pytest.approx(maxsim(query, originals.document(int(passage)).astype(np.float32)),
                                          rel=1e-5)
        found["originals"].append(len(set(result.passages.tolist()) & truth) / 5)
        plain = index.search(query, 5, nprobe=4, threshold=None, candidates=64)
        found["decompressed"].append(len(set(plain.passages.tolist()) & truth) / 5)
    assert np.mean(found["originals"]) > np.mean(found["decompressed"]) and np.mean(found["originals"]) >= 0.9
    other = PackedCorpus(corpus.vectors[:-1], np.r_[corpus.offsets[:-1], len(corpus.vectors) - 1])
    for bad in (other, corpus.vectors, PackedCorpus(corpus.vectors[:, :8], corpus.offsets)):
        with pytest.raises(ValueError, match="rerank_vectors must be a PackedCorpus of the index's own passages"):
            index.search(queries[0], rerank_vectors=bad)


def test_a_threshold_above_every_centroid_prunes_everything(built):
    _, queries, index = built
    result = index.search(queries[0], 5, threshold=1e6)
    assert len(result.passages) == 0 and result.stage_sizes["after pruning"] == 0


def test_token_candidates_own_the_nearest_tokens():
    corpus, queries = clustered_corpus(n_passages=20)
    rows = nearest_tokens(queries[0], corpus, 3)
    sims = queries[0] @ corpus.vectors.T
    np.testing.assert_array_equal(rows[:, 0], sims.argmax(axis=1))
    assert np.all(np.diff(np.take_along_axis(sims, rows, axis=1), axis=1) <= 0)
    assert owners([0, corpus.offsets[1], corpus.offsets[-1] - 1], corpus.offsets).tolist() == [0, 1, 19]
    owned = sorted(set(owners(rows, corpus.offsets).ravel().tolist()))
    assert token_candidates(queries[0], corpus, 3).tolist() == owned
    with pytest.raises(ValueError, match="k must be"):
        nearest_tokens(queries[0], corpus, 0)


def test_bad_input_is_named(built):
    corpus, queries, index = built
    with pytest.raises(ValueError, match="bits must be one of"):
        build_index(corpus, bits=3)
    with pytest.raises(ValueError, match="n_centroids"):
        build_index(corpus, n_centroids=0)
    with pytest.raises(ValueError, match="at most the number of token vectors"):
        build_index(PackedCorpus.from_documents([np.eye(2, dtype=np.float32)]), n_centroids=3)
    with pytest.raises(ValueError, match="documents is empty"):
        build_index([])
    with pytest.raises(ValueError, match="NaN"):
        check_corpus(PackedCorpus(np.array([[np.nan, 0.0]], np.float32), np.array([0, 1])))
    with pytest.raises(ValueError, match="passage 1 has no token vectors"):
        check_corpus(PackedCorpus(np.eye(2, dtype=np.float32), np.array([0, 2, 2])))
    for name, kwargs in [("nprobe", {"nprobe": 0}), ("k must", {"k": 0}), ("candidates", {"candidates": -1}),
                         ("threshold", {"threshold": float("nan")})]:
        with pytest.raises(ValueError, match=name):
            index.search(queries[0], **kwargs)
    with pytest.raises(ValueError, match="query has token vectors of size 8, but 16"):
        index.search(np.ones((2, 8), np.float32))
    assert isinstance(index.codec, ResidualCodec)
