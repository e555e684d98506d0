"""Charts as inline SVG drawn on the server: no script, no CDN (Google Charts, which FAB's
chart views load, is unreachable in mainland China and offline). Every label is escaped;
each chart carries a <title> per mark so a hover shows the exact figure."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass
class Series:
    label: str
    values: list[float]
    colour: str


def _frame(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="court-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">' + "".join(body) + "</svg>")


TICKS = 4  # intervals on the value axis


def _nice_max(value: float) -> int:
    """The axis top: `TICKS` times a whole step of 1, 2 or 5 × 10ⁿ, so every tick is a whole number
    (counts of cases: an axis of 0, 0.5, 1 … would print 0, 0, 1, 2, 2)."""
    needed = max(value, 1) / TICKS
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= needed:
                return step * magnitude * TICKS
        magnitude *= 10


def _axis(top_value: float, percent: bool = False) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for i in range(TICKS + 1):
        v = top_value * i / TICKS
        y = TOP + plot_h - plot_h * i / TICKS
        text = f"{v * 100:.0f}%" if percent else f"{int(round(v))}"
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#777">{text}</text>')
    return out


def stacked_bars(categories: list[str], series: list[Series], label: str) -> Markup:
    """One bar per category, the series stacked bottom-up."""
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    bar_w = slot * 0.6
    body = _axis(top)
    for i, cat in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_w) / 2
        y = TOP + plot_h
        for s in series:
            h = plot_h * s.values[i] / top
            y -= h
            if h > 0:
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{s.colour}">'
                            f'<title>{escape(cat)} {escape(s.label)}：{s.values[i]:g}</title></rect>')
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                    f'fill="#555">{escape(cat)}</text>')
    return _frame(WIDTH, HEIGHT, body, label)


def line(categories: list[str], values: list[float | None], label: str, colour: str = "#337ab7") -> Markup:
    """A percentage line (0–100 %); months without a value leave a gap."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    body = _axis(1, percent=True)
    points, path = [], []
    for i, (cat, v) in enumerate(zip(categories, values)):
        x = LEFT + slot * i + slot / 2
        body.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                    f'fill="#555">{escape(cat)}</text>')
        if v is None:
            if points:
                path.append(points)
            points = []
            continue
        y = TOP + plot_h - plot_h * v
        points.append((x, y))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                    f'<title>{escape(cat)}：{v * 100:.1f}%</title></circle>')
    if points:
        path.append(points)
    for pts in path:
        d = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(pts))
        body.insert(5, f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
    return _frame(WIDTH, HEIGHT, body, label)


def horizontal_bars(items: list[tuple[str, float]], label: str, colour: str = "#5cb85c") -> Markup:
    """Ranked bars, largest first, with the name on the left and the value at the bar's end."""
    if not items:
        return Markup('<p class="text-muted">%s</p>') % _("No data for this period.")
    row_h, name_w = 24, 190
    height = TOP + row_h * max(len(items), 1) + 8
    top = max((v for _n, v in items), default=0) or 1
    plot_w = WIDTH - name_w - RIGHT - 40
    body = []
    for i, (name, value) in enumerate(items):
        y = TOP + row_h * i
        w = plot_w * value / top
        short = name if len(name) <= 14 else name[:13] + "…"
        body.append(f'<text x="{name_w - 6}" y="{y + 16}" text-anchor="end" font-size="12" fill="#333">'
                    f'{escape(short)}<title>{escape(name)}</title></text>'
                    f'<rect x="{name_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" fill="{colour}">'
                    f'<title>{escape(name)}：{value:g}</title></rect>'
                    f'<text x="{name_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#333">{value:g}</text>')
    return _frame(WIDTH, height, body, label)
