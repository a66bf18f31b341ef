"""The customer statement as a bilingual A4 PDF, drawn page by page as the movements stream in.

A statement may run to thousands of lines, so it is not built as a list of blocks like a receipt. Every row
has the same height: the pages are planned from the number of movements before any is read, which is what
lets page 1 print "page 1 of m", the closing balance and the signed code. The footer with its QR code, and
the header and column titles of pages 2 onwards, are drawn once as PDF forms and placed on every page; the
rows are ``reports.statement_table``'s. ``bench/statement_pdf.py`` times 10,000 lines against reportlab
drawing the same lines as plain text.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ledger.businessday import business_zone

from . import labels
from .pdf import BOLD, REGULAR, amount_ar, amount_en, draw_qr, format_moment, register_fonts, visual
from .pdf.rawtext import TextWriter, string_width
from .statement_table import ROW, TITLES, Rows, columns, draw_masthead, draw_text, draw_titles, drawn, fit
from .statement_verification import statement_code, verification_path
from .verification import printed_code

if TYPE_CHECKING:
    from .statements import Movement, Statement

#: A field of page 1: (label, English value, Arabic value, font).
Field = tuple[labels.Bilingual, str, str, str]

ZERO = Decimal("0.000")
GREY = colors.HexColor("#555555")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 14 * mm
MARGIN_TOP = 12 * mm
MARGIN_BOTTOM = 10 * mm
LEFT = MARGIN_X
RIGHT = PAGE_WIDTH - MARGIN_X
WIDTH = RIGHT - LEFT

# Page 1: issuer and title, then the fields (holder, account, period, issue time, opening balance), each
# as English label | value ... value | Arabic label.
LABEL_COLUMN = 104.0  # each label column (English left, Arabic right)
VALUE_WIDTH = WIDTH - 2 * LABEL_COLUMN  # between them, shared by the English and the Arabic value
FIELDS_TOP = 68.0  # the first field's baseline, below the top margin
FIELD_STEP = 13.5
FIELD_SIZE = 9.5

# Vertical budget, in points. Headers and footer are drawn within exactly these heights, so the page plan
# made from them before drawing holds.
FIRST_HEADER = FIELDS_TOP + 4 * FIELD_STEP + 10  # five fields; a long holder name adds a line
NEXT_HEADER = 44.0  # later pages: issuer, title, account and period
QR_SIDE = 20 * mm
FOOTER = QR_SIDE + 6  # QR code, verification text and page number, beneath a rule
FOOTER_GAP = 6.0  # between the table and the footer
GAP = 3.0  # between the last movement and the totals beneath it
CARRY = GAP + 2 * ROW  # page total, carried forward
FINAL = GAP + 3 * ROW + 8 + 2 * 9.0  # page total, period total, closing balance; the note in two lines


def plan_pages(count: int, *, first_header: float = FIRST_HEADER) -> tuple[int, ...]:
    """How many movements each page holds. The last page also holds the period totals and the closing
    balance; every other page ends with its page total and the totals carried forward. At least one
    movement moves on with the totals, so the closing balance never sits on a page of its own.
    """
    pages: list[int] = []
    remaining = count
    while True:
        space = _table_space(first_header if not pages else NEXT_HEADER)
        if max(remaining, 1) <= int((space - FINAL) // ROW):
            pages.append(remaining)
            return tuple(pages)
        take = min(int((space - CARRY) // ROW), remaining - 1)
        pages.append(take)
        remaining -= take


def _table_space(header: float) -> float:
    """Points left for rows below a header ``header`` points high: page height less margins, header, footer,
    column titles and the first row (the opening balance, or the totals brought forward)."""
    return PAGE_HEIGHT - MARGIN_TOP - header - MARGIN_BOTTOM - FOOTER - FOOTER_GAP - TITLES - ROW


_draw = draw_text


# --- headers and footer -----------------------------------------------------------------------------


def _first_header(canvas: Canvas, data: Statement) -> None:
    """Issuer, title, and what the statement is about, each field in both languages."""
    top = PAGE_HEIGHT - MARGIN_TOP
    draw_masthead(canvas, LEFT, RIGHT, top)
    _draw(canvas, labels.STATEMENT[0], LEFT, top - 50, BOLD, 15)
    _draw(canvas, labels.STATEMENT[1], RIGHT, top - 50, BOLD, 15, right=True)
    for n, (label, value_en, value_ar, font) in enumerate(_fields(data)):
        _field(canvas, top - FIELDS_TOP - n * FIELD_STEP, label, value_en, value_ar, font)


def _fields(data: Statement) -> list[Field]:
    """Page 1's fields: (label, English value, Arabic value, font). Holder names that do not fit side by
    side take a line each: a name is cut only when it is longer than the whole line."""
    period = labels.period(data.start.isoformat(), data.end.isoformat())
    holder: list[Field] = [(labels.HOLDER, data.holder_en, data.holder_ar, REGULAR)]
    if data.holder_en and data.holder_ar and _widths(data.holder_en, data.holder_ar) + 12 > VALUE_WIDTH:
        holder = [(labels.HOLDER, data.holder_en, "", REGULAR), (("", ""), "", data.holder_ar, REGULAR)]
    return [
        *holder,
        (labels.ACCOUNT, data.number, "", BOLD),
        (labels.PERIOD, period[0], period[1], REGULAR),
        (labels.ISSUED, format_moment(data.issued_at), "", REGULAR),
        (labels.OPENING, amount_en(data.opening), amount_ar(data.opening), BOLD),
    ]


def first_header(data: Statement) -> float:
    """The height of page 1's header, which grows by a line for long holder names."""
    register_fonts()  # names are measured in the shipped font
    return FIELDS_TOP + (len(_fields(data)) - 1) * FIELD_STEP + 10


