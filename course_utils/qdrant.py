"""Storing and searching the course's vectors with Qdrant.

- :func:`connect` opens a ``QdrantClient``: a Qdrant server or cluster when the
  environment variable ``QDRANT_URL`` is set (with ``QDRANT_API_KEY`` if set),
  otherwise Qdrant's embedded local mode, in memory or in a folder. It prints which.
- :func:`create_course_collection` makes the course's collection layout: one point per
  document with two named vectors,

  - ``"dense"``: one 384-d vector (cosine), for fast first-stage retrieval;
  - ``"colbert"``: a multivector, one 128-d row per token, compared with MaxSim
    (dot product per token pair), without an HNSW index: it only reranks candidates.

- :func:`to_points` and :func:`upload_points` turn fastembed's outputs into points and store them.
- :class:`EdgeMaxSimIndex` runs the Qdrant engine itself (Qdrant Edge, in-process)
  as an exact MaxSim reference: ``search(Q)`` gives the document ids and scores it ranks.
- :func:`is_embedded`, :func:`collection_name` (a per-student prefix on a shared server,
  from ``QDRANT_COLLECTION_PREFIX``) and :func:`format_side_by_side` (ranked lists as a table).
- For graded tests (lesson 4), functions that turn what a student builds into plain data
  and run it on a small in-memory collection of fixed vectors: :func:`vectors_config_summary`,
  :func:`scores_with_config`, :func:`points_summary`, :func:`stored_points`,
  :func:`query_request_summary`, :func:`search_fixed_collection`, :func:`engine_hits`.

A rerank query in a lesson looks like this::

    client.query_points(name, prefetch=models.Prefetch(query=dense_query, using="dense", limit=100),
                        query=colbert_query, using="colbert", limit=10)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import qdrant_edge as edge
from qdrant_client import QdrantClient, models

from course_utils.maxsim import PackedCorpus, as_token_vectors
from course_utils.models import COLBERT_DIM, DENSE_DIM

#: Names of the two vectors each point of a course collection has.
DENSE_VECTOR = "dense"
COLBERT_VECTOR = "colbert"


# ----- connecting -----------------------------------------------------------------------------

def describe_connection(client: QdrantClient) -> str:
    """Where ``client`` keeps its data, in words, e.g. ``"the Qdrant server at http://localhost:6333"``."""
    options = client.init_options
    location = options.get("location")
    url = options.get("url") or (location if location not in (None, ":memory:") else None)
    if url:
        return f"the Qdrant server at {url}"
    if options.get("host"):
        return f"the Qdrant server at {options['host']}:{options.get('port')}"
    if options.get("path"):
        return f"Qdrant's embedded local mode (stored in {options['path']})"
    return "Qdrant's embedded local mode (in memory)"


def is_embedded(client: QdrantClient) -> bool:
    """True when ``client`` runs Qdrant's embedded local mode (in memory or in a folder), False for a server."""
    options = client.init_options
    return options.get("location") == ":memory:" or bool(options.get("path"))


def _first_answer(client: QdrantClient, timeout: float) -> BaseException | None:
    """Ask the server for its collections; the error it raised, None if it answered.

    The question runs in a background thread that is given up after ``timeout``
    seconds, so no network problem (a host that never answers, slow DNS) can block.
    """
    outcome: list[BaseException | None] = []

    def ask() -> None:
        try:
            client.get_collections()
            outcome.append(None)
        except Exception as error:  # noqa: BLE001 - reported to the caller
            outcome.append(error)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else TimeoutError(f"no answer within {timeout:g} s")


