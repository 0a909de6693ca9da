"""Serve: the preview server and its watcher."""
