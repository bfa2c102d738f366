"""The course pages and visual document retrieval (lesson 7).

- :mod:`~course_utils.pages.files`: loading the page images, their queries and judgements;
- :mod:`~course_utils.pages.build`: draws them (``python -m course_utils.pages.build`` rewrites
  ``course_utils/data/pages/``), from :mod:`~course_utils.pages.drawings` (charts, figures) and
  :mod:`~course_utils.pages.documents` (tables, text pages);
- :mod:`~course_utils.pages.vectors`: patch grids, tiling, pooling and query labels of page vectors;
- :mod:`~course_utils.pages.plots`: thumbnails, patch grids and token heatmaps;
- :mod:`~course_utils.pages.search`: page collections in Qdrant (full and pooled vectors, prefetch + rerank);
- :mod:`~course_utils.pages.memory`: whether the machine has the memory a page model needs.
"""

__all__: list[str] = []
