"""Template helpers for pages outside reports that link to the finance dashboard (the back office's index)."""

from __future__ import annotations

from typing import Any

from django import template

from reports.dashboard_views import can_see_dashboard

register = template.Library()


@register.filter
def sees_finance_dashboard(user: Any) -> bool:
    """``{% if user|sees_finance_dashboard %}``: the link is offered only to those it would not refuse."""
    return can_see_dashboard(user)
