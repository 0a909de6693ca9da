"""Incremental builds: input stamp, caches, output record and staging."""
