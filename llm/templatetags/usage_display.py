"""Template filters for tokens and money."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def usd(value: Decimal | float | None) -> str:
    """Dollars: cents from ten cents up, four significant digits below; "unknown" for None."""
    if value is None:
        return "unknown"
    value = Decimal(value)
    if value == 0:
        return "$0.00"
    if abs(value) >= Decimal("0.1"):
        return f"${value:,.2f}"
    return f"${float(value):.4g}" if abs(value) >= Decimal("0.0001") else f"${float(value):.2e}"


@register.filter
def ms(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value} ms"
