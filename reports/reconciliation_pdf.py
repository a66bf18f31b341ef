"""The reconciliation report as a bilingual A4 PDF: a few tables, English label on the left, Arabic on the
right, figures between them.

It is short (some twenty rows whatever the day's volume), so it is a ``reports.pdf.Flow`` of blocks like an
A4 receipt, not a streamed table like a statement. The data and its tie-outs are
``reports.reconciliation_report``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from erial.money import format_amount

from . import labels
from .pdf import BOLD, REGULAR, Flow, draw_text, format_moment, wrap
from .pdf.layout import baseline, line_height
from .reconciliation_report import ExceptionRow, ReconciliationReport, Tally

GREY = colors.HexColor("#555555")
LIGHT = colors.HexColor("#dddddd")
SHADE = colors.HexColor("#f2f2f2")
MARGIN = 18 * mm
SIZE = 8.5  # table text
LINES_NUMBER = 90.0  # width of a figures column: the lines table has two
EXCEPTIONS_NUMBER = 72.0  # the exceptions tables have four
PAD = 4.0

#: A table row: its label in both languages, its cells (already formatted), bold or not.
Row = tuple[labels.Bilingual, Sequence[str], bool]


def pdf_response(report: ReconciliationReport, *, disposition: str = "inline") -> HttpResponse:
    """The PDF with a file name saying which day and source; finance data, never kept by a shared cache."""
    response = HttpResponse(render_reconciliation(report), content_type="application/pdf")
    filename = f"reconciliation-{report.source}-{report.day.isoformat()}.pdf"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def render_reconciliation(report: ReconciliationReport) -> bytes:
    """The report as an A4 PDF (one page on a normal day; more if ever needed, broken between rows)."""
    flow = Flow(A4[0] - 2 * MARGIN)
    _header(flow, report)
    flow.space(10)
    _section(flow, labels.RECON_LINES)
    _table(flow, [labels.RECON_COUNT, labels.RECON_AMOUNT], _line_rows(report), number=LINES_NUMBER)
    flow.space(10)
    exception_titles = [
        labels.RECON_OPEN,
        labels.RECON_OPEN_AMOUNT,
        labels.RECON_RESOLVED,
        labels.RECON_RESOLVED_AMOUNT,
    ]
    _section(flow, labels.RECON_BY_KIND)
    _table(flow, exception_titles, _exception_rows(report.by_kind, labels.RECON_KIND, report), number=EXCEPTIONS_NUMBER)
    flow.space(10)
    _section(flow, labels.RECON_BY_AGE)
    _table(flow, exception_titles, _exception_rows(report.by_age, labels.RECON_AGE, report), number=EXCEPTIONS_NUMBER)
    flow.space(12)
    flow.rule(weight=0.5)
    flow.text(labels.RECON_NOTE[0], size=7.5, color=GREY)
    flow.text(labels.RECON_NOTE[1], size=7.5, align="right", color=GREY)
    source_en = labels.RECON_SOURCES[report.source][0]
    title = f"{labels.RECON_TITLE[0]} {report.day.isoformat()} {source_en}"
    return flow.render_pages(page=A4, margin=MARGIN, title=title)


def _header(flow: Flow, report: ReconciliationReport) -> None:
    issuer_en, issuer_ar = labels.issuer()
    flow.pair(issuer_en, issuer_ar, font=BOLD, size=14)
    flow.pair(*labels.BRAND, size=9.5, color=GREY)
    flow.rule(weight=1.2, pad=6)
    flow.space(4)
    flow.pair(*labels.RECON_TITLE, font=BOLD, size=16)
    flow.space(6)
    source = labels.RECON_SOURCES[report.source]
    _field(flow, labels.RECON_DAY, report.day.isoformat(), "")
    _field(flow, labels.RECON_SOURCE, *source)
    if report.run is None:
        _field(flow, labels.RECON_RUN, *labels.RECON_NOT_RUN)
    else:
        status = labels.RECON_RUN_STATUS.get(report.run.status, (report.run.status, report.run.status))
        attempts = labels.recon_attempts(report.run.attempts)
        _field(flow, labels.RECON_RUN, f"{status[0]}, {attempts[0]}", f"{status[1]}، {attempts[1]}")
        if report.run.finished_at:
            _field(flow, labels.RECON_FINISHED, format_moment(report.run.finished_at), "")
    _field(flow, labels.ISSUED, format_moment(report.issued_at), "")


def _field(flow: Flow, label: labels.Bilingual, value_en: str, value_ar: str) -> None:
    """English label and value on the left; the Arabic value and label on the right."""
    size = 9.5
    label_width = 120.0

    def draw(canvas: Canvas, x: float, top: float) -> None:
        y = baseline(top, size)
        canvas.setFillColor(GREY)
        draw_text(canvas, label[0], x=x, y=y, font=REGULAR, size=size - 1)
        draw_text(canvas, label[1], x=x, y=y, width=flow.width, font=REGULAR, size=size - 1, align="right", rtl=True)
        canvas.setFillColor(colors.black)
        draw_text(canvas, value_en, x=x + label_width, y=y, font=BOLD, size=size)
        if value_ar:
            right = flow.width - label_width
            draw_text(canvas, value_ar, x=x, y=y, width=right, font=BOLD, size=size, align="right", rtl=True)

    flow.add(line_height(size) + 3, draw)


def _section(flow: Flow, title: labels.Bilingual) -> None:
    flow.pair(*title, font=BOLD, size=11)
    flow.space(2)


def _amount(value: Tally) -> list[str]:
    return [str(value.count), format_amount(value.amount)]


def _line_rows(report: ReconciliationReport) -> list[Row]:
    rows: list[Row] = [(labels.RECON_IMPORTED, _amount(report.imported), True)]
    for status, label in labels.RECON_LINE_STATUS.items():
        rows.append((label, _amount(report.lines[status]), False))
    rows.append((labels.RECON_SETTLED, _amount(report.settled), False))
    if report.gross is not None:
        rows.append((labels.RECON_GROSS, ["", format_amount(report.gross)], False))
        rows.append((labels.RECON_FEES, ["", format_amount(report.fees)], False))
    return rows


def _exception_rows(
    rows: list[ExceptionRow], names: dict[str, labels.Bilingual], report: ReconciliationReport
) -> list[Row]:
    def cells(row: ExceptionRow) -> list[str]:
        return [*_amount(row.open), *_amount(row.resolved)]

    drawn: list[Row] = [(names.get(row.key, (row.key, row.key)), cells(row), False) for row in rows]
    drawn.append((labels.TOTAL, cells(report.exceptions), True))
    return drawn


def _table(flow: Flow, titles: list[labels.Bilingual], rows: list[Row], *, number: float) -> None:
    """Column titles (English over Arabic) on a shaded band, then one block per row, labels wrapped; figures
    right-aligned in columns ``number`` points wide, between the English and the Arabic labels."""
    figures = number * len(titles)
    label_width = (flow.width - figures) / 2 - 6
    first_figure = (flow.width - figures) / 2

    def title_band(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(SHADE)
        canvas.rect(x, top - 24, flow.width, 24, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        for n, (en, ar) in enumerate(titles):
            right = x + first_figure + (n + 1) * number - PAD
            draw_text(canvas, en, x=right - number, y=top - 10, width=number, font=BOLD, size=7.5, align="right")
            draw_text(canvas, ar, x=right - number, y=top - 20, width=number, font=BOLD, size=7.5, align="right")

    flow.add(24, title_band)
    for label, cells, strong in rows:
        _row(flow, label, cells, strong, label_width=label_width, first_figure=first_figure, number=number)


def _row(
    flow: Flow,
    label: labels.Bilingual,
    cells: Sequence[str],
    strong: bool,
    *,
    label_width: float,
    first_figure: float,
    number: float,
) -> None:
    font = BOLD if strong else REGULAR
    english = wrap(label[0], font, SIZE, label_width)
    arabic = wrap(label[1], font, SIZE, label_width)
    step = line_height(SIZE)
    height = max(len(english), len(arabic)) * step + 4

    def draw(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(colors.black)
        for n, line in enumerate(english):
            draw_text(canvas, line, x=x + 2, y=baseline(top - 2 - n * step, SIZE), font=font, size=SIZE)
        for n, line in enumerate(arabic):
            y = baseline(top - 2 - n * step, SIZE)
            draw_text(canvas, line, x=x, y=y, width=flow.width - 2, font=font, size=SIZE, align="right", rtl=True)
        y = baseline(top - 2, SIZE)
        for n, cell in enumerate(cells):
            right = x + first_figure + (n + 1) * number - PAD
            draw_text(canvas, cell, x=right - number, y=y, width=number, font=font, size=SIZE, align="right")
        canvas.setStrokeColor(LIGHT)
        canvas.setLineWidth(0.5)
        canvas.line(x, top - height, x + flow.width, top - height)

    flow.add(height, draw)
