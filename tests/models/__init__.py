"""Tests of course_utils.models."""
