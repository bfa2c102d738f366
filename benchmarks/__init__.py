"""Benchmarks of the course's helpers against the machine's limits and against Qdrant.

Run one with ``python -m benchmarks.<name>`` from the repository root, in the
course environment (``.venv/bin/python -m benchmarks.corpus_scorer``). They are
not tests: they time things and print a table; ``tests/test_benchmarks.py`` only
checks, on a tiny corpus, that every scorer they compare computes the same scores.
"""
