"""Tests of course_utils.pages."""
