"""Tests of course_utils.lesson."""
