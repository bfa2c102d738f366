"""Lessons 5a and 5b's helpers: BM25 files, RRF, candidate recall, and the hybrid pipeline in Qdrant."""

from __future__ import annotations

import numpy as np
import pytest
from fastembed import SparseEmbedding

from course_utils import models
from course_utils.first_stages.candidates import candidate_recall_curve, fde_bytes, smallest_k
from course_utils.first_stages.fusion import qdrant_k, rrf
from course_utils.first_stages.hybrid import (EdgeHybridIndex, create_hybrid_collection, hybrid_points,
                                             pipeline_by_hand, pipeline_request)


# ----- the BM25 files are the real thing ---------------------------------------------------------

def _as_dict(indices, values):
    return {int(i): round(float(v), 6) for i, v in zip(indices, values)}


def test_fastembed_bm25_with_the_course_files_equals_qdrant_edge_on_every_text():
    import qdrant_edge as edge
    from fastembed import SparseTextEmbedding

    from course_utils.data import load_corpus

    corpus = load_corpus()
    texts = corpus.passage_texts + list(corpus.queries.values())
    bm25 = SparseTextEmbedding(models.BM25_MODEL)
    reference = edge.Bm25(edge.Bm25Config(language="english"))
    for text, doc, query in zip(texts, bm25.embed(texts), bm25.query_embed(texts)):
        expected_doc, expected_query = reference.embed_document(text), reference.embed_query(text)
        assert _as_dict(doc.indices, doc.values) == _as_dict(expected_doc.indices, expected_doc.values), text
        assert _as_dict(query.indices, query.values) == _as_dict(expected_query.indices, expected_query.values), text
    # the comparison can fail: without the stop-word list, fastembed's vectors differ from Edge's
    bare = SparseTextEmbedding(models.BM25_MODEL, stopwords=set())
    text = corpus.passage_texts[0]
    assert _as_dict(*next(bare.embed(text)).as_object().values()) != \
        _as_dict(reference.embed_document(text).indices, reference.embed_document(text).values)


def test_bm25_snapshot_is_found_in_the_cache():
    assert models.cached_snapshot(models.BM25_MODEL) is not None
    english = (models.cached_snapshot(models.BM25_MODEL) / "english.txt").read_text().split()
    assert len(english) == 179 and english[:3] == ["i", "me", "my"] and "wouldn't" in english


# ----- RRF ---------------------------------------------------------------------------------------

def test_rrf_by_hand():
    fused = rrf([["a", "b", "c"], ["b", "a"]], k=60)
    assert [item for item, _ in fused] == ["a", "b", "c"]  # a and b tie: first met first
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62) and fused[2][1] == pytest.approx(1 / 63)
    assert rrf([["x"], ["y", "x"]], k=0, weights=[2.0, 1.0], limit=1) == [("x", pytest.approx(2.5))]
    assert rrf([[], ["p"]], k=1) == [("p", 0.5)]
    assert qdrant_k(60) == 61 and type(qdrant_k(60)) is int  # Qdrant's Rrf(k=...) takes an int
    assert qdrant_k(0.0) == 1 and type(qdrant_k(0.0)) is int