def _connect_to_server(url: str, api_key: str | None, timeout: float) -> QdrantClient:
    """A client for the server at ``url``, checked to answer within ``timeout`` seconds."""
    import httpx  # qdrant-client talks to servers through it

    try:
        # check_compatibility=False: that check would warn later, from a thread, in some other cell
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout, check_compatibility=False)
    except Exception as error:  # noqa: BLE001 - an unknown scheme, a malformed host...
        raise ConnectionError(f"QDRANT_URL={url!r} is not an address qdrant-client can use ({error}); "
                              "correct it (e.g. http://localhost:6333), or unset it to use Qdrant's "
                              "embedded local mode") from error
    error = _first_answer(client, timeout)
    if error is None:
        return client
    client.close()
    cause = getattr(error, "source", None) or error  # qdrant-client wraps httpx's errors
    status = getattr(error, "status_code", None)
    if status in (401, 403):
        what = f"it refused the request (HTTP {status}): check QDRANT_API_KEY"
    elif isinstance(cause, (TimeoutError, httpx.TimeoutException)):
        what = f"it did not answer within {timeout:g} seconds"
    elif isinstance(cause, httpx.ConnectError):
        what = f"could not connect ({cause})"
    else:
        what = f"the request failed: {cause!r}"
    raise ConnectionError(
        f"Cannot use the Qdrant server at {url} (from the environment variable QDRANT_URL): {what}.\n"
        "To fix it, do one of these:\n"
        "  1. start the server (for example `docker run -p 6333:6333 qdrant/qdrant`) and run this again;\n"
        "  2. correct QDRANT_URL (and QDRANT_API_KEY) if they point to the wrong place;\n"
        "  3. unset QDRANT_URL to use Qdrant's embedded local mode, which needs no server.") from error


def connect(path: str | os.PathLike | None = None, *, timeout: float = 5.0) -> QdrantClient:
    """Open a Qdrant client: a server if ``QDRANT_URL`` is set, else the embedded local mode.

    Prints one line saying which was chosen.

    Args:
        path: folder for the embedded local mode to store collections in (they
            persist across restarts); None keeps them in memory. Ignored with a server.
        timeout: seconds the server has to answer a first request (also the
            client's timeout for every later request to it).

    Returns:
        a ``QdrantClient``; both kinds answer the same calls.

    Raises:
        ConnectionError: ``QDRANT_URL`` is set but is not a usable address, or the
            server there does not answer within ``timeout`` seconds, or refuses the
            API key; the message names the URL and what to do.
    """
    url = os.environ.get("QDRANT_URL", "").strip()
    if url:
        client = _connect_to_server(url, os.environ.get("QDRANT_API_KEY") or None, timeout)
    elif path is not None:
        client = QdrantClient(path=str(path))
    else:
        client = QdrantClient(":memory:")
    hint = "" if url else "; set QDRANT_URL to use a server"
    print(f"Using {describe_connection(client)}{hint}.")
    return client


# ----- the course's collection ----------------------------------------------------------------

def course_vectors_config(dense_dim: int = DENSE_DIM,
                          colbert_dim: int = COLBERT_DIM) -> dict[str, models.VectorParams]:
    """The named vectors of a course collection.

    Returns:
        ``{"dense": cosine, size dense_dim; "colbert": MaxSim multivector of dot products,
        size colbert_dim per token, HNSW off (m=0): it is used to rerank, not to search)}``.
    """
    return {
        DENSE_VECTOR: models.VectorParams(size=dense_dim, distance=models.Distance.COSINE),
        COLBERT_VECTOR: models.VectorParams(
            size=colbert_dim,
            distance=models.Distance.DOT,
            multivector_config=models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM),
            hnsw_config=models.HnswConfigDiff(m=0),
        ),
    }


def create_course_collection(client: QdrantClient, name: str, *, dense_dim: int = DENSE_DIM,
                             colbert_dim: int = COLBERT_DIM, replace: bool = True) -> None:
    """Create the collection ``name`` with :func:`course_vectors_config`.

    Args:
        replace: delete an existing collection of that name first (so a lesson cell
            can be run again); with False, an existing collection raises ``ValueError``.
    """
    if client.collection_exists(name):
        if not replace:
            raise ValueError(f"a collection named {name!r} already exists; pass replace=True to recreate it")
        client.delete_collection(name)
    client.create_collection(name, vectors_config=course_vectors_config(dense_dim, colbert_dim))


