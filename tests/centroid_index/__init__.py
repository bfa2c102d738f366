"""Tests of course_utils.centroid_index."""
