"""Finance reports (trial balance, revenue and fee income) as bilingual A4 PDFs: one page frame and one table.

A report is described as data (title, fields, columns, rows, a summary beneath the table) and drawn here, so
each report module only says *what* it prints. Like the customer statement, every row has the same height:
the pages are planned before drawing (page 1 says "page 1 of n"), and the rows of a page are written into one
text object, which keeps a trial balance listing every wallet quick to draw. English reads from the left
edge, Arabic from the right; the words are those of ``reports.labels``, shaped by ``reports.pdf``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from . import labels
from .pdf import BOLD, REGULAR, format_moment, register_fonts, visual
from .statement_table import draw_masthead, draw_text, drawn, fit

GREY = colors.HexColor("#555555")
SHADE = colors.HexColor("#eeeeee")
STRIPE = colors.HexColor("#f6f6f6")
RULE = colors.HexColor("#999999")

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 14 * mm
MARGIN_TOP = 12 * mm
MARGIN_BOTTOM = 10 * mm
LEFT = MARGIN_X
RIGHT = PAGE_WIDTH - MARGIN_X
WIDTH = RIGHT - LEFT

LABEL_COLUMN = 104.0  # page 1 fields: English label | value ... value | Arabic label
FIELDS_TOP = 68.0
FIELD_STEP = 13.5
FIELD_SIZE = 9.5
NEXT_HEADER = 36.0  # later pages: issuer and title
FOOTER = 16.0
SIZE = 7.6  # table text
ROW = 12.0
TITLES = 22.0  # column titles: English over Arabic
PAD = 4.0  # inside a cell, from its edges
SUMMARY_STEP = 12.0
GAP = 10.0  # between the table and the summary


@dataclass(frozen=True)
class Column:
    """A right-aligned column of figures, ``width`` points wide."""

    title: labels.Bilingual
    width: float


@dataclass(frozen=True)
class Row:
    """The first cell holds English (left) and Arabic (right); ``cells`` are figures, already formatted."""

    en: str
    ar: str
    cells: Sequence[str]
    bold: bool = False
    rule: bool = False


@dataclass(frozen=True)
class Report:
    title: labels.Bilingual
    #: Page 1's fields: (label, English value, Arabic value).
    fields: Sequence[tuple[labels.Bilingual, str, str]]
    first_column: labels.Bilingual
    columns: Sequence[Column]
    rows: Sequence[Row]
    issued_at: dt.datetime
    #: Beneath the table on the last page: (label, value) lines, the value printed on both sides.
    summary: Sequence[tuple[labels.Bilingual, str]] = field(default_factory=tuple)
    notes: Sequence[labels.Bilingual] = field(default_factory=tuple)
    document_title: str = ""

    @property
    def first_header(self) -> float:
        return FIELDS_TOP + (len(self.fields) - 1) * FIELD_STEP + 12

    @property
    def trailer(self) -> float:
        """The height the summary and notes need beneath the last row."""
        lines = len(self.summary) * 2 + len(self.notes) * 2
        return GAP + lines * SUMMARY_STEP if lines else 0.0


def plan_pages(report: Report) -> tuple[int, ...]:
    """How many rows each page holds; the last page also holds the summary (at least one row goes with it)."""
    pages: list[int] = []
    remaining = len(report.rows)
    while True:
        space = _space(report.first_header if not pages else NEXT_HEADER)
        fits = int((space - report.trailer) // ROW)
        if remaining <= fits:
            pages.append(remaining)
            return tuple(pages)
        take = min(int(space // ROW), max(remaining - 1, 1))
        pages.append(take)
        remaining -= take


def _space(header: float) -> float:
    return PAGE_HEIGHT - MARGIN_TOP - header - MARGIN_BOTTOM - FOOTER - TITLES


def render(report: Report) -> bytes:
    """The report as an A4 PDF."""
    register_fonts()
    plan = plan_pages(report)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(report.document_title or report.title[0])
    canvas.setAuthor(labels.issuer()[0])
    canvas.setCreator("e-Rial")
    table = _Table(report.first_column, tuple(report.columns))
    rows = iter(report.rows)
    for page, count in enumerate(plan, start=1):
        top = _first_header(canvas, report) if page == 1 else _next_header(canvas, report)
        table.titles(canvas, top)
        bottom = table.rows(canvas, top - TITLES, [next(rows) for _ in range(count)])
        if page == len(plan):
            _summary(canvas, report, bottom - GAP)
        _footer(canvas, report, page, len(plan))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_text = draw_text


def _first_header(canvas: Canvas, report: Report) -> float:
    """Issuer, title and the report's fields; returns where the table starts."""
    top = PAGE_HEIGHT - MARGIN_TOP
    draw_masthead(canvas, LEFT, RIGHT, top)
    size = _title_size(report.title)
    _text(canvas, report.title[0], LEFT, top - 50, BOLD, size)
    _text(canvas, report.title[1], RIGHT, top - 50, BOLD, size, right=True)
    value_width = WIDTH - 2 * LABEL_COLUMN
    for n, (label, value_en, value_ar) in enumerate(report.fields):
        y = top - FIELDS_TOP - n * FIELD_STEP
        canvas.setFillColor(GREY)
        _text(canvas, label[0], LEFT, y, REGULAR, 8)
        _text(canvas, label[1], RIGHT, y, REGULAR, 8, right=True)
        canvas.setFillColor(colors.black)
        width = value_width / 2 - 6 if value_en and value_ar else value_width
        if value_en:
            _text(canvas, fit(value_en, REGULAR, FIELD_SIZE, width), LEFT + LABEL_COLUMN, y, REGULAR, FIELD_SIZE)
        if value_ar:
            shown = fit(value_ar, REGULAR, FIELD_SIZE, width)
            _text(canvas, shown, RIGHT - LABEL_COLUMN, y, REGULAR, FIELD_SIZE, right=True)
    return top - report.first_header


