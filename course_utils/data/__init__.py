"""The course's texts: the running example of lesson 1, and the course corpus (lessons 3-6).

The corpus ships with the package (``course_utils/data/``, format described in
its README.md): passages, queries and graded relevance judgements, all written
for this course. :mod:`~course_utils.data.vocabulary` holds the one definition of a query's subset
(``"lexical"`` or ``"mismatch"``: does it share a content word with its relevant passages?).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from importlib import resources

__all__ = ["BANK_SENTENCES", "QUERY_SUBSETS", "EXAMPLE_DOCUMENTS", "EXAMPLE_QUERY", "Corpus", "load_corpus",
           "random_token_vectors"]

#: The running example: one query and two documents, used from lesson 1 on.
EXAMPLE_QUERY = "What is Qdrant?"
EXAMPLE_DOCUMENTS = (
    "Qdrant is an AI-native vector database and a semantic search engine",
    "Relational databases are not well-suited for search",
)

#: Two sentences in which "bank" means different things (lesson 1, contextual vectors).
BANK_SENTENCES = (
    "We had a picnic on the grassy bank of the river",
    "I opened a savings account at the bank downtown",
)


#: The kinds of query in the corpus (field ``subset`` of queries.jsonl).
QUERY_SUBSETS = ("lexical", "mismatch")


@dataclass(frozen=True)
class Corpus:
    """The course corpus.

    Attributes:
        passages: ``{passage id: text}`` in file order.
        topics: ``{passage id: topic}``.
        queries: ``{query id: text}`` in file order.
        qrels: ``{query id: {passage id: grade}}``, grades 0 (judged not relevant), 1, 2.
        query_subsets: ``{query id: subset}``, one of :data:`QUERY_SUBSETS`: ``"lexical"`` (the
            query shares content words with its relevant passages) or ``"mismatch"`` (it shares
            none: only a model that matches meaning can find them).
    """

    passages: dict[str, str]
    topics: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    query_subsets: dict[str, str]

    def queries_in(self, subset: str) -> list[str]:
        """Ids of the queries of one subset (``"lexical"`` or ``"mismatch"``), in file order."""
        if subset not in QUERY_SUBSETS:
            raise ValueError(f"subset must be one of {QUERY_SUBSETS}, got {subset!r}")
        return [query_id for query_id in self.queries if self.query_subsets[query_id] == subset]

    @property
    def passage_ids(self) -> list[str]:
        return list(self.passages)

    @property
    def passage_texts(self) -> list[str]:
        return list(self.passages.values())


def _read_jsonl(name: str) -> list[dict]:
    text = resources.files("course_utils").joinpath("data", name).read_text(encoding="utf-8")
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"course_utils/data/{name} line {number} is not valid JSON: {error}") from None
    return rows


def _subset(query: dict) -> str:
    subset = query.get("subset")
    if subset not in QUERY_SUBSETS:
        raise ValueError(f"course_utils/data/queries.jsonl: query {query.get('id')!r} has subset {subset!r}; "
                         f"it must be one of {QUERY_SUBSETS}")
    return subset


def load_corpus() -> Corpus:
    """Read the course corpus from the package data.

    Returns:
        a :class:`Corpus`.
    """
    passages = _read_jsonl("passages.jsonl")
    queries = _read_jsonl("queries.jsonl")
    qrels: dict[str, dict[str, int]] = {}
    table = resources.files("course_utils").joinpath("data", "qrels.tsv").read_text(encoding="utf-8")
    for row in csv.DictReader(table.splitlines(), delimiter="\t"):
        qrels.setdefault(row["query_id"], {})[row["passage_id"]] = int(row["relevance"])
    return Corpus(
        passages={p["id"]: p["text"] for p in passages},
        topics={p["id"]: p["topic"] for p in passages},
        queries={q["id"]: q["text"] for q in queries},
        qrels=qrels,
        query_subsets={q["id"]: _subset(q) for q in queries},
    )


def random_token_vectors(n_documents: int, *, min_tokens: int = 20, max_tokens: int = 200, dim: int = 128,
                         seed: int = 0) -> list:
    """Random stand-ins for a corpus's ColBERT vectors, for timing (their scores mean nothing).

    Args:
        n_documents: how many documents.
        min_tokens, max_tokens: each document gets a number of tokens drawn uniformly
            from ``min_tokens..max_tokens`` (both included).
        dim: size of each token vector.
        seed: the same seed gives the same vectors.

    Returns:
        a list of ``n_documents`` float32 arrays of shape ``(d_k, dim)`` whose rows have
        length 1, like the list ``passage_embed`` yields.

    Raises:
        ValueError: ``n_documents`` < 0, ``min_tokens`` < 1, ``max_tokens`` < ``min_tokens`` or ``dim`` < 1.
    """
    import numpy as np

    if n_documents < 0 or min_tokens < 1 or max_tokens < min_tokens or dim < 1:
        raise ValueError(f"need n_documents >= 0, 1 <= min_tokens <= max_tokens and dim >= 1; got "
                         f"n_documents={n_documents}, min_tokens={min_tokens}, max_tokens={max_tokens}, dim={dim}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_tokens, max_tokens + 1, size=n_documents)
    vectors = rng.standard_normal((int(lengths.sum()), dim), dtype=np.float32)
    for start in range(0, len(vectors), 1 << 16):  # in blocks: no temporary as large as the corpus
        block = vectors[start:start + (1 << 16)]
        block /= np.sqrt(np.einsum("ij,ij->i", block, block))[:, None]
    return np.split(vectors, np.cumsum(lengths)[:-1]) if n_documents else []