def _as_point_id(value, index: int) -> int | str:
    """A point id as Qdrant takes it: a non-negative int, or a UUID string."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 0:
        return int(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise ValueError(f"ids[{index}] is {value!r}: a point id must be a non-negative whole number or a UUID string")


def _as_dense_rows(dense_vectors) -> np.ndarray:
    """``dense_vectors`` (an array or a list of vectors) as one float32 array."""
    rows = dense_vectors if isinstance(dense_vectors, np.ndarray) else list(dense_vectors)
    try:
        return np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError) as error:  # vectors of different sizes, or not numbers
        raise ValueError(f"dense_vectors must be one vector per document, all of the same size: {error}") from None


def to_points(ids: Sequence, dense_vectors, colbert_vectors: Sequence, payloads: Sequence[dict] | None = None, *,
              dense_dim: int = DENSE_DIM, colbert_dim: int = COLBERT_DIM) -> list[models.PointStruct]:
    """One point per document, from fastembed's outputs.

    Args:
        ids: ``n`` distinct ids (non-negative ints or UUID strings).
        dense_vectors: ``(n, dense_dim)`` array, or ``n`` vectors of ``dense_dim``
            (``list(TextEmbedding(...).embed(texts))``).
        colbert_vectors: ``n`` arrays of shape ``(d_k, colbert_dim)``
            (``list(LateInteractionTextEmbedding(...).passage_embed(texts))``).
        payloads: ``n`` dicts stored with the points (e.g. ``{"text": ...}``), or None.

    Returns:
        ``n`` ``PointStruct``; point ``k`` has ``vector={"dense": dense_vectors[k],
        "colbert": colbert_vectors[k]}`` as lists of floats and ``payload=payloads[k]``.

    Raises:
        ValueError: the inputs have different lengths, an id is repeated or invalid,
            or a vector has the wrong shape, is empty or not finite (the argument is named).
    """
    ids, colbert_vectors = list(ids), list(colbert_vectors)
    n = len(ids)
    if n == 0:
        raise ValueError("ids is empty: give at least one document")
    dense = _as_dense_rows(dense_vectors)
    if dense.ndim != 2:
        raise ValueError(f"dense_vectors must be 2-D (documents, {dense_dim}), got shape {dense.shape}")
    lengths = {"dense_vectors": len(dense), "colbert_vectors": len(colbert_vectors)}
    if payloads is not None:
        lengths["payloads"] = len(payloads)
    wrong = {key: count for key, count in lengths.items() if count != n}
    if wrong:
        raise ValueError(f"ids has {n} entries but " + ", ".join(f"{key} has {count}" for key, count in wrong.items())
                         + ": give one of each per document")
    if dense.shape[1] != dense_dim:
        raise ValueError(f"dense_vectors has vectors of size {dense.shape[1]}, but {dense_dim} was expected "
                         f"(shape {dense.shape})")
    if not np.isfinite(dense).all():
        raise ValueError("dense_vectors contains NaN or infinity")
    point_ids = [_as_point_id(value, k) for k, value in enumerate(ids)]
    repeated = [str(i) for i, count in Counter(point_ids).items() if count > 1]
    if repeated:
        raise ValueError(f"ids must be distinct (a repeated id overwrites a point); repeated: {', '.join(repeated)}")
    colbert = [as_token_vectors(c, f"colbert_vectors[{k}]", colbert_dim) for k, c in enumerate(colbert_vectors)]
    return [models.PointStruct(id=point_ids[k],
                               vector={DENSE_VECTOR: dense[k].tolist(), COLBERT_VECTOR: colbert[k].tolist()},
                               payload=None if payloads is None else payloads[k])
            for k in range(n)]


def upload_points(client: QdrantClient, name: str, points: Sequence[models.PointStruct], *,
                  batch_size: int = 64, progress: bool = True) -> int:
    """Upsert ``points`` into collection ``name``, ``batch_size`` at a time, with a progress bar.

    Returns:
        the number of points sent.
    """
    from tqdm.auto import tqdm

    points = list(points)
    with tqdm(total=len(points), desc=f"Uploading to {name}", unit="point", disable=not progress) as bar:
        for start in range(0, len(points), batch_size):
            batch = points[start:start + batch_size]
            client.upsert(name, points=batch, wait=True)
            bar.update(len(batch))
    return len(points)


# ----- Qdrant Edge: the engine's own MaxSim, in-process ---------------------------------------

class EdgeMaxSimIndex:
    """Documents' token vectors in an in-process Qdrant Edge shard, searched exactly with MaxSim.

    The shard lives in a temporary folder that :meth:`close` (or leaving a ``with``
    block) deletes. Document ``k`` is stored as point id ``k``::

        with EdgeMaxSimIndex(documents) as index:
            ids, scores = index.search(query, k=10)

    Args:
        documents: ``n`` arrays of shape ``(d_k, dim)`` (or a ``PackedCorpus``).
        batch_size: documents sent to the shard per update.

    Raises:
        ValueError: as ``PackedCorpus.from_documents`` (empty, wrong shape, NaN...).
            Edge itself would store NaN without complaint.
    """

    def __init__(self, documents, *, batch_size: int = 256):
        corpus = PackedCorpus.from_documents(documents)
        self.dim, self.size = corpus.dim, len(corpus)
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-")
        try:
            self.shard = edge.EdgeShard.create(self.folder, self._config(self.dim))
            for start in range(0, self.size, batch_size):
                points = [edge.Point(k, {COLBERT_VECTOR: corpus.document(k)})
                          for k in range(start, min(start + batch_size, self.size))]
                self.shard.update(edge.UpdateOperation.upsert_points(points))
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @staticmethod
    def _config(dim: int) -> edge.EdgeConfig:
        """A shard with one multivector, ``"colbert"``: MaxSim of dot products, no HNSW graph."""
        colbert = edge.EdgeVectorParams(
            size=dim,
            distance=edge.Distance.Dot,  # Cosine would normalise the stored vectors
            multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
            hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
        )
        return edge.EdgeConfig(vectors={COLBERT_VECTOR: colbert}, wal_enabled=False)

    def search(self, query, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` documents (default: all) with the highest MaxSim, by exact search.

        Args:
            query: ``(q, dim)`` token vectors.

        Returns:
            ``(ids, scores)``: int64 ``(k,)`` document indices, best first, and float32 ``(k,)``
            scores with ``scores[i] = maxsim(query, documents[ids[i]])`` as Qdrant computes it.
            Edge orders tied scores arbitrarily (not by id).
        """
        q = as_token_vectors(query, "query", self.dim)
        limit = self.size if k is None else k
        if not isinstance(limit, (int, np.integer)) or limit < 1:
            raise ValueError(f"k must be a positive whole number, got {k!r}")
        request = edge.QueryRequest(limit=int(limit), query=edge.Query.Nearest(q, using=COLBERT_VECTOR),
                                    params=edge.SearchParams(exact=True))
        hits = self.shard.query(request)
        return (np.array([hit.id for hit in hits], dtype=np.int64),
                np.array([hit.score for hit in hits], dtype=np.float32))

    def scores(self, query) -> np.ndarray:
        """float32 ``(n,)`` array ``r`` with ``r[k] = maxsim(query, documents[k])`` as Qdrant computes it."""
        ids, scores = self.search(query)
        out = np.empty(self.size, dtype=np.float32)
        out[ids] = scores
        return out

    def close(self) -> None:
        """Close the shard and delete its folder (safe to call twice)."""
        if getattr(self, "shard", None) is not None:
            self.shard.close()
            self.shard = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "EdgeMaxSimIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EdgeMaxSimIndex({self.size} documents, dim {self.dim}, folder {self.folder})"