def _title_size(title: labels.Bilingual, largest: float = 15.0) -> float:
    """The title's size: as large as ``largest``, small enough that both languages fit side by side."""
    widths = sum(stringWidth(drawn(text, BOLD), BOLD, largest) for text in title)
    return min(largest, largest * (WIDTH - 24) / widths)


def _next_header(canvas: Canvas, report: Report) -> float:
    top = PAGE_HEIGHT - MARGIN_TOP
    issuer_en, issuer_ar = labels.issuer()
    canvas.setFillColor(colors.black)
    _text(canvas, f"{issuer_en} · {report.title[0]}", LEFT, top - 12, BOLD, 10)
    _text(canvas, f"{issuer_ar} · {report.title[1]}", RIGHT, top - 12, BOLD, 10, right=True)
    if report.fields:
        label, value_en, value_ar = report.fields[0]
        canvas.setFillColor(GREY)
        _text(canvas, f"{label[0]}: {value_en}", LEFT, top - 24, REGULAR, 8)
        _text(canvas, f"{label[1]}: {value_ar or value_en}", RIGHT, top - 24, REGULAR, 8, right=True)
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.8)
    canvas.line(LEFT, top - 29, RIGHT, top - 29)
    return top - NEXT_HEADER


def _footer(canvas: Canvas, report: Report, page: int, pages: int) -> None:
    y = MARGIN_BOTTOM + 2
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(LEFT, MARGIN_BOTTOM + FOOTER - 4, RIGHT, MARGIN_BOTTOM + FOOTER - 4)
    canvas.setFillColor(GREY)
    issued = format_moment(report.issued_at)
    _text(canvas, f"{labels.ISSUED[0]}: {issued}", LEFT, y, REGULAR, 7.5)
    page_en, page_ar = labels.page_of(page, pages)
    shown_ar = visual(page_ar, rtl=True)
    _text(canvas, page_ar, RIGHT, y, REGULAR, 7.5, right=True)
    _text(canvas, page_en, RIGHT - stringWidth(shown_ar, REGULAR, 7.5) - 12, y, REGULAR, 7.5, right=True)


