"""{{ value|figure }}: a number grouped by thousands in the site's locale, for the
organizer's pages (canvass/stats/dashboard.py's number(), which says why not
USE_THOUSAND_SEPARATOR)."""

from __future__ import annotations

from typing import Any

from django import template

from canvass.stats.dashboard import number

register = template.Library()


@register.filter
def figure(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return number(value)
