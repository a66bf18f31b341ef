"""The server-drawn SVG charts: well-formed, named for screen readers, to scale, and text never taken as markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import charts

SVG = "{http://www.w3.org/2000/svg}"
D = Decimal


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def bar_rects(root: ET.Element, css_class: str | None = None) -> list[ET.Element]:
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    if css_class:
        rects = [r for r in rects if r.get("class") == css_class]
    return rects


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [("0", "1"), ("-3", "1"), ("0.4", "0.5"), ("1", "1"), ("1.2", "2"), ("2.1", "2.5"), ("3", "5"), ("45", "50")],
)
def test_axes_end_on_a_round_number(value, ceiling):
    assert charts.nice_ceiling(D(value)) == D(ceiling)


@given(st.decimals(min_value=D("0.001"), max_value=D("1000000000"), places=3))
def test_the_round_ceiling_covers_the_value_by_less_than_two_and_a_half_times(value):
    ceiling = charts.nice_ceiling(value)
    assert value <= ceiling < value * D("2.5")


def test_a_chart_is_one_named_image_with_its_description():
    svg = charts.stacked_columns(
        chart_id="c1",
        title="Top-ups per day",
        desc="Top-ups: 15.000 OMR in all.",
        labels=["1/3", "2/3"],
        series=[charts.Series("Cash", [D("10.000"), D("5.000")], "cash")],
    )
    root = parsed(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Top-ups per day"
    assert root.find(f"{SVG}desc").text == "Top-ups: 15.000 OMR in all."
    drawing = root.find(f"{SVG}g")
    assert drawing.get("aria-hidden") == "true"  # the name and the description speak for the picture


def test_stacked_columns_are_drawn_to_scale_and_stack():
    svg = charts.stacked_columns(
        chart_id="c",
        title="t",
        desc="d",
        labels=["a", "b"],
        series=[
            charts.Series("Cash", [D("10.000"), D("4.000")], "cash"),
            charts.Series("Card", [D("10.000"), D("0.000")], "card"),
        ],
    )
    root = parsed(svg)
    cash = bar_rects(root)[:2]
    card = bar_rects(root)[2:]
    assert len(card) == 1  # nothing to draw for a zero
    heights = [D(r.get("height")) for r in cash]
    assert heights[0] == heights[1] * D("2.5")  # 10 against 4
    # The card segment sits right on top of the cash one in the same column.
    assert D(card[0].get("y")) + D(card[0].get("height")) == D(cash[0].get("y"))
    assert card[0].find(f"{SVG}title").text == "a: Card 10.000"


def test_count_axes_tick_on_whole_numbers_only():
    svg = charts.stacked_columns(
        chart_id="c",
        title="t",
        desc="d",
        labels=["0-1", "2-3"],
        series=[charts.Series("Unmatched", [1, 0], "kind-1")],
        whole=True,
    )
    ticks = [t.text for t in parsed(svg).iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks == ["0", "1", "2", "3", "4"]


def test_horizontal_bars_are_proportional_and_carry_their_text():
    svg = charts.horizontal_bars(
        chart_id="h",
        title="t",
        desc="d",
        bars=[charts.Bar("Lease", D("3.000"), "3.000 (2)"), charts.Bar("Parking", D("1.500"), "1.500 (1)")],
    )
    root = parsed(svg)
    lease, parking = bar_rects(root)
    assert D(lease.get("width")) == 2 * D(parking.get("width"))
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert [v.strip("\u2068\u2069") for v in values] == ["3.000 (2)", "1.500 (1)"]


def test_positions_shade_the_credit_band_and_flag_in_their_own_tone():
    svg = charts.position_bars(
        chart_id="p",
        title="t",
        desc="d",
        positions=[
            charts.Position("Near", D("-45.000"), D("-50.000"), "-45.000 / −50.000", flagged=True),
            charts.Position("Roomy", D("100.000"), D("-50.000"), "100.000 / −50.000"),
        ],
    )
    root = parsed(svg)
    near, roomy = bar_rects(root)
    assert (near.get("class"), roomy.get("class")) == ("tone-flag", "tone-ok")
    zones = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "limit-zone"]
    assert len(zones) == 2 and zones[0].get("width") == zones[1].get("width")
    # The negative bar ends at zero, where the positive one starts; 45 of the 50 band is used.
    assert D(near.get("x")) + D(near.get("width")) == D(roomy.get("x"))
    assert abs(D(near.get("width")) - D(zones[0].get("width")) * D("0.9")) <= D("0.1")  # coordinates to 0.1
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels[0].startswith("⚠") and not labels[1].startswith("⚠")


def test_names_are_text_never_markup_and_keep_their_own_direction():
    hostile = '<script>alert("x")</script> & مكتب'
    svg = charts.horizontal_bars(chart_id="x", title=hostile, desc=hostile, bars=[charts.Bar(hostile, D(1), hostile)])
    assert "<script>" not in svg
    root = parsed(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == hostile
    label = next(t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label")
    assert re.fullmatch("\u2068.*\u2069", label)  # isolated: an Arabic name reads right to left in the drawing


def test_long_labels_are_shortened_in_the_drawing_but_whole_in_the_tooltip():
    name = "Municipal licence renewal for commercial premises"
    root = parsed(charts.horizontal_bars(chart_id="l", title="t", desc="d", bars=[charts.Bar(name, D(1), "1")]))
    label = next(t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label").strip("\u2068\u2069")
    assert len(label) == charts.LABEL_CHARS and label.endswith("…")
    assert bar_rects(root)[0].find(f"{SVG}title").text.startswith(name)


def test_empty_charts_still_draw():
    for svg in (
        charts.stacked_columns(chart_id="e", title="t", desc="d", labels=[], series=[]),
        charts.horizontal_bars(chart_id="e", title="t", desc="d", bars=[]),
        charts.position_bars(chart_id="e", title="t", desc="d", positions=[]),
    ):
        assert parsed(svg).get("role") == "img"