@pytest.mark.parametrize("call, error, words", [
    (lambda: rrf([], k=60), ValueError, "rankings"),
    (lambda: rrf("abc", k=60), TypeError, "rankings"),
    (lambda: rrf([["a", "a"]], k=60), ValueError, "rankings[0]"),
    (lambda: rrf([["a"]], k=-1), ValueError, "k"),
    (lambda: rrf([["a"]], k="60"), TypeError, "k"),
    (lambda: qdrant_k(60.5), ValueError, "paper_k"),
    (lambda: qdrant_k(-1), ValueError, "paper_k"),
    (lambda: rrf([["a"]], weights=[1, 2]), ValueError, "weights"),
    (lambda: rrf([["a"]], limit=0), ValueError, "limit"),
])
def test_rrf_rejects_bad_input(call, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        call()


# ----- candidate recall --------------------------------------------------------------------------

def test_candidate_recall_curve_and_smallest_k():
    run = {"q1": ["a", "b", "c", "d"], "q2": ["x", "y", "z", "w"]}
    qrels = {"q1": {"b": 1, "d": 2}, "q2": {"x": 1, "v": 1}}
    curve = candidate_recall_curve(run, qrels, [1, 2, 3, 4])
    assert curve.tolist() == pytest.approx([0.25, 0.5, 0.5, 0.75])
    assert smallest_k(curve, [1, 2, 3, 4], 0.5) == 2
    assert smallest_k(curve, [1, 2, 3, 4], 1.0) is None
    with pytest.raises(ValueError, match="ks"):
        candidate_recall_curve(run, qrels, [2, 1])
    with pytest.raises(ValueError, match="ks"):
        candidate_recall_curve(run, qrels, [0])
    with pytest.raises(ValueError, match="curve"):
        smallest_k([0.5], [1, 2], 0.5)
    with pytest.raises(ValueError, match="target"):
        smallest_k([0.5], [1], 0)


def test_fde_bytes():
    assert fde_bytes(128, 5, 16, 20) == 40_960
    assert fde_bytes(128, 6, 32, 20) == 163_840
    with pytest.raises(ValueError, match="dim_proj"):
        fde_bytes(8, 2, 16, 1)
    with pytest.raises(ValueError, match="r_reps"):
        fde_bytes(8, 2, 4, 0)


# ----- the pipeline in two engines, on fixed vectors --------------------------------------------

DENSE = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0], [-0.6, 0.8]])
SPARSE = [SparseEmbedding(indices=np.array(i), values=np.array(v, dtype=float)) for i, v in
          [([1], [1.0]), ([1, 2], [0.5, 1.0]), ([3], [1.0]), ([2], [2.0]), ([4], [1.0])]]
COLBERT = [np.array(rows) for rows in ([[1.0, 0.0]], [[0.6, 0.8]], [[0.0, 1.0], [0.8, 0.6]], [[0.0, 1.0]],
                                       [[-1.0, 0.0], [0.6, 0.8]])]
FDE = np.eye(5)
QUERY = (np.array([0.6, 0.8]), SparseEmbedding(indices=np.array([2]), values=np.array([1.0])),
         np.array([[0.0, 1.0], [1.0, 0.0]]))
LIMITS = dict(first_limit=2, fused_limit=3, limit=2, rrf_k=2)


def _by_hand():
    n = len(SPARSE)
    df = {2: 2}
    idf = np.log(1 + (n - df[2] + 0.5) / (df[2] + 0.5))
    bm25 = np.array([0.0, 1.0, 0.0, 2.0, 0.0]) * idf
    dense = DENSE @ QUERY[0]
    def rerank(positions):
        return [float((QUERY[2] @ COLBERT[i].T).max(axis=1).sum()) for i in positions]
    return pipeline_by_hand(bm25, dense, rerank, **LIMITS)


def test_pipeline_by_hand_on_fixed_vectors():
    # BM25: 3 then 1; dense: 2 (1.0) then 1 (0.96); RRF (Qdrant k=2): 1 gets 1/3 + 1/3, 3 and 2 get 1/2;
    # fused top 3 = [1, 3, 2]; MaxSim: 1 -> 0.8 + 0.6 = 1.4, 3 -> 1.0, 2 -> 1.0 + 0.8 = 1.8
    hits, tied = _by_hand()
    assert [i for i, _ in hits] == [2, 1] and [s for _, s in hits] == pytest.approx([1.8, 1.4])
    assert tied is False


def test_pipeline_in_qdrant_client_and_edge_equals_the_hand_computation():
    from course_utils.qdrant import connect

    expected, _ = _by_hand()
    client = connect()
    try:
        create_hybrid_collection(client, "pipeline-test", 2, 2, 5)
        client.upload_points("pipeline-test", hybrid_points(DENSE, SPARSE, COLBERT, FDE, [{}] * 5))
        hits = client.query_points("pipeline-test", **pipeline_request(*QUERY, **LIMITS)).points
        assert [p.id for p in hits] == [i for i, _ in expected]
        assert [p.score for p in hits] == pytest.approx([s for _, s in expected], abs=1e-5)
    finally:
        client.close()
    with EdgeHybridIndex(DENSE, SPARSE, COLBERT, FDE) as index:
        edge_hits = index.pipeline(*QUERY, **LIMITS)
    assert [i for i, _ in edge_hits] == [i for i, _ in expected]
    assert [s for _, s in edge_hits] == pytest.approx([s for _, s in expected], abs=1e-5)


