"""``{% with_receipts rows as receipted %}``: the portal's history rows paired with their receipt numbers.

A template tag, so that ledger's dashboard gets receipt links without ledger importing reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from reports.portal_receipts import receipt_numbers

register = template.Library()


@register.simple_tag
def with_receipts(rows: Sequence[Any]) -> list[tuple[Any, str | None]]:
    """Each row (it has an ``entry_id``) with its receipt number, or None for a movement without one."""
    numbers = receipt_numbers(row.entry_id for row in rows)
    return [(row, numbers.get(row.entry_id)) for row in rows]
