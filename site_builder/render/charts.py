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
             f'viewBox="0 0 {max(width, 240)} {total_h}" xmlns="http://www.w3.org/2000/svg">']
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


def bar_chart_svg(rows: list[tuple[str, int]], subject: str) -> str:
    """Horizontal bars, one row per (label, count): readable at any label length."""
    if not rows:
        return ""
    label_w, bar_w, row_h = 210, 300, 24
    peak = max(c for _, c in rows) or 1
    height = row_h * len(rows) + 4
    width = label_w + bar_w + 50
    described = ", ".join(f"{label}: {count}" for label, count in rows)
    parts = [f'<svg class="chart bar-chart" role="img" '
             f'aria-label="{escape(f"{subject}: {described}", quote=True)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for index, (label, count) in enumerate(rows):
        y = 2 + index * row_h
        w = max(2, round(bar_w * count / peak))
        short = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text class="chart-label" x="{label_w - 8}" y="{y + 16}" text-anchor="end" '
            f'font-size="13" fill="currentColor">{escape(short)}</text>'
            f'<rect class="chart-bar" x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" '
            f'rx="3" fill="currentColor"/>'
            f'<text class="chart-value" x="{label_w + w + 6}" y="{y + 16}" font-size="12" '
            f'fill="currentColor">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def matrix_svg(labels: list[str], counts: list[list[int]], subject: str) -> str:
    """A co-occurrence grid: cell (i, j) is shaded by how many papers share both."""
    n = len(labels)
    if n == 0:
        return ""
    cell, label_w = 30, 190
    peak = max((counts[i][j] for i in range(n) for j in range(n) if i != j), default=0) or 1
    width = label_w + n * cell + 4
    height = label_w + n * cell + 4
    pairs = [f"{labels[i]} and {labels[j]}: {counts[i][j]}"
             for i in range(n) for j in range(i + 1, n) if counts[i][j]]
    aria = escape(f"{subject}: " + ("; ".join(pairs) or "no theme pairs"), quote=True)
    parts = [f'<svg class="chart matrix-chart" role="img" aria-label="{aria}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, label in enumerate(labels):
        y = label_w + i * cell
        parts.append(f'<text class="chart-label" x="{label_w - 6}" y="{y + 19}" '
                     f'text-anchor="end" font-size="12" fill="currentColor">{escape(label)}</text>')
        x = label_w + i * cell
        parts.append(f'<text class="chart-label" transform="translate({x + 19} {label_w - 6}) '
                     f'rotate(-60)" font-size="12" fill="currentColor">{escape(label)}</text>')
        for j in range(n):
            value = counts[i][j]
            # The diagonal (a theme with itself) stays blank; empty pairs stay faint.
            opacity = 0.0 if i == j else (0.12 + 0.88 * value / peak if value else 0.04)
            parts.append(
                f'<rect class="matrix-cell" x="{label_w + j * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="currentColor" fill-opacity="{opacity:.2f}"/>')
            if i != j and value:
                ink = "matrix-ink-strong" if opacity > 0.55 else "matrix-ink"
                parts.append(f'<text class="{ink}" x="{label_w + j * cell + 14}" '
                             f'y="{y + 19}" text-anchor="middle" font-size="11">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)