def test_hybrid_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="lengths"):
        hybrid_points(DENSE[:2], SPARSE, COLBERT, FDE, [{}] * 5)
    with pytest.raises(ValueError, match="empty"):
        hybrid_points([], [], [], [], [])
    with pytest.raises(ValueError, match="first_limit"):
        pipeline_request(*QUERY, first_limit=0, fused_limit=3, limit=2, rrf_k=2)
    with pytest.raises(ValueError, match="bm25_scores and dense_scores"):
        pipeline_by_hand([1.0, 2.0], [1.0], lambda p: [0.0] * len(p), **LIMITS)


def test_a_lexical_first_stage_never_hands_on_passages_it_does_not_match():
    """Issue 22: lesson 5's BM25 ranking was padded to 200 with passages of score 0 in index order, and
    fusion credited them. A lexical ranking ends where the matches end."""
    from course_utils.first_stages.candidates import matched_top_k

    scores = np.array([0.0, 3.0, 0.0, 1.5, 3.0, 0.0])
    assert matched_top_k(scores, 200).tolist() == [1, 4, 3]  # ties: lower index first; no zeros
    assert matched_top_k(scores, 2).tolist() == [1, 4]
    assert matched_top_k(np.zeros(4), 10).tolist() == []
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="k must be"):
            matched_top_k(scores, bad)
    with pytest.raises(ValueError, match="1-D"):
        matched_top_k(np.array([[1.0]]), 1)


def test_fusing_a_matched_bm25_list_credits_no_unmatched_passage():
    from course_utils.first_stages.candidates import matched_top_k
    from course_utils.first_stages.fusion import rrf

    bm25 = np.array([0.0, 2.0, 0.0, 1.0, 0.0, 0.0])
    dense = np.array([0.9, 0.1, 0.8, 0.2, 0.3, 0.7])
    lists = [matched_top_k(bm25, 100).tolist(), np.argsort(-dense, kind="stable")[:3].tolist()]
    fused = dict(rrf(lists, k=60))
    assert set(fused) == {1, 3} | {0, 2, 5}  # passage 4 matches neither list's top: never credited
    assert fused[1] == pytest.approx(1 / 61) and fused[0] == pytest.approx(1 / 61)


def test_muvera_prefetch_and_maxsim_rerank_in_both_engines():
    from course_utils.first_stages.hybrid import muvera_request
    from course_utils.qdrant import connect

    # FDE = identity: MUVERA's dot product is the query FDE's entry; top 3 = passages 2, 3, 1;
    # MaxSim with QUERY's ColBERT rows: 2 -> 1.0 + 0.8 = 1.8, 3 -> 1.0, 1 -> 0.8 + 0.6 = 1.4; passage 4 (1.4)
    # is not among MUVERA's candidates, so the top 2 is [2, 1]
    fde_query, expected = np.array([0.1, 0.5, 0.95, 0.9, 0.3]), [(2, 1.8), (1, 1.4)]
    client = connect()
    try:
        create_hybrid_collection(client, "muvera-test", 2, 2, 5)
        client.upload_points("muvera-test", hybrid_points(DENSE, SPARSE, COLBERT, FDE, [{}] * 5))
        request = muvera_request(fde_query, QUERY[2], candidates=3, limit=2)
        assert request["prefetch"].using == "muvera" and request["prefetch"].limit == 3
        hits = client.query_points("muvera-test", **request).points
        assert [(p.id, round(p.score, 5)) for p in hits] == expected
    finally:
        client.close()
    with EdgeHybridIndex(DENSE, SPARSE, COLBERT, FDE) as index:
        assert [(i, round(s, 5)) for i, s in index.muvera_pipeline(fde_query, QUERY[2], candidates=3, limit=2)] \
            == expected
    with pytest.raises(ValueError, match="candidates"):
        muvera_request(fde_query, QUERY[2], candidates=0, limit=2)


