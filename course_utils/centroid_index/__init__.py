"""A PLAID-style centroid index for late interaction at scale (lesson 8).

- :mod:`~course_utils.centroid_index.token_candidates`: each query token's nearest corpus tokens and
  their passages (ColBERT's original end-to-end retrieval);
- :mod:`~course_utils.centroid_index.centroids`: how many centroids, spherical k-means, assignment;
- :mod:`~course_utils.centroid_index.residuals`: ColBERTv2's residual codec in 1, 2 or 4 bits;
- :mod:`~course_utils.centroid_index.segments`: ragged arrays (flat values + offsets);
- :mod:`~course_utils.centroid_index.plaid`: the index and PLAID's four search stages;
- :mod:`~course_utils.centroid_index.storage`: save and load as ``.npy`` files, no pickle.
"""

__all__: list[str] = []
