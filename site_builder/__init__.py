"""site_builder: turn Hugging Face Daily Papers dumps into a themed static digest.

Pipeline (see README.md): dumps -> ingest -> content/papers/*.md -> build -> _site/.
"""

__version__ = "0.1.0"
