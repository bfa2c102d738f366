"""Tests of course_utils.compression."""
