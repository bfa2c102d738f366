"""Tests of course_utils.scoring."""
