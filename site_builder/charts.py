"""Small inline SVG charts (no JavaScript): a paper-per-year timeline.

In: (label, count) pairs. Out: an accessible ``<svg role="img">`` string whose
aria-label carries the same numbers as text, styled by CSS classes and currentColor.
"""

from __future__ import annotations

from html import escape

BAR_W, GAP, HEIGHT, LABEL_H = 28, 8, 80, 16


def timeline_svg(counts: list[tuple[str, int]], subject: str) -> str:
    if not counts:
        return ""
    peak = max(c for _, c in counts) or 1
    width = len(counts) * (BAR_W + GAP) + GAP
    total_h = HEIGHT + 2 * LABEL_H
    described = ", ".join(f"{label}: {count}" for label, count in counts)
    label = escape(f"{subject} papers per year: {described}", quote=True)
    parts = [f'<svg class="timeline" role="img" aria-label="{label}" '
             f'viewBox="0 0 {width} {total_h}" width="{width}" height="{total_h}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for index, (year, count) in enumerate(counts):
        x = GAP + index * (BAR_W + GAP)
        bar_h = max(2, round(HEIGHT * count / peak))
        y = LABEL_H + HEIGHT - bar_h
        short = escape(year[-2:] if year.isdigit() else year[:3])
        parts.append(
            f'<g><rect class="timeline-bar" x="{x}" y="{y}" width="{BAR_W}" height="{bar_h}" '
            f'rx="3" fill="currentColor"/>'
            f'<text class="timeline-label" x="{x + BAR_W // 2}" y="{y - 4}" '
            f'text-anchor="middle" font-size="11" fill="currentColor">{count}</text>'
            f'<text class="timeline-label" x="{x + BAR_W // 2}" y="{total_h - 3}" '
            f'text-anchor="middle" font-size="11" fill="currentColor">'
            f"{'’' + short if year.isdigit() else short}</text></g>")
    parts.append("</svg>")
    return "".join(parts)
