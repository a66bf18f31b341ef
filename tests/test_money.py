"""Amounts at the edge: exact 3-place Decimals or a clear refusal."""

from decimal import Decimal

import pytest

from erial.errors import InvalidAmount
from erial.money import check_currency, format_amount, is_exact, parse_amount, quantize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.500", "12.500"),
        ("12.5", "12.500"),
        ("7", "7.000"),
        ("0.001", "0.001"),
        (Decimal("3.25"), "3.250"),
        (5, "5.000"),
        ("1000000.000", "1000000.000"),
    ],
)
def test_accepts_plain_amounts_exactly(raw, expected):
    assert format_amount(parse_amount(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (12.5, "floating-point"),
        (True, "floating-point"),
        ("12.5001", "more than 3 decimal places"),
        ("1e3", "not a plain decimal"),
        ("1E-3", "not a plain decimal"),
        ("NaN", "not a plain decimal"),
        ("Infinity", "not a plain decimal"),
        (Decimal("NaN"), "finite"),
        (" 12.000", "not a plain decimal"),
        ("12,500", "not a plain decimal"),
        ("+1.000", "not a plain decimal"),
        ("", "not a plain decimal"),
        (None, "must be a string"),
        ("0", "must not be zero"),
        ("0.000", "must not be zero"),
        ("-1.000", "must be positive"),
        ("1000000.001", "larger than the maximum"),
        ("99999999999999999999", "not a plain decimal"),
        ("١٢.٥٠٠", "not a plain decimal"),  # other scripts' digits: forms convert them before parsing
        ("１２.５００", "not a plain decimal"),
    ],
)
def test_refuses_anything_but_a_plain_positive_amount(raw, why):
    with pytest.raises(InvalidAmount, match=why):
        parse_amount(raw)


@pytest.mark.parametrize("raw", ["12", "12.5", "12.50", "12.5000"])
def test_the_api_takes_exactly_three_decimals(raw):
    with pytest.raises(InvalidAmount, match=r"exactly 3 decimals|more than 3 decimal places"):
        parse_amount(raw, exact_places=True)
    assert parse_amount("12.500", exact_places=True) == Decimal("12.500")


def test_negative_and_zero_only_when_asked():
    assert parse_amount("-2.500", allow_negative=True) == Decimal("-2.500")
    assert parse_amount("0", allow_zero=True) == Decimal("0.000")


def test_currency_is_omr_only():
    assert check_currency("OMR") == "OMR"
    for other in ("USD", "omr", "", None, "OMR "):
        with pytest.raises(InvalidAmount, match="OMR only"):
            check_currency(other)


def test_computed_amounts_round_half_away_from_zero_to_the_baisa():
    assert quantize(Decimal("1.2345")) == Decimal("1.235")
    assert quantize(Decimal("1.2344")) == Decimal("1.234")
    assert quantize(Decimal("-1.2345")) == Decimal("-1.235")
    assert is_exact(Decimal("1.230")) and not is_exact(Decimal("1.2301"))