def test_the_muvera_graph_index_reranks_the_same_candidates_exactly():
    from course_utils.first_stages.hybrid import EdgeMuveraIndex

    fde_query, expected = np.array([0.1, 0.5, 0.95, 0.9, 0.3]), [(2, 1.8), (1, 1.4)]  # as the test above
    for graph in (True, False):
        with EdgeMuveraIndex(COLBERT, FDE, graph=graph) as index:
            for exact_prefetch in (True, False):
                hits = index.search(fde_query, QUERY[2], candidates=3, limit=2, exact_prefetch=exact_prefetch)
                assert [(i, round(s, 5)) for i, s in hits] == expected
            assert [i for i, _ in index.search(fde_query, QUERY[2], candidates=5, limit=1, hnsw_ef=8)] == [2]
    with pytest.raises(ValueError, match="hnsw_ef"):
        with EdgeMuveraIndex(COLBERT, FDE) as index:
            index.search(fde_query, QUERY[2], candidates=3, limit=2, hnsw_ef=0)
    with pytest.raises(ValueError, match="one entry per passage"):
        EdgeMuveraIndex(COLBERT[:4], FDE)
    with pytest.raises(ValueError, match="fde contains NaN"):
        EdgeMuveraIndex(COLBERT, np.where(np.eye(5) > 0, np.nan, 0.0))
    with pytest.raises(ValueError, match="m \\(links per node"):
        EdgeMuveraIndex(COLBERT, FDE, m=0)


def test_the_muvera_graph_is_built_and_walked_even_on_a_small_collection():
    """Edge walks the FDE graph of 200 passages (a scan would find every exact candidate): with a tiny
    candidate list the graph misses some of the exact top 10 of random 1,024-d FDEs; without a graph
    (m = 0) the same request never does. The graph's files are in the shard's folder."""
    from pathlib import Path

    from course_utils.first_stages.hybrid import EdgeMuveraIndex

    rng = np.random.default_rng(0)
    fde, queries = rng.normal(size=(200, 1024)), rng.normal(size=(20, 1024))
    colbert = [np.ones((1, 2), dtype=np.float32)] * 200  # equal MaxSim: the rerank keeps the candidates
    missed = {}
    for graph in (True, False):
        with EdgeMuveraIndex(colbert, fde, graph=graph, ef_construct=16) as index:
            missed[graph] = sum(
                len({i for i, _ in index.search(q, [[1.0, 0.0]], candidates=10, limit=10, exact_prefetch=True)}
                    - {i for i, _ in index.search(q, [[1.0, 0.0]], candidates=10, limit=10, hnsw_ef=10)})
                for q in queries)
            graph_files = list(Path(index.folder).glob("segments/*/vector_index-muvera/graph.bin"))
            assert index.build_seconds > 0 and (bool(graph_files) or not graph)
    assert missed[True] > 0 and missed[False] == 0


def test_a_collection_without_muvera_runs_the_hybrid_pipeline():
    from course_utils.qdrant import connect

    expected, _ = _by_hand()
    client = connect()
    try:
        create_hybrid_collection(client, "no-muvera", 2, 2)
        client.upload_points("no-muvera", hybrid_points(DENSE, SPARSE, COLBERT, None, [{}] * 5))
        assert "muvera" not in client.get_collection("no-muvera").config.params.vectors
        hits = client.query_points("no-muvera", **pipeline_request(*QUERY, **LIMITS)).points
        assert [p.id for p in hits] == [i for i, _ in expected]
    finally:
        client.close()
    with EdgeHybridIndex(DENSE, SPARSE, COLBERT) as index:
        assert [i for i, _ in index.pipeline(*QUERY, **LIMITS)] == [i for i, _ in expected]


def test_dbsf_equals_qdrant_client_fusion_and_checks_its_input():
    from qdrant_client import models
    from qdrant_client.hybrid.fusion import distribution_based_score_fusion

    from course_utils.first_stages.fusion import dbsf

    lists = [[("a", 12.0), ("b", 9.0), ("c", 3.0)], [("b", 0.9), ("d", 0.8), ("a", 0.4)], [("e", 2.0)]]
    engine = distribution_based_score_fusion(
        [[models.ScoredPoint(id=i, version=0, score=s) for i, s in pairs]
         for pairs in ([(1, 12.0), (2, 9.0), (3, 3.0)], [(2, 0.9), (4, 0.8), (1, 0.4)], [(5, 2.0)])], limit=10)
    ours = dbsf(lists)
    assert [i for i, _ in ours] == [{1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}[p.id] for p in engine]
    assert [s for _, s in ours] == pytest.approx([p.score for p in engine])
    assert dbsf([[("x", 1.0), ("y", 1.0)]]) == [("x", 0.5), ("y", 0.5)]
    with pytest.raises(ValueError, match=r"scored\[0\]"):
        dbsf([["a", "b"]])
    with pytest.raises(ValueError, match="non-empty"):
        dbsf([])
