"""Accessible charts drawn on the server as inline SVG: no JavaScript, no CDN, printed as shown.

Each chart is one ``<svg role="img">`` named by its own ``<title>`` and described by its ``<desc>`` (what a
screen reader announces); every bar also carries a ``<title>`` with its exact figure (a pointer's tooltip).
The page shows the same figures in a table beside the chart, so nothing is only in the picture. Colours
come from CSS classes (``tone-*``), with a white gap between stacked segments.

Geometry is computed with ``Decimal`` like the amounts it draws (a float never touches money here) and
written with one decimal. The drawing stays left to right in Arabic pages too (``direction="ltr"``): time
runs left to right on both, and the labels read in their own direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = Decimal(640)
TENTH = Decimal("0.1")
#: The steps an axis is rounded up to (times a power of ten), so its ticks are round numbers.
_NICE = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
TICKS = 4
#: Longest label drawn beside a bar (the table beside the chart has the whole name).
LABEL_CHARS = 28


@dataclass(frozen=True)
class Series:
    """One stacked layer: a value per column, drawn with the CSS class ``tone-<tone>``."""

    name: str
    values: Sequence[Decimal | int]
    tone: str


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, value, the text written after it (e.g. amount and count)."""

    label: str
    value: Decimal | int
    text: str
    tone: str = "1"


@dataclass(frozen=True)
class Position:
    """A balance that may go down to ``lower`` (zero or negative): a bar from zero to ``value`` over the
    shaded band from ``lower`` to zero; ``flagged`` draws it in the warning tone, marked with a sign."""

    label: str
    value: Decimal
    lower: Decimal
    text: str
    flagged: bool = False


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest round number (1, 2, 2.5 or 5 times a power of ten) at least ``value``; 1 for nothing."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** value.adjusted()
    for step in _NICE:
        if step * power >= value:
            return step * power
    return Decimal(10) * power  # pragma: no cover - 10 * power always covers value


def tick_text(value: Decimal) -> str:
    """``Decimal("250.000")`` -> ``"250"``; ``Decimal("2.5")`` -> ``"2.5"``: axis labels carry no padding."""
    return format(value.normalize(), "f")


def _n(value: Decimal) -> str:
    """An SVG coordinate: one decimal is finer than a screen pixel."""
    return format(value.quantize(TENTH, rounding=ROUND_HALF_UP), "f")


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _isolated(text: str) -> str:
    """Text in its own direction (first strong character: FSI ... PDI), so an Arabic name with a Latin code
    reads right to left inside the left-to-right drawing, and an amount stays left to right."""
    return f"\u2068{text}\u2069"


def _svg(chart_id: str, title: str, desc: str, height: Decimal, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" direction="ltr" focusable="false">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=_n(WIDTH),
        h=_n(height),
        title=title,
        desc=desc,
        body=body,
    )


def stacked_columns(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    label_every: int = 1,
    whole: bool = False,
) -> SafeString:
    """Columns (one per label) stacking each series' value; a y axis with round ticks (whole numbers only
    when ``whole``: counts); every ``label_every``-th column labelled underneath (a month of days would not
    fit otherwise)."""
    height, top, bottom, left, right = Decimal(260), Decimal(12), Decimal(36), Decimal(56), Decimal(12)
    plot_h, plot_w = height - top - bottom, WIDTH - left - right
    totals = [sum((Decimal(s.values[i]) for s in series), Decimal(0)) for i in range(len(labels))]
    scale_max = nice_ceiling(max(totals, default=Decimal(0)))
    if whole:  # a tick at 0.25 of a count means nothing: steps of whole numbers
        step = max(Decimal(1), (scale_max / TICKS).to_integral_value(rounding=ROUND_CEILING))
        scale_max = step * TICKS
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * Decimal("0.7")
    base_y = top + plot_h

    def y(value: Decimal) -> Decimal:
        return base_y - plot_h * value / scale_max

    grid = []
    for step in range(TICKS + 1):
        value = scale_max * step / TICKS
        grid.append(
            format_html(
                '<line class="grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
                '<text class="tick" x="{tx}" y="{ty}" text-anchor="end">{text}</text>',
                x1=_n(left),
                x2=_n(WIDTH - right),
                y=_n(y(value)),
                tx=_n(left - 6),
                ty=_n(y(value) + 4),
                text=tick_text(value),
            )
        )
    layers = []
    stacked = [Decimal(0)] * len(labels)
    for layer in series:
        rects = []
        for i, raw in enumerate(layer.values):
            value = Decimal(raw)
            if value <= 0:
                continue
            x = left + slot * i + (slot - bar_w) / 2
            rects.append(
                format_html(
                    '<rect x="{x}" y="{y}" width="{w}" height="{h}"><title>{label}: {name} {value}</title></rect>',
                    x=_n(x),
                    y=_n(y(stacked[i] + value)),
                    w=_n(bar_w),
                    h=_n(plot_h * value / scale_max),
                    label=labels[i],
                    name=layer.name,
                    value=value,
                )
            )
            stacked[i] += value
        layers.append(format_html('<g class="tone-{}">{}</g>', layer.tone, mark_safe("".join(rects))))
    axis = format_html_join(
        "",
        '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (_n(left + slot * i + slot / 2), _n(base_y + 18), _isolated(label))
            for i, label in enumerate(labels)
            if i % max(label_every, 1) == 0
        ),
    )
    body = format_html(
        '<g aria-hidden="true">{grid}{layers}<line class="axis" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>{axis}</g>',
        grid=mark_safe("".join(grid)),
        layers=mark_safe("".join(layers)),
        x1=_n(left),
        x2=_n(WIDTH - right),
        y=_n(base_y),
        axis=axis,
    )
    return _svg(chart_id, title, desc, height, body)


