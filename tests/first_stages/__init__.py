"""Tests of course_utils.first_stages."""
