"""Ingest: the dumps parser, and merging dump entries into content/papers/."""
