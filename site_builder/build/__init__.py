"""Build: build_site (the pipeline), per-paper work, related papers, search."""
