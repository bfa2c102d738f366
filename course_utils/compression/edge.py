"""Quantized multivector search in the Qdrant engine itself (Qdrant Edge, in-process).

qdrant-client's embedded mode (``QdrantClient(":memory:")``) searches exactly and ignores
quantization and search parameters; Qdrant Edge runs the server's own Rust code, so it shows
what quantization really does. :class:`QuantizedEdgeIndex` stores documents' token vectors as one
MaxSim multivector per point (dot product, no HNSW graph) with

- ``quantization=None``: float vectors only (``datatype="float16"`` halves them);
- ``"int8"``: plus Qdrant's scalar-quantized copy, one byte per number. This is *not* the
  textbook int8 of :mod:`course_utils.compression.scalar` (``int8_range`` + 256 codes): Qdrant
  cuts ``int(n_vectors * (1 - quantile) / 2)`` values (not a share of the values) off each end of
  a random sample of at most 5,000 token vectors, and uses 128 codes,
  ``alpha = (high - low) / 127``; the query is encoded on the same range (see
  :func:`course_utils.compression.scalar.qdrant_int8_range`). :meth:`QuantizedEdgeIndex.int8_range`
  reads the range the engine chose; it changes from one build to the next when there are more
  than 5,000 token vectors, because the sample is random;
- ``"binary"``: plus a one-bit copy, the sign of each number
  (its score for two vectors is ``dim - 2 * hamming``, as :mod:`course_utils.compression.binary`);
- ``"binary-asymmetric"``: the same bits, the query encoded with 8 bits (``query_encoding``);
- ``"binary-2bit"`` and ``"binary-1.5bit"``: Qdrant's ``BinaryQuantizationEncoding.TwoBits`` and
  ``OneAndHalfBits``: each number is compared with its dimension's mean +- 2/3 of its standard
  deviation (below, around, above: 3 levels in 2 bits), and 1.5 bits shares the second bit of
  each pair of numbers (``lib/quantization/src/encoded_vectors_binary.rs``). They store 2 and
  1.5 bits per number (:data:`BITS_PER_NUMBER`).

:meth:`QuantizedEdgeIndex.search` ``(Q, k, rescore=..., oversampling=...)`` then returns what the
engine returns: with ``rescore=False`` the quantized scores of the quantized top ``k``; with
``rescore=True`` the top ``ceil(k * oversampling)`` by quantized score rescored with the float
vectors. ``exact=True`` ignores the quantized copy.
"""

from __future__ import annotations

import json
import math
import numbers
import shutil
import tempfile
from pathlib import Path

import numpy as np
import qdrant_edge as edge

from course_utils.qdrant.edge_shard import TemporaryShard
from course_utils.scoring.maxsim import PackedCorpus, as_token_vectors

__all__ = ["QuantizedEdgeIndex"]

#: Name of the multivector in the shard.
VECTOR = "colbert"
#: "binary-asymmetric": binary documents, queries encoded with 8 bits (Qdrant's ``query_encoding``).
QUANTIZATIONS = (None, "int8", "binary", "binary-asymmetric", "binary-2bit", "binary-1.5bit")
#: Bits the quantized copy stores per number (before Qdrant pads each vector to whole machine words).
BITS_PER_NUMBER = {"int8": 8, "binary": 1, "binary-asymmetric": 1, "binary-2bit": 2, "binary-1.5bit": 1.5}
_ENCODINGS = {"binary-2bit": edge.BinaryQuantizationEncoding.TwoBits,
              "binary-1.5bit": edge.BinaryQuantizationEncoding.OneAndHalfBits}
DATATYPES = {"float32": edge.VectorStorageDatatype.Float32, "float16": edge.VectorStorageDatatype.Float16}


def _quantization_config(quantization: str | None, quantile: float):
    if quantization is None:
        return None
    if quantization == "int8":
        return edge.ScalarQuantizationConfig(edge.ScalarType.Int8, quantile=quantile)
    if quantization == "binary-asymmetric":
        return edge.BinaryQuantizationConfig(query_encoding=edge.BinaryQuantizationQueryEncoding.Scalar8Bits)
    if quantization in _ENCODINGS:
        return edge.BinaryQuantizationConfig(encoding=_ENCODINGS[quantization])
    return edge.BinaryQuantizationConfig()


