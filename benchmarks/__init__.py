"""Benchmarks and soak runs of qdebug, run from the repository root with python -m."""
