"""The late-interaction math: numpy only, and it imports no other module of the course.

- :mod:`~course_utils.scoring.maxsim`: MaxSim for one document or a packed corpus, top-k (lessons 1-3, used
  by every later lesson);
- :mod:`~course_utils.scoring.metrics`: recall@k, precision@k, MRR@k, nDCG@k, per subset of queries (lessons 3, 5,
  6, 7);
- :mod:`~course_utils.scoring.comparison`: paired per-query differences and their bootstrap interval (lessons 3, 5);
- :mod:`~course_utils.scoring.tokens`: token labels aligned row for row with ColBERT's vectors (lessons 1-2).
"""

__all__: list[str] = []
