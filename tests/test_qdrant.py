"""Qdrant helpers: the course's MaxSim, qdrant-client's embedded mode and Qdrant Edge agree.

No test needs a Qdrant server, and none contacts any address but 127.0.0.1.

Tie order, as found with qdrant-client 1.20 and qdrant-edge-py 0.9: both engines give
identical documents bit-identical scores, but neither orders tied points by id.
qdrant-client's local mode sorts with an unstable ``np.argsort(scores)[::-1]`` (for a
few points that is newest-inserted first; for more, no particular order); Edge returns
ties in an arbitrary order that even differs between limits. So results are put in
the course's order, ``(-score, id)`` (``maxsim.top_k``'s), before being compared.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
import warnings
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from course_utils.lesson.checks import compare, plain
from course_utils.scoring.maxsim import maxsim, score_corpus, top_k
from course_utils.models import COLBERT_DIM, DENSE_DIM
from course_utils.qdrant import (EdgeMaxSimIndex, collection_name, connect, course_vectors_config,
                                 create_course_collection, describe_connection, engine_hits, format_side_by_side,
                                 is_embedded, points_summary, query_request_summary, scores_with_config,
                                 search_fixed_collection, stored_points, to_points, upload_points,
                                 vectors_config_summary)

SMALL_DENSE = 4  # dense size for collections where only the ColBERT vectors matter


# ----- random corpora and comparisons ---------------------------------------------------------

def token_vectors(rng, n_tokens: int, normalise: bool, dim: int = COLBERT_DIM) -> np.ndarray:
    """float32 ``(n_tokens, dim)`` Gaussian rows, scaled to unit length if ``normalise``."""
    rows = rng.standard_normal((n_tokens, dim)).astype(np.float32)
    if normalise:
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def random_case(seed: int, n_unique: int, n_docs: int, query_tokens: int, normalise: bool):
    """A query, ``n_docs`` documents drawn (with repeats) from ``n_unique`` distinct ones, and
    the course's scores, computed once per distinct document so repeats tie exactly.

    Returns:
        (query ``(q, 128)``, list of ``n_docs`` ``(d_k, 128)`` arrays, float32 ``(n_docs,)`` scores).
    """
    rng = np.random.default_rng(seed)
    unique = [token_vectors(rng, int(rng.integers(1, 31)), normalise) for _ in range(n_unique)]
    source = np.concatenate([np.arange(n_unique), rng.integers(0, n_unique, n_docs - n_unique)])
    rng.shuffle(source)
    query = token_vectors(rng, query_tokens, normalise)
    return query, [unique[s] for s in source], score_corpus(query, unique)[source]


def tolerance(expected) -> float:
    """1e-4, relative to the largest score when scores exceed 1 (float32 sums of 128-d dot products)."""
    return 1e-4 * max(1.0, float(np.abs(expected).max()))


def course_order(ids, scores) -> np.ndarray:
    """``ids`` sorted by ``(-score, id)``, the order ``maxsim.top_k`` gives."""
    ids, scores = np.asarray(ids), np.asarray(scores, dtype=np.float64)
    return ids[np.lexsort((ids, -scores))]


def assert_same_results(ids, scores, expected):
    """One engine's full result list ``(ids, scores)`` against the course's scores by document.

    The scores must match; in ``(-score, id)`` order the ranking must equal
    ``top_k(expected)`` exactly, except that documents whose scores differ by less
    than the tolerance (float noise decides their order) may swap.
    """
    n, tol = len(expected), tolerance(expected)
    ids, scores = np.asarray(ids), np.asarray(scores)
    assert sorted(ids.tolist()) == list(range(n)), "every document must come back exactly once"
    np.testing.assert_allclose(scores, expected[ids], rtol=0, atol=tol)
    ranked, reference = course_order(ids, scores), top_k(expected, n)
    distinct = np.unique(expected)
    if len(distinct) < 2 or np.diff(distinct).min() > tol:
        assert ranked.tolist() == reference.tolist()
    else:
        note("near-tied scores: comparing the ranking up to swaps within the tolerance")
        np.testing.assert_allclose(expected[ranked], expected[reference], rtol=0, atol=tol)


def assert_duplicates_tie_exactly(ids, scores, documents):
    """Identical documents got bit-identical scores from the engine."""
    by_content: dict[bytes, set[float]] = {}
    for i, s in zip(ids, scores):
        by_content.setdefault(documents[i].tobytes(), set()).add(float(s))
    assert all(len(values) == 1 for values in by_content.values())


# ----- the three engines ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_client():
    client = QdrantClient(":memory:")
    yield client
    client.close()


def local_mode_search(client: QdrantClient, query, documents) -> tuple[list, list]:
    """Every document ranked by qdrant-client's embedded mode: (ids, scores)."""
    create_course_collection(client, "maxsim", dense_dim=SMALL_DENSE)
    dense = np.ones((len(documents), SMALL_DENSE), dtype=np.float32)
    upload_points(client, "maxsim", to_points(range(len(documents)), dense, documents, dense_dim=SMALL_DENSE),
                  progress=False)
    hits = client.query_points("maxsim", query=query, using="colbert", limit=len(documents)).points
    return [hit.id for hit in hits], [hit.score for hit in hits]


