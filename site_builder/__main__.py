"""`python -m site_builder` is the same as the `site-builder` console script."""

from site_builder.cli import run

run()
