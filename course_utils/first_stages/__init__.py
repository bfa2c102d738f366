"""Cheap first stages before MaxSim reranking (lessons 5a and 5b).

- :mod:`~course_utils.first_stages.lexical`: BM25 over fastembed's sparse vectors, with the engine's IDF;
- :mod:`~course_utils.first_stages.fusion`: reciprocal rank fusion, Qdrant's ``k``, and score fusion (DBSF);
- :mod:`~course_utils.first_stages.token_candidates`: token-level nearest-neighbour candidates;
- :mod:`~course_utils.first_stages.candidates`: how many candidates a first stage needs (recall curves, MUVERA
  sizes);
- :mod:`~course_utils.first_stages.pipelines`: every first stage, alone or with a ColBERT rerank, from a query;
- :mod:`~course_utils.first_stages.hybrid`: the hybrid collection (BM25 + dense + MUVERA + ColBERT) and its
  requests.
"""

__all__: list[str] = []