# ----- collection names on a shared server ----------------------------------------------------

def collection_name(base: str) -> str:
    """The name a lesson should give its collection ``base``.

    On a Qdrant server that a whole class shares, every student needs collections of
    their own (recreating a collection deletes the old one). Set the environment
    variable ``QDRANT_COLLECTION_PREFIX`` (for example to your user name) and this
    returns ``"<prefix>-<base>"``; without it, ``base`` unchanged.

    Raises:
        ValueError: ``base`` is empty.
    """
    if not base:
        raise ValueError("base must be a non-empty collection name")
    prefix = os.environ.get("QDRANT_COLLECTION_PREFIX", "").strip()
    return f"{prefix}-{base}" if prefix else base


# ----- showing results ------------------------------------------------------------------------

def format_side_by_side(results: Mapping[str, Sequence], label: Callable[[object], str] | None = None,
                        *, width: int = 24) -> str:
    """Several ranked result lists as one text table, one column per list.

    Args:
        results: ``{column title: hits}``, each ``hits`` a list of ``ScoredPoint`` (what
            ``query_points(...).points`` returns), best first.
        label: what to show for a hit before its score (default: its id).
        width: characters per column.

    Returns:
        the table: a header line, then one line per rank with ``label score`` in each column
        (a column that has run out of hits is left blank).
    """
    label = label or (lambda hit: str(hit.id))
    columns = list(results.items())
    lines = ["rank  " + "".join(f"{title[:width - 1]:<{width}}" for title, _ in columns)]
    for rank in range(max((len(hits) for _, hits in columns), default=0)):
        cells = []
        for _, hits in columns:
            cell = f"{label(hits[rank])} {hits[rank].score:.4g}" if rank < len(hits) else ""
            cells.append(f"{cell[:width - 1]:<{width}}")
        lines.append(f"{rank + 1:<6}" + "".join(cells))
    return "\n".join(line.rstrip() for line in lines)