def _summary(canvas: Canvas, report: Report, top: float) -> None:
    """Label and value on the left in English, the same on the right in Arabic; then the notes."""
    y = top - 9
    for label, value in report.summary:
        canvas.setFillColor(colors.black)
        _text(canvas, f"{label[0]}: {value}", LEFT, y, BOLD, 8.5)
        y -= SUMMARY_STEP
        _text(canvas, f"{label[1]}: {value}", RIGHT, y, BOLD, 8.5, right=True)
        y -= SUMMARY_STEP
    canvas.setFillColor(GREY)
    for note in report.notes:
        _text(canvas, note[0], LEFT, y, REGULAR, 7.5)
        y -= SUMMARY_STEP
        _text(canvas, note[1], RIGHT, y, REGULAR, 7.5, right=True)
        y -= SUMMARY_STEP


@dataclass(frozen=True)
class _Table:
    first: labels.Bilingual
    columns: tuple[Column, ...]

    @property
    def first_width(self) -> float:
        return WIDTH - sum(column.width for column in self.columns)

    def _rights(self) -> list[float]:
        """The right edge of each figure column, from the table's left."""
        rights, x = [], self.first_width
        for column in self.columns:
            x += column.width
            rights.append(x)
        return rights

    def titles(self, canvas: Canvas, top: float) -> None:
        canvas.setFillColor(SHADE)
        canvas.rect(LEFT, top - TITLES, WIDTH, TITLES, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for n, y in ((0, top - 9), (1, top - 19)):
            if n == 0:
                _text(canvas, self.first[0], LEFT + PAD, y, BOLD, SIZE)
            else:
                _text(canvas, self.first[1], LEFT + self.first_width - PAD, y, BOLD, SIZE, right=True)
            for column, right in zip(self.columns, self._rights(), strict=True):
                _text(canvas, column.title[n], LEFT + right - PAD, y, BOLD, SIZE, right=True)

    def rows(self, canvas: Canvas, top: float, rows: list[Row]) -> float:
        """Draw ``rows`` from ``top`` down; returns the bottom of the last one."""
        rights = self._rights()
        text = canvas.beginText()
        font = ""
        for n, row in enumerate(rows):
            if n % 2 and not row.bold:
                canvas.setFillColor(STRIPE)
                canvas.rect(LEFT, top - ROW, WIDTH, ROW, stroke=0, fill=1)
            if row.rule:
                canvas.setStrokeColor(RULE)
                canvas.setLineWidth(0.6)
                canvas.line(LEFT, top, RIGHT, top)
            wanted = BOLD if row.bold else REGULAR
            if wanted != font:
                font = wanted
                text.setFont(font, SIZE)
            y = top - 8.5
            room = self.first_width - 2 * PAD
            if row.ar:  # the Arabic name first: the English takes the room it leaves
                ar, width = _fitted(row.ar, font, room / 2)
                text.setTextOrigin(LEFT + self.first_width - PAD - width, y)
                text.textLine(ar)
                room -= width + 2 * PAD
            en = row.en if row.en.isascii() and stringWidth(row.en, font, SIZE) <= room else None
            text.setTextOrigin(LEFT + PAD, y)
            text.textLine(en if en is not None else _fitted(row.en, font, room)[0])
            for value, right in zip(row.cells, rights, strict=True):
                if value:
                    text.setTextOrigin(LEFT + right - PAD - stringWidth(value, font, SIZE), y)
                    text.textLine(value)
            top -= ROW
        canvas.setFillColor(colors.black)
        canvas.drawText(text)
        return top


@lru_cache(maxsize=1024)
def _fitted(text: str, font: str, width: float) -> tuple[str, float]:
    """Text cut to ``width`` and shaped, and its drawn width: a detailed trial balance repeats the same names."""
    shown = drawn(fit(text, font, SIZE, width), font)
    return shown, stringWidth(shown, font, SIZE)