def horizontal_bars(*, chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> SafeString:
    """One bar per row from a common zero, the label before it and ``text`` after it."""
    row, top = Decimal(30), Decimal(8)
    label_w, text_w = Decimal(196), Decimal(150)
    plot_w = WIDTH - label_w - text_w - Decimal(16)
    height = top * 2 + row * max(len(bars), 1)
    scale_max = nice_ceiling(max((Decimal(b.value) for b in bars), default=Decimal(0)))
    x0 = label_w + Decimal(8)
    rows = []
    for i, bar in enumerate(bars):
        y = top + row * i
        width = plot_w * Decimal(bar.value) / scale_max
        rows.append(
            format_html(
                '<text class="label" x="{lx}" y="{ty}" text-anchor="end">{short}</text>'
                '<rect class="tone-{tone}" x="{x}" y="{y}" width="{w}" height="18">'
                "<title>{label}: {text}</title></rect>"
                '<text class="value" x="{vx}" y="{ty}">{value}</text>',
                lx=_n(label_w),
                ty=_n(y + 14),
                short=_isolated(_short(bar.label)),
                tone=bar.tone,
                x=_n(x0),
                y=_n(y + 1),
                w=_n(width),
                label=bar.label,
                text=bar.text,
                vx=_n(x0 + width + 6),
                value=_isolated(bar.text),
            )
        )
    body = format_html(
        '<g aria-hidden="true">{rows}<line class="axis" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/></g>',
        rows=mark_safe("".join(rows)),
        x=_n(x0),
        y1=_n(top / 2),
        y2=_n(height - top / 2),
    )
    return _svg(chart_id, title, desc, height, body)


def position_bars(*, chart_id: str, title: str, desc: str, positions: Sequence[Position]) -> SafeString:
    """Balances around zero: the band from each row's ``lower`` bound to zero is shaded, with a mark at the
    bound, so how close a bar comes to its own limit shows at a glance."""
    row, top = Decimal(30), Decimal(8)
    label_w, text_w = Decimal(196), Decimal(150)
    plot_w = WIDTH - label_w - text_w - Decimal(16)
    height = top * 2 + row * max(len(positions), 1)
    low = min([Decimal(0), *(p.lower for p in positions), *(p.value for p in positions)])
    high = max([Decimal(0), *(p.value for p in positions)])
    # Round both ends outwards with one step, so zero sits where it would on a plain axis.
    step = nice_ceiling(max(high - low, Decimal(0)) / TICKS)
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    if high == low:
        high = low + step
    x0 = label_w + Decimal(8)

    def x(value: Decimal) -> Decimal:
        return x0 + plot_w * (value - low) / (high - low)

    rows = []
    for i, position in enumerate(positions):
        y = top + row * i
        start, end = min(position.value, Decimal(0)), max(position.value, Decimal(0))
        tone = "flag" if position.flagged else "ok"
        mark = "⚠ " if position.flagged else ""
        rows.append(
            format_html(
                '<text class="label" x="{lx}" y="{ty}" text-anchor="end">{mark}{short}</text>'
                '<rect class="limit-zone" x="{zx}" y="{y}" width="{zw}" height="22"/>'
                '<line class="limit-mark" x1="{zx}" x2="{zx}" y1="{y}" y2="{y2}"/>'
                '<rect class="tone-{tone}" x="{bx}" y="{by}" width="{bw}" height="14">'
                "<title>{label}: {text}</title></rect>"
                '<text class="value" x="{vx}" y="{ty}">{value}</text>',
                lx=_n(label_w),
                ty=_n(y + 15),
                mark=mark,
                short=_isolated(_short(position.label)),
                zx=_n(x(position.lower)),
                y=_n(y),
                zw=_n(x(Decimal(0)) - x(position.lower)),
                y2=_n(y + 22),
                tone=tone,
                bx=_n(x(start)),
                by=_n(y + 4),
                bw=_n(x(end) - x(start)),
                label=position.label,
                text=position.text,
                vx=_n(x(high) + 6),
                value=_isolated(position.text),
            )
        )
    body = format_html(
        '<g aria-hidden="true">{rows}<line class="axis" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/></g>',
        rows=mark_safe("".join(rows)),
        x=_n(x(Decimal(0))),
        y1=_n(top / 2),
        y2=_n(height - top / 2),
    )
    return _svg(chart_id, title, desc, height, body)
