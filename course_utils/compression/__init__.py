"""Making token vectors cheaper to keep and to score (lesson 6).

- :mod:`~course_utils.compression.binary`: one bit per dimension, Hamming MaxSim and float rescoring;
- :mod:`~course_utils.compression.scalar`: int8 quantization and back;
- :mod:`~course_utils.compression.pooling`: token pooling by hierarchical clustering;
- :mod:`~course_utils.compression.edge`: the same quantizations inside a Qdrant Edge shard;
- :mod:`~course_utils.compression.tradeoff`: the size-against-quality plot.
"""

__all__: list[str] = []
