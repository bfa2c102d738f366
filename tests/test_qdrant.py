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

from course_utils.maxsim import maxsim, score_corpus, top_k
from course_utils.models import COLBERT_DIM, DENSE_DIM
from course_utils.qdrant import (EdgeMaxSimIndex, connect, course_vectors_config, create_course_collection,
                                 describe_connection, to_points, upload_points)

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
