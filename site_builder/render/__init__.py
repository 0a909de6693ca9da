"""Render: views, templating, Markdown, feeds, charts and the site files."""
