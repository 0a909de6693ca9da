"""Which papers' themes the curator's pins fix, whatever the rules and the model say."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from site_builder.config import Config
    from site_builder.models import Paper


def decided_by_pins(paper: Paper, config: Config) -> bool:
    """Its themes are its pin (model.combine keeps a pinned paper's themes exactly), or
    its ``not_themes`` rule out every theme: no rule or model can give it one."""
    return bool(paper.themes) or {t.slug for t in config.themes} <= set(paper.not_themes)
