"""An office's statement as a bilingual A4 PDF: page 1 sums the period up (opening and closing balances,
totals by kind, an agent's commission payable), then every movement on the drawer or float, page totals
carried forward.

It is drawn exactly like the customer statement (``reports.statement_pdf``): the same page plan, the same
fields on page 1, and the rows of ``reports.statement_table``. Only the headers differ: no verification code
(an office statement is an internal document), and page 1 is as tall as its summary.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ledger.businessday import business_zone

from . import labels
from .agent_statement import AccountPart, AgentMovement, AgentStatement
from .pdf import BOLD, REGULAR, amount_ar, amount_en, format_moment, register_fonts
from .statement_pdf import (
    FIELD_STEP,
    FIELDS_TOP,
    GAP,
    GREY,
    LEFT,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    NEXT_HEADER,
    PAGE_HEIGHT,
    RIGHT,
    WIDTH,
    _draw,
    _field,
    plan_pages,
)
from .statement_table import TITLES, Rows, columns, draw_titles

#: A line of page 1: (label, English value, Arabic value, font).
Line = tuple[labels.Bilingual, str, str, str]

ZERO = Decimal("0.000")


def _amounts(value: Decimal) -> tuple[str, str]:
    return amount_en(value), amount_ar(value)


def _by_kind(part: AccountPart, names: dict[str, labels.Bilingual]) -> list[Line]:
    """One line per kind of movement: how many, and how much came in and went out."""
    lines: list[Line] = []
    for kind, total in part.totals.items():
        label = names.get(kind) or labels.MOVEMENT.get(kind, labels.OTHER_MOVEMENT)
        figures = f"{total.count} × · {labels.IN[0]} {total.credit:.3f} · {labels.OUT[0]} {total.debit:.3f}"
        figures_ar = f"{total.count} · {labels.IN[1]} {total.credit:.3f} · {labels.OUT[1]} {total.debit:.3f}"
        lines.append((label, figures, figures_ar, REGULAR))
    return lines


def summary(data: AgentStatement) -> list[Line]:
    """Page 1's lines: the office, the period, both balances of the drawer or float and the totals by kind,
    then the agent's commission payable."""
    period = labels.period(data.start.isoformat(), data.end.isoformat())
    cash = labels.CASH_ACCOUNT[data.office.kind]
    lines: list[Line] = [
        (labels.OFFICE, f"{data.office.name_en} ({data.office.code})", data.office.name_ar, BOLD),
        (labels.KIND_LABEL, *labels.OFFICE_KIND[data.office.kind], REGULAR),
        (cash, data.cash.code, "", REGULAR),
        (labels.PERIOD, *period, REGULAR),
        (labels.ISSUED, format_moment(data.issued_at), "", REGULAR),
        (labels.OPENING, *_amounts(data.cash.opening), BOLD),
        (labels.CLOSING, *_amounts(data.cash.closing), BOLD),
        (labels.TOTALS_BY_KIND, "", "", REGULAR),
        *_by_kind(data.cash, {}),
    ]
    if data.commission is not None:
        part = data.commission
        lines += [
            (labels.COMMISSION_PAYABLE, part.code, "", BOLD),
            (labels.OPENING, *_amounts(part.opening), REGULAR),
            *_by_kind(part, labels.COMMISSION_MOVEMENT),
            (labels.CLOSING, *_amounts(part.closing), REGULAR),
        ]
    return lines


def first_header(data: AgentStatement) -> float:
    return FIELDS_TOP + (len(summary(data)) - 1) * FIELD_STEP + 10


def letterhead(canvas: Canvas, title: labels.Bilingual) -> None:
    """Issuer, brand and the document's title, English flush left and Arabic flush right."""
    top = PAGE_HEIGHT - MARGIN_TOP
    for (text_en, text_ar), drop, font, size, colour in (
        (labels.issuer(), 12, BOLD, 12.5, colors.black),
        (labels.BRAND, 25, REGULAR, 8.5, GREY),
        (title, 50, BOLD, 15, colors.black),
    ):
        canvas.setFillColor(colour)
        _draw(canvas, text_en, LEFT, top - drop, font, size)
        _draw(canvas, text_ar, RIGHT, top - drop, font, size, right=True)
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(1.2)
    canvas.line(LEFT, top - 31, RIGHT, top - 31)


def _first_header(canvas: Canvas, lines: list[Line]) -> None:
    letterhead(canvas, labels.AGENT_STATEMENT)
    top = PAGE_HEIGHT - MARGIN_TOP
    for n, (label, value_en, value_ar, font) in enumerate(lines):
        _field(canvas, top - FIELDS_TOP - n * FIELD_STEP, label, value_en, value_ar, font)


