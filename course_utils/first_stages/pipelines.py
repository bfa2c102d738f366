"""Every first stage of lessons 3 and 5, alone or followed by an exact ColBERT rerank, in one object.

A pipeline maps a query to a ranking of passage indices, best first:

- ``"BM25"``: the passages sharing a term with the query (never the ones of score 0), by BM25 score;
- ``"dense"``: every passage by cosine; ``"ColBERT (all passages)"``: every passage by exact MaxSim;
- ``"BM25 + dense (RRF)"``: reciprocal rank fusion (paper's k = 60) of the top ``fusion_depth`` of each;
- ``"MUVERA"``: every passage by FDE dot product; ``"token-level"``: the owners of each query token's
  nearest token vectors (:mod:`~course_utils.first_stages.token_candidates`);
- ``"<first stage> -> ColBERT"``: that first stage's top ``candidates``, reordered by exact MaxSim.

Queries come encoded (:class:`QueryVectors`, e.g. from a batch) or as text (:meth:`Pipelines.search`,
which encodes one query with the models, as a search service would).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from course_utils.first_stages.candidates import matched_top_k
from course_utils.first_stages.fusion import rrf
from course_utils.first_stages.lexical import Bm25Index
from course_utils.first_stages.token_candidates import TokenIndex
from course_utils.scoring.maxsim import PackedCorpus, score_corpus, top_k

__all__ = ["FIRST_STAGES", "Pipelines", "QueryVectors", "RERANK"]

RERANK = " -> ColBERT"
#: The first stages, in the order the lessons show them.
FIRST_STAGES = ("BM25", "dense", "BM25 + dense (RRF)", "MUVERA", "token-level")


class QueryVectors(NamedTuple):
    """One query, encoded: dense ``(dense_dim,)``, BM25 sparse vector, ColBERT ``(tokens, dim)``."""

    dense: np.ndarray
    bm25: object
    colbert: np.ndarray


class Pipelines:
    """The pipelines above over one encoded corpus.

    Args:
        dense_passages: ``(n, dense_dim)``; bm25_passages: ``n`` fastembed sparse vectors;
        colbert_passages: ``n`` arrays ``(tokens_i, dim)``;
        muvera: a fastembed ``Muvera`` (or None: no MUVERA pipelines);
        models: ``(dense, bm25, colbert)`` fastembed models for :meth:`search` (or None);
        depth: ranking length; candidates: what a rerank gets; fusion_depth: what RRF fuses of each list;
        per_token: nearest token vectors per query token for ``"token-level"``.
    """

    def __init__(self, dense_passages, bm25_passages: Sequence, colbert_passages: Sequence, *, muvera=None,
                 models: tuple | None = None, depth: int = 200, candidates: int = 30, fusion_depth: int = 100,
                 per_token: int = 64):
        self.dense_passages = np.asarray(dense_passages, dtype=np.float32)
        self.bm25 = Bm25Index(bm25_passages)
        self.colbert_passages = list(colbert_passages)
        self.packed = PackedCorpus.from_documents(self.colbert_passages)
        self.tokens = TokenIndex(self.packed)
        self.muvera, self.models = muvera, models
        self.fde_passages = None if muvera is None else np.array(
            [muvera.process_document(v) for v in self.colbert_passages], dtype=np.float32)
        self.depth, self.candidates, self.fusion_depth, self.per_token = depth, candidates, fusion_depth, per_token
        sizes = {len(self.dense_passages), len(self.bm25), len(self.colbert_passages)}
        if len(sizes) != 1:
            raise ValueError(f"dense_passages, bm25_passages and colbert_passages must have one entry per passage, "
                             f"got the lengths {sorted(sizes)}")

    @property
    def names(self) -> list[str]:
        """Every pipeline this object can run."""
        firsts = [n for n in FIRST_STAGES if self.muvera is not None or n != "MUVERA"]
        return [*firsts, "ColBERT (all passages)", *(n + RERANK for n in firsts)]

    def first_stage(self, name: str, query: QueryVectors) -> np.ndarray:
        """int64 passage indices of first stage ``name`` (one of :data:`FIRST_STAGES`), best first."""
        if name == "BM25":
            return matched_top_k(self.bm25.scores(query.bm25), self.depth)
        if name == "dense":
            return top_k(self.dense_passages @ np.asarray(query.dense, dtype=np.float32), self.depth)
        if name == "BM25 + dense (RRF)":
            lists = [self.first_stage(n, query)[:self.fusion_depth].tolist() for n in ("BM25", "dense")]
            return np.array([i for i, _ in rrf(lists, k=60, limit=self.depth)], dtype=np.int64)
        if name == "MUVERA" and self.muvera is not None:
            fde = self.muvera.process_query(np.asarray(query.colbert)).astype(np.float32)
            return top_k(self.fde_passages @ fde, self.depth)
        if name == "token-level":
            return self.tokens.candidates(query.colbert, self.per_token)[:self.depth]
        raise ValueError(f"unknown first stage {name!r}; choose one of {[n for n in self.names if RERANK not in n]}")

    def rerank_scores(self, query: QueryVectors, candidates) -> np.ndarray:
        """float ``(len(candidates),)`` exact MaxSim of the query with each candidate (passage indices)."""
        return score_corpus(query.colbert, [self.colbert_passages[int(i)] for i in candidates])

    def rerank(self, query: QueryVectors, candidates) -> np.ndarray:
        """``candidates`` (passage indices) reordered by exact MaxSim, best first (ties: given order)."""
        positions = [int(i) for i in candidates]
        maxsim = self.rerank_scores(query, positions)
        return np.array([positions[i] for i in np.argsort(-maxsim, kind="stable")], dtype=np.int64)

    def rank(self, name: str, query: QueryVectors) -> np.ndarray:
        """int64 passage indices of pipeline ``name`` (one of :attr:`names`), best first."""
        if name == "ColBERT (all passages)":
            return top_k(score_corpus(query.colbert, self.packed), self.depth)
        if name.endswith(RERANK):
            return self.rerank(query, self.first_stage(name[:-len(RERANK)], query)[:self.candidates])
        return self.first_stage(name, query)

    def needs(self, name: str) -> set[str]:
        """Which encodings of the query pipeline ``name`` uses: a subset of {"dense", "bm25", "colbert"}."""
        first = name[:-len(RERANK)] if name.endswith(RERANK) else name
        own = {"BM25": {"bm25"}, "dense": {"dense"}, "BM25 + dense (RRF)": {"bm25", "dense"}}.get(first, {"colbert"})
        return own | ({"colbert"} if name.endswith(RERANK) else set())

    def encode(self, text: str, needs=("dense", "bm25", "colbert")) -> QueryVectors:
        """One query's encodings (those in ``needs``; None for the others), with the construction's ``models``."""
        if self.models is None:
            raise ValueError("this Pipelines was made without models: pass models=(dense, bm25, colbert)")
        encoded = {field: next(model.query_embed(text)) if field in needs else None
                   for field, model in zip(QueryVectors._fields, self.models)}
        return QueryVectors(**encoded)

    def search(self, name: str, text: str) -> np.ndarray:
        """Pipeline ``name`` from a query's text: encode it (one query, as a service would), then rank."""
        return self.rank(name, self.encode(text, self.needs(name)))