# ----- plain descriptions and fixed-vector runs, for graded tests ------------------------------
#
# A graded check compares plain data (numbers, strings, lists, dicts) with a literal. These
# functions turn the qdrant-client objects a student's function returns into such data, and run
# them on a small in-memory collection built from fixed vectors. They are course code, so a
# check can trust them; they print nothing and emit no warning (a graded cell must stay silent).

_CHECK_COLLECTION = "check"


def _score(value: float) -> float:
    """A score as plain data: float32 noise rounded away (6 decimals)."""
    return round(float(value), 6)


def _as_model(value, model_class, where: str):
    """``value`` as a qdrant-client ``model_class`` (a dict is validated into one).

    Raises:
        ValueError: a dict that is not a valid ``model_class``.
        TypeError: anything else.
    """
    if isinstance(value, model_class):
        return value
    if isinstance(value, Mapping):
        try:
            return model_class.model_validate(dict(value))
        except ValueError as error:
            raise ValueError(f"{where} is not a valid {model_class.__name__}: {error}") from None
    raise TypeError(f"{where} must be a models.{model_class.__name__}, got {type(value).__name__}")


def vectors_config_summary(config) -> dict[str, dict]:
    """A collection's named-vector configuration as plain data.

    Args:
        config: ``{vector name: models.VectorParams}`` (what ``vectors_config=`` takes).

    Returns:
        ``{name: {"size": int, "distance": "Cosine" | "Dot" | "Euclid" | "Manhattan",
        "multivector": comparator name ("max_sim") or None, "hnsw": "off" if its HNSW graph
        is disabled (m=0) else "on"}}``.

    Raises:
        TypeError: ``config`` is not a dict of ``VectorParams``.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"the configuration must be a dict {{vector name: models.VectorParams}}, "
                        f"got {type(config).__name__}")
    summary = {}
    for name, value in config.items():
        params = _as_model(value, models.VectorParams, f"the configuration of {name!r}")
        multivector = params.multivector_config
        hnsw = params.hnsw_config
        summary[str(name)] = {
            "size": int(params.size),
            "distance": models.Distance(params.distance).value,
            "multivector": None if multivector is None else models.MultiVectorComparator(multivector.comparator).value,
            "hnsw": "off" if hnsw is not None and hnsw.m == 0 else "on",
        }
    return summary


class _ScratchCollection:
    """An in-memory collection named ``"check"`` with the given vectors config, closed on exit."""

    def __init__(self, vectors_config):
        self.client = QdrantClient(":memory:")
        try:
            self.client.create_collection(_CHECK_COLLECTION, vectors_config=vectors_config)
        except Exception as error:
            self.client.close()
            raise ValueError(f"Qdrant cannot create a collection with this configuration: {error}") from None

    def upsert(self, points) -> None:
        try:
            self.client.upsert(_CHECK_COLLECTION, points=list(points), wait=True)
        except Exception as error:
            raise ValueError(f"Qdrant cannot store these points: {error}") from None

    def __enter__(self) -> "_ScratchCollection":
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()


def _hits(points) -> list[list]:
    """``[[id, score], ...]`` in the order given."""
    return [[hit.id, _score(hit.score)] for hit in points]


def _course_order(points) -> list:
    """Hits sorted by (-score, id): the engines order exact ties arbitrarily."""
    return sorted(points, key=lambda hit: (-_score(hit.score), hit.id))


def scores_with_config(config, dense_query, dense_vectors, colbert_query, colbert_vectors) -> dict[str, list]:
    """Scores that an embedded Qdrant collection created with ``config`` gives fixed documents.

    Creates an in-memory collection with ``vectors_config=config``, stores document ``k``
    as point ``k`` with vectors ``{"dense": dense_vectors[k], "colbert": colbert_vectors[k]}``,
    and queries each named vector with its query.

    Returns:
        ``{"dense": [score of document 0, 1, ...], "colbert": [...]}``.

    Raises:
        ValueError: Qdrant rejects the configuration or the vectors (its message included).
    """
    n = len(dense_vectors)
    points = [models.PointStruct(id=k, vector={DENSE_VECTOR: list(map(float, dense_vectors[k])),
                                               COLBERT_VECTOR: np.asarray(colbert_vectors[k], float).tolist()})
              for k in range(n)]
    with _ScratchCollection(config) as scratch:
        scratch.upsert(points)
        result = {}
        for name, query in ((DENSE_VECTOR, dense_query), (COLBERT_VECTOR, colbert_query)):
            try:
                hits = scratch.client.query_points(_CHECK_COLLECTION, query=np.asarray(query, float).tolist(),
                                                   using=name, limit=n).points
            except Exception as error:
                raise ValueError(f"Qdrant cannot query the vector {name!r}: {error}") from None
            by_id = {hit.id: hit.score for hit in hits}
            result[name] = [_score(by_id[k]) for k in range(n)]
    return result


def _point_as_plain(point) -> dict:
    vector = point.vector
    if isinstance(vector, Mapping):
        vector = {str(name): np.asarray(value, dtype=float).tolist() for name, value in vector.items()}
    else:
        vector = np.asarray(vector, dtype=float).tolist()
    return {"id": point.id, "vector": vector, "payload": point.payload}


def points_summary(points) -> list[dict]:
    """Points as plain data: ``[{"id": ..., "vector": {name: lists of floats}, "payload": dict}]``.

    Raises:
        TypeError: ``points`` is not a list of ``models.PointStruct``.
    """
    if not isinstance(points, (list, tuple)):
        raise TypeError(f"expected a list of models.PointStruct, got {type(points).__name__}")
    for k, point in enumerate(points):
        if not isinstance(point, models.PointStruct):
            raise TypeError(f"expected a list of models.PointStruct, but item {k} is a {type(point).__name__}")
    return [_point_as_plain(point) for point in points]


def stored_points(points) -> list[dict]:
    """``points`` stored in an embedded course collection and read back, as plain data.

    The collection has the course's layout (:func:`course_vectors_config`), sized from the
    first point's vectors. Cosine vectors are stored scaled to length 1, as Qdrant does.

    Returns:
        ``points_summary`` of the stored points, sorted by id.

    Raises:
        TypeError: as :func:`points_summary`.
        ValueError: the points lack the course's two named vectors, or Qdrant rejects them.
    """
    summary = points_summary(points)
    if not summary:
        return []
    first = summary[0]["vector"]
    if not isinstance(first, dict) or set(first) != {DENSE_VECTOR, COLBERT_VECTOR}:
        raise ValueError(f"each point needs the named vectors {DENSE_VECTOR!r} and {COLBERT_VECTOR!r}; "
                         f"the first has {sorted(first) if isinstance(first, dict) else 'one unnamed vector'}")
    try:
        dense_dim, colbert_dim = len(first[DENSE_VECTOR]), len(first[COLBERT_VECTOR][0])
    except (TypeError, IndexError):
        raise ValueError("the first point's colbert vector must be a list of token vectors") from None
    with _ScratchCollection(course_vectors_config(dense_dim, colbert_dim)) as scratch:
        scratch.upsert(points)
        ids = [point["id"] for point in summary]
        records = scratch.client.retrieve(_CHECK_COLLECTION, ids=ids, with_payload=True, with_vectors=True)
    return sorted((_point_as_plain(record) for record in records), key=lambda p: (str(type(p["id"])), p["id"]))


def _query_vector(query):
    """The vector(s) of a query as plain lists (a raw vector or a ``NearestQuery``)."""
    if isinstance(query, models.NearestQuery):
        query = query.nearest
    if query is None or isinstance(query, (str, int)):
        return query
    try:
        return np.asarray(query, dtype=float).tolist()
    except (TypeError, ValueError):
        return {"__repr__": repr(query)[:200]}


def query_request_summary(request) -> dict:
    """A ``models.QueryRequest`` as plain data.

    Returns:
        ``{"prefetch": [{"using": str, "limit": int, "query": vector}, ...], "using": str,
        "limit": int, "query": vector or list of token vectors}``; vectors as lists of floats.
        ``prefetch`` is empty when the request has none. Filters are left out: run the
        request with :func:`search_fixed_collection` to see what they select.

    Raises:
        TypeError: ``request`` is not a ``QueryRequest``.
    """
    request = _as_model(request, models.QueryRequest, "the request")
    prefetch = request.prefetch
    prefetches = [] if prefetch is None else list(prefetch) if isinstance(prefetch, list) else [prefetch]
    return {
        "prefetch": [{"using": p.using, "limit": p.limit, "query": _query_vector(p.query)} for p in prefetches],
        "using": request.using,
        "limit": request.limit,
        "query": _query_vector(request.query),
    }


def search_fixed_collection(request, dense_vectors, colbert_vectors, topics: Sequence[str] | None = None
                            ) -> list[list]:
    """Run ``request`` on an embedded course collection built from fixed vectors.

    Document ``k`` becomes point ``k`` with vectors ``{"dense": dense_vectors[k],
    "colbert": colbert_vectors[k]}`` and payload ``{"topic": topics[k]}`` (if given), in a
    collection with the course's layout sized from the vectors.

    Returns:
        ``[[id, score], ...]`` best first, as Qdrant ranks them (exact ties by id).

    Raises:
        TypeError: ``request`` is not a ``QueryRequest``.
        ValueError: Qdrant rejects the request (its message included).
    """
    request = _as_model(request, models.QueryRequest, "the request")
    dense = _as_dense_rows(dense_vectors)
    colbert = [np.asarray(c, dtype=np.float32) for c in colbert_vectors]
    payloads = None if topics is None else [{"topic": topic} for topic in topics]
    points = to_points(range(len(dense)), dense, colbert, payloads, dense_dim=dense.shape[1],
                       colbert_dim=colbert[0].shape[1])
    with _ScratchCollection(course_vectors_config(dense.shape[1], colbert[0].shape[1])) as scratch:
        scratch.upsert(points)
        try:
            response = scratch.client.query_batch_points(_CHECK_COLLECTION, requests=[request])[0]
        except Exception as error:
            raise ValueError(f"Qdrant cannot run this request: {error}") from None
    return _hits(_course_order(response.points))


def engine_hits(colbert_query, colbert_vectors, engine: str = "embedded") -> list[list]:
    """Every document ranked by an engine's MaxSim: ``[[id, score], ...]``, best first.

    Document ``k`` is ``colbert_vectors[k]`` (point id ``k``).

    Args:
        engine: ``"embedded"`` (qdrant-client's local mode, Python) or ``"edge"`` (Qdrant
            Edge: the Rust engine of the Qdrant server, in-process).

    Returns:
        ``[[id, score], ...]`` for all documents, sorted by (-score, id).

    Raises:
        ValueError: an unknown engine, or vectors as ``PackedCorpus.from_documents`` rejects.
    """
    documents = [np.asarray(c, dtype=np.float32) for c in colbert_vectors]
    query = as_token_vectors(colbert_query, "colbert_query")
    if engine == "edge":
        with EdgeMaxSimIndex(documents) as index:
            ids, scores = index.search(query)
        return sorted(([i, _score(s)] for i, s in zip(ids.tolist(), scores.tolist())),
                      key=lambda pair: (-pair[1], pair[0]))
    if engine != "embedded":
        raise ValueError(f"engine must be 'embedded' or 'edge', got {engine!r}")
    dim = query.shape[1]
    points = to_points(range(len(documents)), np.ones((len(documents), 1)), documents, dense_dim=1, colbert_dim=dim)
    with _ScratchCollection(course_vectors_config(1, dim)) as scratch:
        scratch.upsert(points)
        hits = scratch.client.query_points(_CHECK_COLLECTION, query=query, using=COLBERT_VECTOR,
                                           limit=len(documents)).points
    return _hits(_course_order(hits))
