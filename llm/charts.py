"""Usage over time as an SVG chart, drawn on the server: token bars and a cost line, no JavaScript.

`usage_chart` turns a series of points into geometry; `templates/llm/usage.html#chart` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 16, 34
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # shown as the SVG <title> tooltip; autoescaped by the template


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    cost_points: str  # "x,y x,y …" for a <polyline>
    dots: list[tuple[float, float]]
    token_ticks: list[Tick]  # left axis
    cost_ticks: list[Tick]  # right axis
    time_ticks: list[Tick]  # bottom axis
    empty: bool
    left: int = LEFT
    top: int = TOP
    plot_right: int = LEFT + PLOT_W
    plot_bottom: int = TOP + PLOT_H


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (so ticks fall on round numbers)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _compact(value: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


def _money(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.2f}" if value >= 1 else f"${value:.4g}"


def usage_chart(points: list[tuple[datetime, int, Decimal]], *, hourly: bool) -> Chart:
    """Geometry for (bucket start, tokens, cost) points, oldest first."""
    count = max(len(points), 1)
    max_tokens = _nice_ceiling(max((tokens for _, tokens, _ in points), default=0))
    max_cost = _nice_ceiling(float(max((cost for _, _, cost in points), default=Decimal(0))))
    slot = PLOT_W / count
    bar_width = max(slot * 0.7, 1.0)
    bars, line, dots = [], [], []
    for i, (moment, tokens, cost) in enumerate(points):
        x = LEFT + i * slot + (slot - bar_width) / 2
        height = PLOT_H * tokens / max_tokens
        when = moment.strftime("%Y-%m-%d %H:00" if hourly else "%Y-%m-%d")
        bars.append(
            Bar(
                x=round(x, 2),
                y=round(TOP + PLOT_H - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                title=f"{when}: {tokens:,} tokens, {_money(float(cost))}",
            )
        )
        cx = round(LEFT + i * slot + slot / 2, 2)
        cy = round(TOP + PLOT_H - PLOT_H * float(cost) / max_cost, 2)
        line.append(f"{cx},{cy}")
        dots.append((cx, cy))
    every = max(1, round(count / 8))
    time_ticks = [
        Tick(position=round(LEFT + i * slot + slot / 2, 2), label=moment.strftime("%H:00" if hourly else "%b %d"))
        for i, (moment, _, _) in enumerate(points)
        if i % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        cost_points=" ".join(line),
        dots=dots if count <= 60 else [],
        token_ticks=[
            Tick(position=round(TOP + PLOT_H * (1 - f), 2), label=_compact(max_tokens * f)) for f in (0, 0.5, 1)
        ],
        cost_ticks=[Tick(position=round(TOP + PLOT_H * (1 - f), 2), label=_money(max_cost * f)) for f in (0, 0.5, 1)],
        time_ticks=time_ticks,
        empty=not any(tokens or cost for _, tokens, cost in points),
    )
