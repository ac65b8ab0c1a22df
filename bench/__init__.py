"""Benchmarks for issue #6: every figure measured beside its baseline in the same run.

`python -m bench` (or `make bench`) runs them all and rewrites docs/benchmarks.md.
"""