def edge_search(query, documents) -> tuple[np.ndarray, np.ndarray]:
    """Every document ranked by Qdrant Edge: (ids, scores)."""
    with EdgeMaxSimIndex(documents) as index:
        return index.search(query)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n_unique=st.integers(1, 40), extra=st.integers(0, 10),
       query_tokens=st.integers(1, 32), normalise=st.booleans())
def test_course_local_mode_and_edge_agree_on_random_corpora(local_client, seed, n_unique, extra,
                                                            query_tokens, normalise):
    n_docs = min(40, n_unique + extra)
    query, documents, expected = random_case(seed, min(n_unique, n_docs), n_docs, query_tokens, normalise)
    for name, (ids, scores) in {"local mode": local_mode_search(local_client, query, documents),
                                "edge": edge_search(query, documents)}.items():
        note(f"{name}: ids {list(ids)}")
        assert_same_results(ids, scores, expected)
        assert_duplicates_tie_exactly(ids, scores, documents)


@pytest.mark.parametrize("normalise", [True, False])
def test_engines_return_exact_ties_whose_order_the_caller_must_fix(local_client, normalise):
    # 3 distinct documents, 10 copies each, inserted in shuffled order: 3 groups of exact ties
    query, documents, expected = random_case(7, 3, 30, 8, normalise)
    assert len(np.unique(expected)) == 3
    for ids, scores in (local_mode_search(local_client, query, documents), edge_search(query, documents)):
        assert_duplicates_tie_exactly(ids, scores, documents)
        assert course_order(ids, scores).tolist() == top_k(expected, 30).tolist()


def test_edge_index_scores_top_k_and_cleanup():
    query, documents, expected = random_case(3, 12, 12, 5, True)
    with EdgeMaxSimIndex(documents) as index:
        assert "12 documents" in repr(index)
        np.testing.assert_allclose(index.scores(query), expected, atol=1e-5)
        ids, scores = index.search(query, k=3)
        assert ids.tolist() == top_k(expected, 3).tolist() and scores.dtype == np.float32
        with pytest.raises(ValueError, match="query has token vectors of size 64"):
            index.search(np.ones((2, 64)))
        with pytest.raises(ValueError, match="k must be a positive"):
            index.search(query, k=0)
        with pytest.raises(TypeError, match="k must be a positive"):
            index.search(query, k=2.5)
    assert not os.path.exists(index.folder)
    index.close()  # twice is fine


def test_edge_index_rejects_what_edge_would_silently_store():
    bad = np.ones((2, COLBERT_DIM), dtype=np.float32)
    bad[1, 3] = np.nan  # Edge itself stores NaN without complaint
    with pytest.raises(ValueError, match=r"documents\[1\] contains NaN"):
        EdgeMaxSimIndex([np.ones((1, COLBERT_DIM)), bad])


# ----- the collection layout and a rerank query -----------------------------------------------

def test_course_collection_has_the_course_vector_settings(local_client):
    create_course_collection(local_client, "layout")
    vectors = local_client.get_collection("layout").config.params.vectors
    assert vectors == course_vectors_config()
    dense, colbert = vectors["dense"], vectors["colbert"]
    assert (dense.size, dense.distance, dense.multivector_config) == (DENSE_DIM, models.Distance.COSINE, None)
    assert (colbert.size, colbert.distance) == (COLBERT_DIM, models.Distance.DOT)
    assert colbert.multivector_config.comparator == models.MultiVectorComparator.MAX_SIM
    assert colbert.hnsw_config.m == 0
    with pytest.raises(ValueError, match="already exists"):
        create_course_collection(local_client, "layout", replace=False)
    create_course_collection(local_client, "layout")  # replace=True: running a cell again works


