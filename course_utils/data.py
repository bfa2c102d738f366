"""The course's texts: the running example of lesson 1, and the course corpus.

The corpus ships with the package (``course_utils/data/``, format described in
its README.md): passages, queries and graded relevance judgements, all written
for this course.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from importlib import resources

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


@dataclass(frozen=True)
class Corpus:
    """The course corpus.

    Attributes:
        passages: ``{passage id: text}`` in file order.
        topics: ``{passage id: topic}``.
        queries: ``{query id: text}`` in file order.
        qrels: ``{query id: {passage id: grade}}``, grades 0 (judged not relevant), 1, 2.
    """

    passages: dict[str, str]
    topics: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

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
    )
