"""Classify: themes and tags from config.yaml's ordered rule table."""