def _field(canvas: Canvas, y: float, label: labels.Bilingual, value_en: str, value_ar: str, font: str) -> None:
    """English label | English value ... Arabic value | Arabic label, on one baseline. Values that do not
    fit side by side get half the width each, cut if need be."""
    canvas.setFillColor(GREY)
    if label[0]:
        _draw(canvas, label[0], LEFT, y, REGULAR, 8)
        _draw(canvas, label[1], RIGHT, y, REGULAR, 8, right=True)
    canvas.setFillColor(colors.black)
    if value_en and value_ar:
        shared = _widths(value_en, value_ar, font=font) + 12 <= VALUE_WIDTH
        en_width = ar_width = VALUE_WIDTH if shared else VALUE_WIDTH / 2 - 6
    else:  # alone on its line, a value may run up to the other language's label
        en_width = RIGHT - LEFT - LABEL_COLUMN - (_label_width(label[1]) + 10 if label[1] else 0)
        ar_width = RIGHT - LEFT - LABEL_COLUMN - (_label_width(label[0]) + 10 if label[0] else 0)
    if value_en:
        _draw(canvas, fit(value_en, font, FIELD_SIZE, en_width), LEFT + LABEL_COLUMN, y, font, FIELD_SIZE)
    if value_ar:
        _draw(canvas, fit(value_ar, font, FIELD_SIZE, ar_width), RIGHT - LABEL_COLUMN, y, font, FIELD_SIZE, right=True)


def _label_width(label: str) -> float:
    return stringWidth(drawn(label, REGULAR), REGULAR, 8)


def _widths(*texts: str, font: str = REGULAR) -> float:
    """The drawn widths of ``texts`` at the fields' size, added up."""
    return sum(stringWidth(visual(text), font, FIELD_SIZE) for text in texts)


