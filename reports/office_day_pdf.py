"""An office's day report as a bilingual A4 PDF: the totals first, then the cashier sessions, every cash
top-up and every void, and the same day as the office's ledger account saw it.

A day has tens to a few hundred top-ups, so the page is a ``reports.pdf.Flow`` of blocks, one per table row,
that breaks pages between rows, never through one. Figures are right-aligned with 3 decimals; times are
Muscat's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from erial.money import format_amount

from . import labels
from .office_day import DaySession, DayTopup, OfficeDay
from .pdf import BOLD, REGULAR, Flow, amount_en, draw_text, format_moment, muscat_time
from .pdf.layout import pair_block

MARGIN = 14 * mm
WIDTH = A4[0] - 2 * MARGIN
GREY = colors.HexColor("#555555")
SHADE = colors.HexColor("#eeeeee")
STRIPE = colors.HexColor("#f6f6f6")
SIZE = 7.6  # table text
ROW = 12.0
TITLES = 22.0  # column titles: English over Arabic
PAD = 4.0
FIGURE_COLUMN = 300.0  # summary figures end here, between the English and the Arabic label


@dataclass(frozen=True)
class Column:
    title: labels.Bilingual
    width: float
    figure: bool = False  # right-aligned


def _time(moment: dt.datetime | None) -> str:
    return muscat_time(moment).strftime("%H:%M:%S") if moment else ""


def _figure(value: Decimal | None) -> str:
    return "" if value is None else format_amount(value)


def _titles(flow: Flow, columns: Sequence[Column]) -> None:
    def draw(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(SHADE)
        canvas.rect(x, top - TITLES, WIDTH, TITLES, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        left = x
        for column in columns:
            for n, y in ((0, top - 9), (1, top - 19)):
                align = "right" if column.figure or n == 1 else "left"
                draw_text(
                    canvas, column.title[n], x=left + PAD, y=y, width=column.width - 2 * PAD, font=BOLD, size=SIZE,
                    align=align, rtl=n == 1,
                )  # fmt: skip
            left += column.width

    flow.add(TITLES, draw)


def _table(flow: Flow, columns: Sequence[Column], rows: Sequence[Sequence[str]], *, empty: labels.Bilingual) -> None:
    """Column titles, then one block per row (striped); a page break between rows repeats the titles."""
    _titles(flow, columns)
    if not rows:
        flow.pair(*empty, size=SIZE + 0.6, color=GREY)
        return
    for n, cells in enumerate(rows):
        flow.add(ROW, _row(columns, cells, stripe=n % 2 == 1))


def _row(columns: Sequence[Column], cells: Sequence[str], *, stripe: bool):
    def draw(canvas: Canvas, x: float, top: float) -> None:
        if stripe:
            canvas.setFillColor(STRIPE)
            canvas.rect(x, top - ROW, WIDTH, ROW, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        left = x
        for column, cell in zip(columns, cells, strict=True):
            align = "right" if column.figure else "left"
            draw_text(
                canvas, cell, x=left + PAD, y=top - 8.5, width=column.width - 2 * PAD, font=REGULAR, size=SIZE,
                align=align,
            )  # fmt: skip
            left += column.width

    return draw


def _figure_line(flow: Flow, label: labels.Bilingual, value: str, *, strong: bool = False) -> None:
    """English label | figure ... Arabic label, on one shaded line."""
    size = 10.0 if strong else 9.0
    font = BOLD if strong else REGULAR
    height = size * 1.7

    def draw(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(SHADE if strong else STRIPE)
        canvas.rect(x, top - height, WIDTH, height, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        y = top - height + size * 0.55
        draw_text(canvas, label[0], x=x + PAD, y=y, font=font, size=size)
        draw_text(canvas, value, x=x, y=y, width=FIGURE_COLUMN, font=font, size=size, align="right")
        draw_text(canvas, label[1], x=x, y=y, width=WIDTH - PAD, font=font, size=size, align="right", rtl=True)

    flow.add(height + 1.5, draw)


def _heading(flow: Flow, title: labels.Bilingual) -> None:
    flow.space(10)
    flow.pair(*title, font=BOLD, size=11)
    flow.space(3)


def _sessions(flow: Flow, sessions: list[DaySession]) -> None:
    columns = [
        Column(labels.CASHIER, 96),
        Column(labels.OPENED, 46),
        Column(labels.CLOSED, 46),
        Column(labels.OPENING_CASH, 64, True),
        Column(labels.TOPUPS, 74, True),
        Column(labels.EXPECTED, 60, True),
        Column(labels.COUNTED, 60, True),
        Column(labels.OVER_SHORT, WIDTH - 452, True),
    ]
    rows = [
        [
            s.cashier,
            _time(s.opened_at),
            _time(s.closed_at) if s.closed_at else labels.STILL_OPEN[0],
            _figure(s.opening_cash),
            f"{s.topup_count} × {_figure(s.topup_amount)}",
            _figure(s.expected_cash),
            _figure(s.counted_cash),
            _figure(s.difference),
        ]
        for s in sessions
    ]
    _table(flow, columns, rows, empty=labels.NONE_THAT_DAY)
    for s in sessions:
        if s.note:
            flow.pair(f"{s.cashier}: {s.note}", "", size=SIZE, color=GREY)


def _topups(flow: Flow, topups: list[DayTopup], *, external: bool, voids: bool) -> None:
    """Top-ups (or voids, timed when voided): time, receipt, account, cashier, amount, commission, status."""
    commission = [Column(labels.COMMISSION, 62, True)] if external else []
    status = [] if voids else [Column(labels.STATUS, 56)]
    rest = WIDTH - 58 - 100 - 76 - 70 - sum(c.width for c in commission + status)
    columns = [
        Column(labels.TIME, 58),
        Column(labels.RECEIPT_NUMBER, 100),
        Column(labels.ACCOUNT, 76),
        Column(labels.CASHIER, rest),
        Column(labels.AMOUNT, 70, True),
        *commission,
        *status,
    ]
    rows = []
    for t in topups:
        cells = [_time(t.voided_at if voids else t.created_at), t.receipt_number, t.wallet, t.cashier]
        cells.append(_figure(t.amount))
        if external:
            cells.append(_figure(t.commission))
        if not voids:
            cells.append(" ".join(labels.STATUS_VOIDED) if t.voided_at else "")
        rows.append(cells)
    _table(flow, columns, rows, empty=labels.NONE_THAT_DAY)


def render_office_day(data: OfficeDay) -> bytes:
    """The day report as an A4 PDF (one page for a quiet day, more for a busy one)."""
    office = data.office
    flow = Flow(WIDTH)
    issuer_en, issuer_ar = labels.issuer()
    flow.pair(issuer_en, issuer_ar, font=BOLD, size=12.5)
    flow.pair(*labels.BRAND, size=8.5, color=GREY)
    flow.rule(weight=1.2, pad=4)
    flow.pair(*labels.DAY_REPORT, font=BOLD, size=15)
    flow.space(4)
    for label, value_en, value_ar in (
        (labels.OFFICE, f"{office.name_en} ({office.code})", office.name_ar),
        (labels.KIND_LABEL, *labels.OFFICE_KIND[office.kind]),
        (labels.BUSINESS_DAY, data.day.isoformat(), ""),
        (labels.ISSUED, format_moment(data.issued_at), ""),
    ):
        # A date or a number among Arabic words stays one left-to-right run (see ``labels.LRM``).
        flow.pair(f"{label[0]}: {value_en}", f"{label[1]}: {value_ar or labels.LRM + value_en}", size=9.5)
    totals = data.totals
    _heading(flow, labels.TOTAL)
    _figure_line(flow, labels.TOPUP_COUNT, str(totals["count"]))
    _figure_line(flow, labels.GROSS, amount_en(totals["gross"]))
    _figure_line(flow, labels.VOID_COUNT, str(totals["void_count"]))
    _figure_line(flow, labels.VOIDED_AMOUNT, amount_en(totals["voids"]))
    _figure_line(flow, labels.NET, amount_en(totals["net"]), strong=True)
    if office.is_external:
        _figure_line(flow, labels.COMMISSION_EARNED, amount_en(totals["commission"]), strong=True)
    _heading(flow, labels.SESSIONS)
    _sessions(flow, data.sessions)
    _heading(flow, labels.TOPUPS)
    _topups(flow, data.topups, external=office.is_external, voids=False)
    _heading(flow, labels.VOIDS)
    _topups(flow, data.voids, external=office.is_external, voids=True)
    ledger = data.ledger
    code = ledger.account_code
    _heading(flow, (f"{labels.IN_THE_LEDGER[0]}: {code}", f"{labels.IN_THE_LEDGER[1]}: {labels.LRM}{code}"))
    _figure_line(flow, labels.OPENING, amount_en(ledger.opening))
    _figure_line(flow, labels.LEDGER_TOPUPS, amount_en(ledger.topups))
    if ledger.over_short:
        _figure_line(flow, labels.LEDGER_OVER_SHORT, amount_en(ledger.over_short))
    if ledger.deposits:
        _figure_line(flow, labels.LEDGER_DEPOSITS, amount_en(ledger.deposits))
    if ledger.other:
        _figure_line(flow, labels.LEDGER_OTHER, amount_en(ledger.other))
    _figure_line(flow, labels.CLOSING, amount_en(ledger.closing), strong=True)
    if office.is_external:
        _figure_line(flow, labels.COMMISSION_EARNED, amount_en(ledger.commission))
    flow.space(8)
    height, draw_note = pair_block(*labels.OFFICE_NOTE, font=REGULAR, size=7, width=WIDTH, color=GREY)
    flow.add(height, draw_note)
    title = f"{labels.DAY_REPORT[0]} {office.code} {data.day.isoformat()}"
    return flow.render_pages(page=A4, margin=MARGIN, title=title)
