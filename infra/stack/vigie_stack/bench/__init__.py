"""Benchmarks: scripts that print figures, on the real stack, never timed tests."""