def _next_header(canvas: Canvas, data: Statement) -> None:
    """On later pages: whose statement this page belongs to, in a few lines."""
    top = PAGE_HEIGHT - MARGIN_TOP
    issuer_en, issuer_ar = labels.issuer()
    period = labels.period(data.start.isoformat(), data.end.isoformat())
    canvas.setFillColor(colors.black)
    _draw(canvas, issuer_en, LEFT, top - 10, BOLD, 10)
    _draw(canvas, issuer_ar, RIGHT, top - 10, BOLD, 10, right=True)
    canvas.setFillColor(GREY)
    _draw(canvas, f"{labels.STATEMENT[0]} · {labels.ACCOUNT[0]} {data.number}", LEFT, top - 22, REGULAR, 8)
    _draw(canvas, f"{labels.STATEMENT[1]} · {labels.ACCOUNT[1]} {data.number}", RIGHT, top - 22, REGULAR, 8, right=True)
    _draw(canvas, f"{labels.PERIOD[0]}: {period[0]}", LEFT, top - 33, REGULAR, 8)
    _draw(canvas, f"{labels.PERIOD[1]}: {period[1]}", RIGHT, top - 33, REGULAR, 8, right=True)
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.8)
    canvas.line(LEFT, top - 38, RIGHT, top - 38)


NEXT_HEADER_FORM = "statement-next-header"


def _define_next_header(canvas: Canvas, data: Statement) -> None:
    """Pages 2 onwards start the same way (the header, then the column titles): drawn once, placed on each."""
    canvas.beginForm(NEXT_HEADER_FORM)
    _next_header(canvas, data)
    draw_titles(canvas, LEFT, PAGE_HEIGHT - MARGIN_TOP - NEXT_HEADER, columns(WIDTH))
    canvas.endForm()


FOOTER_FORM = "statement-footer"


def _define_footer(canvas: Canvas, url: str, code: str) -> None:
    """The verification part of the footer, the same on every page: drawn once, placed on each page."""
    canvas.beginForm(FOOTER_FORM)
    top = MARGIN_BOTTOM + FOOTER
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.6)
    canvas.line(LEFT, top, RIGHT, top)
    draw_qr(canvas, url, x=LEFT - 1.5 * mm, y=MARGIN_BOTTOM - 1.5 * mm, size=QR_SIDE + 3 * mm)
    x = LEFT + QR_SIDE + 8
    canvas.setFillColor(colors.black)
    _draw(canvas, labels.VERIFY_STATEMENT[0], x, top - 11, BOLD, 8.5)
    _draw(canvas, labels.VERIFY_STATEMENT[1], RIGHT, top - 11, BOLD, 8.5, right=True)
    canvas.setFillColor(GREY)
    _draw(canvas, labels.SCAN[0], x, top - 22, REGULAR, 7)
    _draw(canvas, labels.SCAN[1], RIGHT, top - 22, REGULAR, 7, right=True)
    canvas.setFillColor(colors.black)
    _draw(canvas, fit(url, REGULAR, 7, RIGHT - x), x, top - 32, REGULAR, 7)
    canvas.setFillColor(GREY)
    _draw(canvas, labels.CODE[0], x, top - 43, REGULAR, 7)
    _draw(canvas, labels.CODE[1], RIGHT, top - 43, REGULAR, 7, right=True)
    canvas.setFillColor(colors.black)
    _draw(canvas, printed_code(code), x, top - 56, BOLD, 11)
    canvas.endForm()


def _footer(canvas: Canvas, page: int, pages: int) -> None:
    """The footer form, and "page n of m" in both languages, flush right (written fast: there is one per page)."""
    canvas.doForm(FOOTER_FORM)
    page_en, page_ar = labels.page_of(page, pages)
    canvas.setFillColor(colors.black)
    text = canvas.beginText()
    writer = TextWriter(canvas, text)
    right = RIGHT
    for label in (page_ar, page_en):
        shown = drawn(label, REGULAR)
        width = string_width(shown, REGULAR, 8)
        writer.show(right - width, MARGIN_BOTTOM + 1.5, shown, REGULAR, 8)
        right = right - width - 12
    canvas.drawText(text)


# --- the document -----------------------------------------------------------------------------------


