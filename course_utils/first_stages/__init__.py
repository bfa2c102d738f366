"""Cheap first stages before MaxSim reranking (lesson 5).

- :mod:`~course_utils.first_stages.fusion`: reciprocal rank fusion and Qdrant's ``k``;
- :mod:`~course_utils.first_stages.candidates`: how many candidates a first stage needs (recall curves, MUVERA
  sizes);
- :mod:`~course_utils.first_stages.hybrid`: the hybrid collection (BM25 + dense + ColBERT) and its request.
"""

__all__: list[str] = []