def _next_header(canvas: Canvas, data: AgentStatement) -> None:
    """On later pages: whose statement this is and for which period."""
    top = PAGE_HEIGHT - MARGIN_TOP
    period = labels.period(data.start.isoformat(), data.end.isoformat())
    canvas.setFillColor(colors.black)
    _draw(canvas, f"{labels.AGENT_STATEMENT[0]} · {data.office.code}", LEFT, top - 10, BOLD, 10)
    _draw(canvas, f"{labels.AGENT_STATEMENT[1]} · {data.office.code}", RIGHT, top - 10, BOLD, 10, right=True)
    canvas.setFillColor(GREY)
    _draw(canvas, data.office.name_en, LEFT, top - 22, REGULAR, 8)
    _draw(canvas, data.office.name_ar, RIGHT, top - 22, REGULAR, 8, right=True)
    _draw(canvas, f"{labels.PERIOD[0]}: {period[0]}", LEFT, top - 33, REGULAR, 8)
    _draw(canvas, f"{labels.PERIOD[1]}: {period[1]}", RIGHT, top - 33, REGULAR, 8, right=True)
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.8)
    canvas.line(LEFT, top - 38, RIGHT, top - 38)


def _table_start(canvas: Canvas, data: AgentStatement, lines: list[Line] | None, header: float) -> Rows:
    """A page's header (page 1's with its ``lines``, a short one on the others) and the column titles beneath
    it; returns where its rows go."""
    if lines is not None:
        _first_header(canvas, lines)
    else:
        _next_header(canvas, data)
    top = PAGE_HEIGHT - MARGIN_TOP - (header if lines is not None else NEXT_HEADER)
    cols = columns(WIDTH)
    draw_titles(canvas, LEFT, top, cols, amounts=(labels.OUT, labels.IN))
    return Rows(canvas, LEFT, top - TITLES, cols)


def _footer(canvas: Canvas, page: int, pages: int) -> None:
    page_en, page_ar = labels.page_of(page, pages)
    canvas.setFillColor(colors.black)
    _draw(canvas, page_en, LEFT, MARGIN_BOTTOM + 1.5, REGULAR, 8)
    _draw(canvas, page_ar, RIGHT, MARGIN_BOTTOM + 1.5, REGULAR, 8, right=True)


def render_agent_statement(data: AgentStatement) -> bytes:
    """The statement as an A4 PDF: movements of the drawer or float, carried forward page by page."""
    register_fonts()
    lines = summary(data)
    header = first_header(data)
    plan = plan_pages(data.cash.line_count, first_header=header)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{labels.AGENT_STATEMENT[0]} {data.office.code} {data.start} – {data.end}")
    canvas.setAuthor(labels.issuer()[0])
    canvas.setCreator("e-Rial")
    with closing(data.cash.movements()) as movements:  # the cursor is released even on an error
        _pages(canvas, data, lines, plan, header, movements)
    canvas.save()
    return buffer.getvalue()


def _pages(
    canvas: Canvas,
    data: AgentStatement,
    lines: list[Line],
    plan: tuple[int, ...],
    header: float,
    movements: Iterator[AgentMovement],
) -> None:
    """Every page: header, column titles, what is brought forward, the movements, the totals, the footer."""
    part = data.cash
    zone = business_zone()
    debits = credits = ZERO
    for page, count in enumerate(plan, start=1):
        rows = _table_start(canvas, data, lines if page == 1 else None, header)
        if page == 1:
            rows.total(labels.OPENING, balance=part.opening, day=data.start)
        else:
            rows.total(labels.BROUGHT_FORWARD, debit=debits, credit=credits, balance=part.balance_with(debits, credits))
        page_debits = page_credits = ZERO
        for _ in range(count):
            movement = next(movements, None)
            if movement is None:
                raise RuntimeError(
                    f"Statement of {data.office.code}: fewer movements than counted ({part.line_count})."
                )
            page_debits += movement.debit
            page_credits += movement.credit
            rows.movement(movement, movement.balance_after, zone)
        debits, credits = debits + page_debits, credits + page_credits
        if part.line_count == 0:
            rows.note(labels.NO_MOVEMENTS)
        rows.top -= GAP
        rows.total(labels.PAGE_TOTAL, debit=page_debits, credit=page_credits, rule=True)
        so_far = {"debit": debits, "credit": credits}
        balance = part.balance_with(debits, credits)
        last = page == len(plan)
        ending = (
            [(labels.PERIOD_TOTAL, so_far), (labels.CLOSING, {"balance": balance, "day": data.end, "rule": True})]
            if last
            else [(labels.CARRIED_FORWARD, {**so_far, "balance": balance})]
        )
        for label, figures in ending:
            rows.total(label, **figures)
        rows.done()
        if last:
            canvas.setFillColor(GREY)
            _draw(canvas, labels.OFFICE_NOTE[0], LEFT, rows.top - 8, REGULAR, 6.8)
            _draw(canvas, labels.OFFICE_NOTE[1], RIGHT, rows.top - 17, REGULAR, 6.8, right=True)
        _footer(canvas, page, len(plan))
        canvas.showPage()