def render_statement(data: Statement, *, site_url: str) -> bytes:
    """The statement as an A4 PDF. ``site_url`` (``https://host``) is where its QR code sends a reader:
    the public verification page of this statement."""
    register_fonts()
    code = statement_code(data)
    url = site_url.rstrip("/") + verification_path(data)
    header = first_header(data)
    plan = plan_pages(data.line_count, first_header=header)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{labels.STATEMENT[0]} {data.number} {data.start} – {data.end}")
    canvas.setAuthor(labels.issuer()[0])
    canvas.setCreator("e-Rial")
    _define_footer(canvas, url, code)
    if len(plan) > 1:
        _define_next_header(canvas, data)
    with closing(data.movements()) as movements:  # the database cursor is released even on an error
        _pages(canvas, data, plan, header, movements)
    with _binary_streams():
        canvas.save()
    return buffer.getvalue()


_A85_LOCK = threading.Lock()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Compressed streams written as they are, not wrapped in ASCII85 as reportlab does by default
    (``rl_config.useA85``, read while the document is saved). ASCII85 only keeps a file 7-bit clean, which
    no reader needs, makes it a quarter larger, and its pure-Python encoder took a fifth of a long statement's
    time. The lock keeps concurrent statements from restoring each other's setting; a document another thread
    saves meanwhile is written the same way, which is just as valid."""
    with _A85_LOCK:
        saved = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = saved


def _pages(
    canvas: Canvas, data: Statement, plan: tuple[int, ...], header: float, movements: Iterator[Movement]
) -> None:
    """Every page: header, column titles, the rows brought forward, the movements, the totals, the footer."""
    cols = columns(WIDTH)
    debits = credits = ZERO
    for page, count in enumerate(plan, start=1):
        if page == 1:
            _first_header(canvas, data)
            top = PAGE_HEIGHT - MARGIN_TOP - header
            draw_titles(canvas, LEFT, top, cols)
        else:
            canvas.doForm(NEXT_HEADER_FORM)
            top = PAGE_HEIGHT - MARGIN_TOP - NEXT_HEADER
        rows = Rows(canvas, LEFT, top - TITLES, cols)
        if page == 1:
            rows.total(labels.OPENING, balance=data.opening, day=data.start)
        else:
            rows.total(labels.BROUGHT_FORWARD, debit=debits, credit=credits, balance=data.balance_with(debits, credits))
        page_debits, page_credits = _page_movements(rows, movements, count, data, debits, credits)
        debits, credits = debits + page_debits, credits + page_credits
        if data.line_count == 0:
            rows.note(labels.NO_MOVEMENTS)
        rows.top -= GAP
        rows.total(labels.PAGE_TOTAL, debit=page_debits, credit=page_credits, rule=True)
        if page < len(plan):
            rows.total(labels.CARRIED_FORWARD, debit=debits, credit=credits, balance=data.balance_with(debits, credits))
        else:
            rows.total(labels.PERIOD_TOTAL, debit=debits, credit=credits)
            rows.total(labels.CLOSING, balance=data.balance_with(debits, credits), day=data.end, rule=True)
        rows.done()
        if page == len(plan):
            _note(canvas, rows.top - 8)
        _footer(canvas, page, len(plan))
        canvas.showPage()


def _page_movements(
    rows: Rows, movements: Iterator[Movement], count: int, data: Statement, debits: Decimal, credits: Decimal
) -> tuple[Decimal, Decimal]:
    """Draw the page's ``count`` movements; return the page's debits and credits."""
    zone = business_zone()
    page_debits = page_credits = ZERO
    for _ in range(count):
        movement = next(movements, None)
        if movement is None:
            raise RuntimeError(f"Statement {data.number}: fewer movements than counted ({data.line_count}).")
        page_debits += movement.debit
        page_credits += movement.credit
        balance = movement.balance_after
        if balance is None:  # only wallets are stated, and they keep it; a running total otherwise
            balance = data.balance_with(debits + page_debits, credits + page_credits)
        rows.movement(movement, balance, zone)
    return page_debits, page_credits


def _note(canvas: Canvas, y: float) -> None:
    canvas.setFillColor(GREY)
    _draw(canvas, labels.STATEMENT_NOTE[0], LEFT, y, REGULAR, 6.8)
    _draw(canvas, labels.STATEMENT_NOTE[1], RIGHT, y - 9, REGULAR, 6.8, right=True)
