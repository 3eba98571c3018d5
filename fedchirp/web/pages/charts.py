"""Small server-side SVG charts (no JavaScript, no chart library)."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, MARGIN = 600, 220, 36


def line_chart(points: list[tuple[str, int]], label: str) -> str:
    """A step line of values over labelled days; an empty note when there is no data."""
    if not points:
        return f'<p class="chart-empty">No {escape(label)} yet.</p>'
    if len(points) == 1:
        points = [points[0], points[0]]
    top = max(max(v for _, v in points), 1)
    step = (WIDTH - 2 * MARGIN) / (len(points) - 1)

    def y(value: int) -> float:
        return HEIGHT - MARGIN - (HEIGHT - 2 * MARGIN) * value / top

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{MARGIN + i * step:.1f},{y(v):.1f}"
        for i, (_, v) in enumerate(points)
    )
    dots = "".join(
        f'<circle cx="{MARGIN + i * step:.1f}" cy="{y(v):.1f}" r="3"><title>'
        f"{escape(day)}: {v}</title></circle>"
        for i, (day, v) in enumerate(points)
    )
    return (
        f'<svg class="chart line" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>"
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#999"/>'
        f'<text x="4" y="{MARGIN}" font-size="12">{top}</text>'
        f'<text x="4" y="{HEIGHT - MARGIN}" font-size="12">0</text>'
        f'<text x="{MARGIN}" y="{HEIGHT - 8}" font-size="12">{escape(points[0][0])}</text>'
        f'<text x="{WIDTH - MARGIN}" y="{HEIGHT - 8}" font-size="12" text-anchor="end">'
        f"{escape(points[-1][0])}</text>"
        f'<path d="{path}" fill="none" stroke="var(--accent)" stroke-width="2"/>{dots}</svg>'
    )


def bar_chart(bars: list[tuple[str, int]], label: str) -> str:
    top = max([v for _, v in bars] + [1])
    slot = (WIDTH - 2 * MARGIN) / max(len(bars), 1)
    parts = []
    for i, (name, value) in enumerate(bars):
        height = (HEIGHT - 2 * MARGIN) * value / top
        x = MARGIN + i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - MARGIN - height:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}" fill="var(--accent)"><title>{escape(name)}: {value}'
            f"</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 12}" font-size="12" '
            f'text-anchor="middle">{escape(name)}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - MARGIN - height - 4:.1f}" '
            f'font-size="12" text-anchor="middle">{value}</text>'
        )
    return (
        f'<svg class="chart bars" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{''.join(parts)}</svg>"
    )