def test_prefetch_dense_then_rerank_with_colbert_gives_maxsim_of_candidates(local_client):
    rng = np.random.default_rng(11)
    n, candidates = 30, 8
    dense = rng.standard_normal((n, DENSE_DIM)).astype(np.float32)
    documents = [token_vectors(rng, int(rng.integers(3, 20)), True) for _ in range(n)]
    dense_query, colbert_query = rng.standard_normal(DENSE_DIM).astype(np.float32), token_vectors(rng, 32, True)
    create_course_collection(local_client, "rerank")
    upload_points(local_client, "rerank", to_points(range(n), dense, documents, [{"k": k} for k in range(n)]),
                  progress=False)

    hits = local_client.query_points(
        "rerank", prefetch=models.Prefetch(query=dense_query, using="dense", limit=candidates),
        query=colbert_query, using="colbert", limit=5, with_payload=True).points

    cosine = dense @ dense_query / np.linalg.norm(dense, axis=1) / np.linalg.norm(dense_query)
    shortlist = top_k(cosine, candidates)
    reranked = sorted(shortlist, key=lambda k: -maxsim(colbert_query, documents[k]))[:5]
    assert [hit.id for hit in hits] == reranked
    assert [hit.payload["k"] for hit in hits] == reranked
    np.testing.assert_allclose([hit.score for hit in hits],
                               [maxsim(colbert_query, documents[k]) for k in reranked], atol=1e-5)


# ----- to_points and upload_points ------------------------------------------------------------

def test_to_points_turns_fastembed_outputs_into_points():
    dense = [np.arange(4, dtype=np.float32), np.ones(4, dtype=np.float32)]  # list(embed(...))
    colbert = [np.eye(3, 8, dtype=np.float32), np.ones((1, 8), dtype=np.float32)]
    key = str(uuid.UUID(int=9))
    points = to_points([np.int64(5), key], dense, colbert, [{"text": "a"}, {"text": "b"}], dense_dim=4, colbert_dim=8)
    assert [p.id for p in points] == [5, key]
    assert points[0].vector["dense"] == [0.0, 1.0, 2.0, 3.0]
    assert points[0].vector["colbert"] == np.eye(3, 8).tolist()
    assert points[1].payload == {"text": "b"}
    assert to_points([0], np.ones((1, DENSE_DIM)), [np.ones((2, COLBERT_DIM))])[0].payload is None


@pytest.mark.parametrize("change, message", [
    ({"ids": [0, 1, 2]}, "ids has 3 entries but dense_vectors has 2, colbert_vectors has 2"),
    ({"payloads": [{}]}, "payloads has 1"),
    ({"ids": []}, "ids is empty"),
    ({"ids": [0, 0]}, "ids must be distinct.*repeated: 0"),
    ({"ids": [0, -1]}, r"ids\[1\] is -1: a point id must be a non-negative whole number or a UUID"),
    ({"ids": [0, "doc-1"]}, r"ids\[1\] is 'doc-1'"),
    ({"dense": np.ones((2, 5))}, "dense_vectors has vectors of size 5, but 4 was expected"),
    ({"dense": np.ones(4)}, r"dense_vectors must be 2-D \(documents, 4\), got shape \(4,\)"),
    ({"dense": [np.ones(4), np.ones(3)]}, "dense_vectors must be one vector per document, all of the same size"),
    ({"dense": np.full((2, 4), np.nan)}, "dense_vectors contains NaN"),
    ({"colbert": [np.ones((2, 8)), np.ones((2, 7))]}, r"colbert_vectors\[1\] has token vectors of size 7"),
    ({"colbert": [np.ones((2, 8)), np.ones((0, 8))]}, r"colbert_vectors\[1\] is empty"),
    ({"colbert": [np.ones((2, 8)), np.ones(8)]}, r"colbert_vectors\[1\] must be 2-D"),
])
def test_to_points_bad_input_raises_a_clear_value_error(change, message):
    arguments = {"ids": [0, 1], "dense": np.ones((2, 4)), "colbert": [np.ones((2, 8))] * 2, "payloads": None}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        to_points(arguments["ids"], arguments["dense"], arguments["colbert"], arguments["payloads"],
                  dense_dim=4, colbert_dim=8)


