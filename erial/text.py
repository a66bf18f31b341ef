"""Text people type: Arabic-Indic digits become the Western digits the ledger stores and prints."""

from __future__ import annotations

# Phones set to Arabic type Arabic-Indic (or Persian) digits and the Arabic decimal separator; civil IDs,
# account numbers and amounts are kept in Western digits, the ones printed on bills and typed at counters.
_WESTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")


def western_digits(value: str | None) -> str:
    """``"١٢٫٥"`` -> ``"12.5"``: the same number, in the digits the services accept."""
    return (value or "").translate(_WESTERN_DIGITS).strip()