class QuantizedEdgeIndex(TemporaryShard):
    """Documents in an in-process Qdrant Edge shard with an optional quantized copy.

    The shard lives in a temporary folder that :meth:`close` (or leaving a ``with`` block)
    deletes. Document ``k`` is point ``k``. The shard is optimized once after loading: Qdrant
    builds the int8 copy only for optimized segments.

    Args:
        documents: ``n`` arrays of shape ``(d_k, dim)`` or a ``PackedCorpus``.
        quantization: one of :data:`QUANTIZATIONS` (see the module docstring).
        quantile: for ``"int8"``: Qdrant's ``quantile`` (it drops ``int(n_sampled_vectors *
            (1 - quantile) / 2)`` values at each end of its sample when choosing the range), in (0.5, 1].
        datatype: how the float vectors are stored: ``"float32"`` or ``"float16"``.

    Raises:
        ValueError: an unknown ``quantization`` or ``datatype``, a ``quantile`` out of range, or
            documents that ``PackedCorpus.from_documents`` rejects.
    """

    def __init__(self, documents, quantization: str | None = None, *, quantile: float = 0.99,
                 datatype: str = "float32", batch_size: int = 256):
        if quantization not in QUANTIZATIONS:
            raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
        if datatype not in DATATYPES:
            raise ValueError(f"datatype must be one of {sorted(DATATYPES)}, got {datatype!r}")
        if not isinstance(quantile, numbers.Real) or not 0.5 < quantile <= 1:
            raise ValueError(f"quantile must be a number in (0.5, 1], got {quantile!r}")
        corpus = PackedCorpus.from_documents(documents)
        self.dim, self.size, self.quantization = corpus.dim, len(corpus), quantization
        params = edge.EdgeVectorParams(
            size=self.dim, distance=edge.Distance.Dot, datatype=DATATYPES[datatype],
            multivector_config=edge.MultiVectorConfig(edge.MultiVectorComparator.MaxSim),
            hnsw_config=edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000),
            quantization_config=_quantization_config(quantization, float(quantile)))
        config = edge.EdgeConfig(vectors={VECTOR: params}, wal_enabled=False,
                                 optimizers=edge.EdgeOptimizersConfig(indexing_threshold=1))
        self.folder = tempfile.mkdtemp(prefix="course-qdrant-edge-")
        try:
            self.shard = edge.EdgeShard.create(self.folder, config)
            for start in range(0, self.size, batch_size):
                stop = min(start + batch_size, self.size)
                points = [edge.Point(k, {VECTOR: corpus.document(k)}) for k in range(start, stop)]
                self.shard.update(edge.UpdateOperation.upsert_points(points))
            self.shard.optimize()
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def search(self, query, k: int | None = None, *, rescore: bool | None = None,
               oversampling: float | None = None, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The engine's top ``k`` (default: every document) for ``query``.

        Args:
            query: ``(q, dim)`` token vectors.
            rescore: rescore the quantized search's candidates with the float vectors (Qdrant's
                default, None, rescores); ignored without quantization.
            oversampling: candidates per result for the rescoring, a number >= 1 (None: 1).
            exact: search the float vectors only, ignoring the quantized copy.

        Returns:
            ``(ids, scores)``: int64 ``(k,)`` document indices, best first, and float32 ``(k,)``
            scores as the engine gives them: ``maxsim(query, document)`` of the stored float
            vectors when rescored or exact, the quantized approximation otherwise (for binary,
            ``sum_i max_j (dim - 2 * hamming)``).

        Raises:
            ValueError: ``k`` not in 1..n, ``oversampling`` < 1, or a query as ``as_token_vectors`` rejects.
        """
        q = as_token_vectors(query, "query", self.dim)
        limit = self.size if k is None else k
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or not 1 <= limit <= self.size:
            raise ValueError(f"k must be a whole number from 1 to {self.size}, got {k!r}")
        if oversampling is not None and (isinstance(oversampling, bool) or not isinstance(oversampling, numbers.Real)
                                         or not math.isfinite(oversampling) or oversampling < 1):
            raise ValueError(f"oversampling must be a number >= 1, got {oversampling!r}")
        quantization = edge.QuantizationSearchParams(
            rescore=rescore, oversampling=None if oversampling is None else float(oversampling))
        request = edge.QueryRequest(limit=int(limit), query=edge.Query.Nearest(q, using=VECTOR),
                                    params=edge.SearchParams(exact=exact, quantization=quantization))
        hits = self.shard.query(request)
        return (np.array([hit.id for hit in hits], dtype=np.int64),
                np.array([hit.score for hit in hits], dtype=np.float32))

    def scores(self, query, *, rescore: bool | None = None) -> np.ndarray:
        """float32 ``(n,)``: ``r[k]`` = the engine's score of document ``k`` (see :meth:`search`)."""
        ids, scores = self.search(query, rescore=rescore)
        out = np.full(self.size, np.nan, dtype=np.float32)
        out[ids] = scores
        return out


    def int8_range(self) -> tuple[float, float]:
        """``(low, high)`` of the int8 copy, as the engine chose it: ``low`` = Qdrant's ``offset``,
        ``high = offset + 127 * alpha``, read from the segment's ``quantized.meta.json``.

        Raises:
            ValueError: the index has no int8 copy. RuntimeError: the engine wrote no such file.
        """
        if self.quantization != "int8":
            raise ValueError(f"int8_range needs an index built with quantization='int8', not {self.quantization!r}")
        found = sorted(Path(self.folder).glob(f"segments/*/vector_storage-{VECTOR}/quantized.meta.json"))
        if not found:
            raise RuntimeError(f"Qdrant Edge wrote no quantized.meta.json under {self.folder}")
        meta = json.loads(found[0].read_text())
        return float(meta["offset"]), float(meta["offset"]) + 127 * float(meta["alpha"])

    def __repr__(self) -> str:
        return f"QuantizedEdgeIndex({self.size} documents, dim {self.dim}, quantization {self.quantization})"