@pytest.mark.parametrize("bad_id", [1.5, None, True, b"doc-1"])
def test_to_points_an_id_of_the_wrong_type_is_a_type_error(bad_id):
    with pytest.raises(TypeError, match=r"ids\[1\] is .*: a point id must be a non-negative whole number or a UUID"):
        to_points([0, bad_id], np.ones((2, 4)), [np.ones((2, 8))] * 2, dense_dim=4, colbert_dim=8)


def test_upload_points_sends_every_point_in_batches(local_client):
    create_course_collection(local_client, "upload", dense_dim=SMALL_DENSE, colbert_dim=8)
    points = to_points(range(10), np.ones((10, SMALL_DENSE)), [np.ones((2, 8))] * 10, dense_dim=SMALL_DENSE,
                       colbert_dim=8)
    assert upload_points(local_client, "upload", points, batch_size=3, progress=False) == 10
    assert local_client.count("upload").count == 10


# ----- connect --------------------------------------------------------------------------------

@pytest.fixture
def no_server(monkeypatch):
    monkeypatch.delenv("QDRANT_URL", raising=False)
    monkeypatch.delenv("QDRANT_API_KEY", raising=False)


def test_connect_without_qdrant_url_uses_embedded_mode_in_memory(no_server, capsys):
    client = connect()
    assert capsys.readouterr().out == ("Using Qdrant's embedded local mode (in memory); "
                                       "set QDRANT_URL to use a server.\n")
    assert describe_connection(client) == "Qdrant's embedded local mode (in memory)"
    assert client.get_collections().collections == []
    client.close()


def test_connect_with_a_path_persists_collections_across_reopening(no_server, tmp_path, capsys):
    folder = tmp_path / "qdrant"
    client = connect(folder)
    assert f"(stored in {folder})" in capsys.readouterr().out
    create_course_collection(client, "kept", dense_dim=SMALL_DENSE, colbert_dim=8)
    upload_points(client, "kept", to_points([1, 2], np.ones((2, SMALL_DENSE)), [np.ones((3, 8))] * 2,
                                            dense_dim=SMALL_DENSE, colbert_dim=8), progress=False)
    client.close()

    reopened = connect(str(folder))
    assert reopened.count("kept").count == 2
    assert reopened.get_collection("kept").config.params.vectors == course_vectors_config(SMALL_DENSE, 8)
    reopened.close()


def free_port() -> int:
    """A 127.0.0.1 port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_failure(url: str, monkeypatch, **kwargs) -> tuple[str, float]:
    """The ConnectionError message of ``connect()`` with ``QDRANT_URL=url``, and the seconds it took."""
    monkeypatch.setenv("QDRANT_URL", url)
    start = time.perf_counter()
    with pytest.raises(ConnectionError) as error:
        connect(**kwargs)
    return str(error.value), time.perf_counter() - start


def test_connect_to_a_closed_port_fails_fast_naming_the_url(no_server, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    message, seconds = connect_failure(url, monkeypatch)
    assert seconds < 5.5
    assert url in message and "QDRANT_URL" in message
    assert "could not connect" in message and "start the server" in message
    assert "unset QDRANT_URL" in message


def test_connect_to_a_server_that_never_answers_gives_up_after_the_timeout(no_server, monkeypatch):
    with socket.socket() as silent:  # accepts connections (the kernel's backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        message, seconds = connect_failure(url, monkeypatch)  # the default timeout, 5 s
    assert 4.5 < seconds < 6.5
    assert url in message and "did not answer within 5 seconds" in message


def test_connect_with_an_unusable_qdrant_url_says_so(no_server, monkeypatch):
    message, _ = connect_failure("ftp://127.0.0.1:1", monkeypatch)
    assert "QDRANT_URL='ftp://127.0.0.1:1' is not an address" in message and "unset it" in message


class FakeQdrant(BaseHTTPRequestHandler):
    """Answers ``GET /collections`` as Qdrant does; 401 unless the api-key header is ``secret``."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        ok = self.path == "/collections" and self.headers.get("api-key") == "secret"
        body = {"result": {"collections": []}, "status": "ok", "time": 0.0} if ok else {"status": {"error": "no"}}
        data = json.dumps(body).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextmanager
def fake_qdrant():
    """A fake Qdrant server on 127.0.0.1; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeQdrant)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_connect_uses_the_server_in_qdrant_url_with_its_api_key(no_server, monkeypatch, capsys):
    with fake_qdrant() as url, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Api key is used with an insecure connection"
        monkeypatch.setenv("QDRANT_URL", url)
        monkeypatch.setenv("QDRANT_API_KEY", "secret")
        client = connect()
        assert capsys.readouterr().out == f"Using the Qdrant server at {url}.\n"
        assert describe_connection(client) == f"the Qdrant server at {url}"
        client.close()

        monkeypatch.setenv("QDRANT_API_KEY", "wrong")
        message, _ = connect_failure(url, monkeypatch)
        assert url in message and "HTTP 401" in message and "QDRANT_API_KEY" in message


# ----- helpers for lesson 4 -------------------------------------------------------------------

def test_embedded_mode_needs_no_network_at_all(no_server, monkeypatch, capsys):
    """connect(), a collection, an upload and every kind of query, with every socket connection refused."""
    def refuse(self, address):
        raise AssertionError(f"the embedded mode tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    client = connect()
    assert is_embedded(client) and "embedded local mode" in capsys.readouterr().out
    create_course_collection(client, "offline", dense_dim=SMALL_DENSE, colbert_dim=8)
    upload_points(client, "offline", to_points([0, 1], np.eye(2, SMALL_DENSE), [np.eye(2, 8), np.full((1, 8), 0.5)],
                                               dense_dim=SMALL_DENSE, colbert_dim=8), progress=False)
    hits = client.query_points("offline", prefetch=models.Prefetch(query=[1.0, 0, 0, 0], using="dense", limit=2),
                               query=np.eye(1, 8), using="colbert", limit=2).points
    assert [hit.id for hit in hits] == [0, 1]
    client.close()


def test_is_embedded_tells_local_modes_from_servers(tmp_path):
    assert is_embedded(QdrantClient(":memory:")) and is_embedded(QdrantClient(path=str(tmp_path)))
    assert not is_embedded(QdrantClient(url="http://127.0.0.1:1", check_compatibility=False))


def test_collection_name_takes_a_prefix_from_the_environment(monkeypatch):
    monkeypatch.delenv("QDRANT_COLLECTION_PREFIX", raising=False)
    assert collection_name("lesson4") == "lesson4"
    monkeypatch.setenv("QDRANT_COLLECTION_PREFIX", " ada ")
    assert collection_name("lesson4") == "ada-lesson4"
    with pytest.raises(ValueError, match="non-empty"):
        collection_name("")


def test_format_side_by_side_lines_up_ranked_lists():
    hit = models.ScoredPoint
    table = format_side_by_side({"a": [hit(id=3, version=0, score=0.5), hit(id=1, version=0, score=0.25)],
                                 "b": [hit(id=7, version=0, score=12.3456)]}, width=10)
    assert table.splitlines() == ["rank  a         b", "1     3 0.5     7 12.35", "2     1 0.25"]


def test_vectors_config_summary_describes_the_course_layout_as_plain_data():
    assert vectors_config_summary(course_vectors_config()) == {
        "dense": {"size": DENSE_DIM, "distance": "Cosine", "multivector": None, "hnsw": "on"},
        "colbert": {"size": COLBERT_DIM, "distance": "Dot", "multivector": "max_sim", "hnsw": "off"}}
    as_dicts = {"v": {"size": 3, "distance": "Dot", "hnsw_config": {"m": 16}}}
    assert vectors_config_summary(as_dicts) == {"v": {"size": 3, "distance": "Dot", "multivector": None, "hnsw": "on"}}
    with pytest.raises(TypeError, match="must be a dict"):
        vectors_config_summary(models.VectorParams(size=3, distance="Dot"))
    with pytest.raises(TypeError, match="the configuration of 'dense' must be a models.VectorParams"):
        vectors_config_summary({"dense": 384})
    with pytest.raises(ValueError, match="not a valid VectorParams"):
        vectors_config_summary({"dense": {"size": "big"}})


def agrees(actual, expected) -> bool:
    """``actual`` equals ``expected`` as a graded check compares them (numbers within 1e-5)."""
    return compare(plain(actual), expected) is None


# The fixed examples of lesson 4's graded tests, worked out by hand here and checked with numpy, so
# that the literals in the lesson are known to be right independently of Qdrant.
EX1_DENSE_QUERY, EX1_DENSE = [1.0, 0.0, 0.0], [[3.0, 4.0, 0.0], [0.0, 0.0, 2.0]]
EX1_COLBERT_QUERY, EX1_COLBERT = [[1.0, 0.0], [0.0, 1.0]], [[[2.0, 1.0]], [[0.5, 0.5], [-1.0, 3.0]]]
# dense (cosine): [3, 4, 0] . [1, 0, 0] / 5 = 0.6; [0, 0, 2] . [1, 0, 0] = 0
# colbert (MaxSim of dot products), query rows [1, 0] and [0, 1]:
#   document 0, one row [2, 1]: 2 + 1 = 3.0
#   document 1, rows [0.5, 0.5] and [-1, 3]: max(0.5, -1) + max(0.5, 3) = 3.5
EX1_EXPECTED = {"dense": [0.6, 0.0], "colbert": [3.0, 3.5]}

EX4_DENSE = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]]  # cosines with [1, 0]: 1, 0.8, 0.6, 0
EX4_COLBERT = [[[1.0, 0.0]], [[0.6, 0.8]], [[0.0, 1.0], [0.8, 0.6]], [[0.0, 1.0], [1.0, 0.0]]]
EX4_TOPICS = ["a", "b", "a", "b"]
EX4_DENSE_QUERY, EX4_COLBERT_QUERY = [1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]]
# MaxSim with query rows [0, 1] and [1, 0]:
#   0: [1, 0]             -> 0 + 1                       = 1.0   topic a
#   1: [0.6, 0.8]         -> 0.8 + 0.6                   = 1.4   topic b
#   2: [0, 1], [0.8, 0.6] -> max(1, 0.6) + max(0, 0.8)   = 1.8   topic a
#   3: [0, 1], [1, 0]     -> 1 + 1                       = 2.0   topic b
# (candidates, limit, topic) -> expected [[id, score], ...]:
EX4_CASES = [
    ((3, 2, None), [[2, 1.8], [1, 1.4]]),             # prefetch keeps 0, 1, 2; the best (3) is not among them
    ((4, 3, None), [[3, 2.0], [2, 1.8], [1, 1.4]]),
    ((2, 2, "b"), [[3, 2.0], [1, 1.4]]),              # candidates among the topic-b points 1 and 3
    ((1, 5, "a"), [[0, 1.0]]),                        # the best topic-a point by the dense vector: 0
]


def numpy_rerank(dense_query, colbert_query, dense, colbert, candidates, limit, topics=None, topic=None):
    """Prefetch by cosine among the eligible points, rerank by MaxSim: [[id, score]], by (-score, id)."""
    dense = np.asarray(dense, dtype=np.float64)
    cosine = dense @ np.asarray(dense_query) / np.linalg.norm(dense, axis=1) / np.linalg.norm(dense_query)
    eligible = [k for k in range(len(dense)) if topic is None or topics[k] == topic]
    shortlist = sorted(eligible, key=lambda k: (-cosine[k], k))[:candidates]
    scored = [(k, maxsim(np.asarray(colbert_query, dtype=np.float32), np.asarray(colbert[k], dtype=np.float32)))
              for k in shortlist]
    return [[k, round(float(s), 6)] for k, s in sorted(scored, key=lambda pair: (-round(pair[1], 6), pair[0]))[:limit]]


def test_lesson_4_fixed_examples_by_hand_agree_with_numpy():
    dense = np.asarray(EX1_DENSE)
    cosines = dense @ EX1_DENSE_QUERY / np.linalg.norm(dense, axis=1)
    assert np.allclose(cosines, EX1_EXPECTED["dense"])
    assert np.allclose([maxsim(np.array(EX1_COLBERT_QUERY), np.array(d)) for d in EX1_COLBERT], EX1_EXPECTED["colbert"])
    for (candidates, limit, topic), expected in EX4_CASES:
        assert numpy_rerank(EX4_DENSE_QUERY, EX4_COLBERT_QUERY, EX4_DENSE, EX4_COLBERT, candidates, limit,
                            EX4_TOPICS, topic) == expected


def test_scores_with_config_runs_the_course_config_and_catches_a_cosine_colbert():
    assert agrees(scores_with_config(course_vectors_config(3, 2), EX1_DENSE_QUERY, EX1_DENSE, EX1_COLBERT_QUERY,
                                     EX1_COLBERT), EX1_EXPECTED)
    cosine = dict(course_vectors_config(3, 2))
    cosine["colbert"] = cosine["colbert"].model_copy(update={"distance": models.Distance.COSINE})
    scores = scores_with_config(cosine, EX1_DENSE_QUERY, EX1_DENSE, EX1_COLBERT_QUERY, EX1_COLBERT)
    assert scores["colbert"] != pytest.approx(EX1_EXPECTED["colbert"])  # Qdrant normalised the stored rows
    with pytest.raises(ValueError, match="Qdrant cannot store these points.*colbert"):
        scores_with_config({"dense": cosine["dense"]}, EX1_DENSE_QUERY, EX1_DENSE, EX1_COLBERT_QUERY, EX1_COLBERT)
    no_multivector = dict(cosine, colbert=models.VectorParams(size=2, distance=models.Distance.DOT))
    with pytest.raises(ValueError, match="Qdrant cannot store these points"):
        scores_with_config(no_multivector, EX1_DENSE_QUERY, EX1_DENSE, EX1_COLBERT_QUERY, EX1_COLBERT)
    with pytest.raises(ValueError, match="cannot create a collection"):
        scores_with_config({"dense": {"size": -1, "distance": "Dot"}}, EX1_DENSE_QUERY, EX1_DENSE,
                           EX1_COLBERT_QUERY, EX1_COLBERT)


def test_points_summary_and_stored_points_show_points_as_plain_data():
    points = to_points([0, 1], np.array([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32),
                       [np.array([[1.0, 0.0]]), np.array([[0.0, 1.0], [0.6, 0.8]])],
                       [{"topic": "a"}, {"topic": "b"}], dense_dim=2, colbert_dim=2)
    summary = points_summary(points)
    assert summary[1] == {"id": 1, "vector": {"dense": [1.0, 0.0], "colbert": [[0.0, 1.0], pytest.approx([0.6, 0.8])]},
                          "payload": {"topic": "b"}}
    assert stored_points(list(reversed(points))) == summary  # sorted by id
    assert stored_points([]) == []
    with pytest.raises(TypeError, match="item 0 is a dict"):
        points_summary([{"id": 0}])
    with pytest.raises(TypeError, match="got NoneType"):
        points_summary(None)
    unnamed = [models.PointStruct(id=0, vector=[1.0, 0.0])]
    with pytest.raises(ValueError, match="needs the named vectors 'dense' and 'colbert'.*one unnamed vector"):
        stored_points(unnamed)
    bad_id = [models.PointStruct(id="p7", vector={"dense": [1.0, 0.0], "colbert": [[1.0, 0.0]]})]
    with pytest.raises(ValueError, match="Qdrant cannot store these points"):
        stored_points(bad_id)


def test_query_request_summary_reads_the_fields_a_rerank_query_sets():
    request = models.QueryRequest(prefetch=models.Prefetch(query=np.array([1.0, 0.0]), using="dense", limit=3),
                                  query=models.NearestQuery(nearest=[[0.0, 1.0]]), using="colbert", limit=2)
    assert query_request_summary(request) == {"prefetch": [{"using": "dense", "limit": 3, "query": [1.0, 0.0]}],
                                              "using": "colbert", "limit": 2, "query": [[0.0, 1.0]]}
    plain = query_request_summary({"query": [1.0, 2.0], "using": "dense"})
    assert plain == {"prefetch": [], "using": "dense", "limit": None, "query": [1.0, 2.0]}
    two = models.QueryRequest(prefetch=[models.Prefetch(using="a", limit=1), models.Prefetch(using="b", limit=2)])
    assert [p["using"] for p in query_request_summary(two)["prefetch"]] == ["a", "b"]
    with pytest.raises(TypeError, match="the request must be a models.QueryRequest, got list"):
        query_request_summary([1.0])


def test_a_query_that_is_not_a_vector_is_summarised_as_checks_plain_makes_it():
    sparse = models.SparseVector(indices=[3], values=[1.0])
    summary = query_request_summary(models.QueryRequest(query=models.NearestQuery(nearest=sparse), using="dense"))
    assert summary["query"] == plain(sparse) and set(summary["query"]) == {"__repr__"}
    assert "SparseVector" in summary["query"]["__repr__"]
    assert compare(summary["query"], [1.0, 0.0]) is not None  # never equal to an expected vector


@pytest.mark.parametrize("case", range(len(EX4_CASES)))
def test_search_fixed_collection_runs_the_lessons_rerank_cases(case):
    (candidates, limit, topic), expected = EX4_CASES[case]
    topic_filter = None if topic is None else models.Filter(
        must=[models.FieldCondition(key="topic", match=models.MatchValue(value=topic))])
    request = models.QueryRequest(
        prefetch=models.Prefetch(query=EX4_DENSE_QUERY, using="dense", limit=candidates, filter=topic_filter),
        query=EX4_COLBERT_QUERY, using="colbert", limit=limit)
    assert agrees(search_fixed_collection(request, EX4_DENSE, EX4_COLBERT, EX4_TOPICS), expected)
    # the same filter on the whole request is passed down into the prefetch
    top_level = request.model_copy(update={"filter": topic_filter, "prefetch": request.prefetch.model_copy(
        update={"filter": None})})
    assert agrees(search_fixed_collection(top_level, EX4_DENSE, EX4_COLBERT, EX4_TOPICS), expected)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), candidates=st.integers(1, 12), limit=st.integers(1, 12),
       topic=st.sampled_from([None, "x", "y"]))
def test_search_fixed_collection_equals_numpy_prefetch_and_maxsim_on_random_points(seed, candidates, limit, topic):
    rng = np.random.default_rng(seed)
    n = 12
    dense = rng.standard_normal((n, 5)).astype(np.float32)
    colbert = [token_vectors(rng, int(rng.integers(1, 6)), True, dim=8) for _ in range(n)]
    topics = [str(t) for t in rng.choice(["x", "y"], n)]
    dense_query, colbert_query = rng.standard_normal(5).astype(np.float32), token_vectors(rng, 4, True, dim=8)
    topic_filter = None if topic is None else models.Filter(
        must=[models.FieldCondition(key="topic", match=models.MatchValue(value=topic))])
    request = models.QueryRequest(
        prefetch=models.Prefetch(query=dense_query, using="dense", limit=candidates, filter=topic_filter),
        query=colbert_query, using="colbert", limit=limit)
    got = search_fixed_collection(request, dense, colbert, topics)
    expected = numpy_rerank(dense_query, colbert_query, dense, colbert, candidates, limit, topics, topic)
    assert [i for i, _ in got] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)


@pytest.mark.parametrize("engine", ["embedded", "edge"])
def test_engine_hits_rank_every_document_by_maxsim_ties_by_id(engine):
    query, documents, expected = random_case(5, 4, 10, 6, True)  # repeats: exact ties
    hits = engine_hits(query, documents, engine)
    assert [i for i, _ in hits] == top_k(expected, 10).tolist()
    np.testing.assert_allclose([s for _, s in hits], expected[top_k(expected, 10)], atol=1e-5)
    assert agrees(engine_hits(EX4_COLBERT_QUERY, EX4_COLBERT, engine), [[3, 2.0], [2, 1.8], [1, 1.4], [0, 1.0]])


def test_engine_hits_rejects_an_unknown_engine():
    with pytest.raises(ValueError, match="engine must be 'embedded' or 'edge'"):
        engine_hits([[1.0]], [[[1.0]]], "server")


def test_grading_helpers_print_nothing_and_warn_nothing(capfd):
    """A graded cell that writes to stderr scores 0 under nbgrader: these run inside graded cells."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = course_vectors_config(3, 2)
        vectors_config_summary(config)
        scores_with_config(config, EX1_DENSE_QUERY, EX1_DENSE, EX1_COLBERT_QUERY, EX1_COLBERT)
        points = to_points([0], [[1.0, 0.0]], [[[1.0, 0.0]]], dense_dim=2, colbert_dim=2)
        stored_points(points)
        request = models.QueryRequest(prefetch=models.Prefetch(query=EX4_DENSE_QUERY, using="dense", limit=2),
                                      query=EX4_COLBERT_QUERY, using="colbert", limit=2)
        query_request_summary(request)
        search_fixed_collection(request, EX4_DENSE, EX4_COLBERT, EX4_TOPICS)
        engine_hits(EX4_COLBERT_QUERY, EX4_COLBERT, "embedded")
        engine_hits(EX4_COLBERT_QUERY, EX4_COLBERT, "edge")
    assert capfd.readouterr() == ("", "")
