"""The statement's table: where its columns are, and the rows of one page, written for speed.

A long statement is mostly rows, and reportlab's cost is per text operation more than per character. So a
movement is three operations on one text object per page: the date and the English description as one
string, the Arabic name of the movement (shaped once per process), and the three amounts as one string,
written as PDF operators by ``reports.pdf.rawtext`` (each character encoded once per document, each position
formatted once), and measured with its exact, faster ``string_width``.

The amounts line up because DejaVu Sans draws every digit and the figure space (U+2007) at one width, and
the decimal point and the punctuation space (U+2008) at another: amounts padded to the same number of
characters end at the same x, exactly as if each were right-aligned on its own. Should the font ever not
have those widths, each amount is placed on its own instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from erial.money import format_amount

from . import labels
from .pdf import BOLD, REGULAR, check_glyphs, has_arabic, register_fonts, visual
from .pdf.rawtext import TextWriter, fill_rect, running_widths, string_width

if TYPE_CHECKING:
    from .statements import Movement

SIZE = 7.2  # table text, points
ROW = 11.0  # every row, movement or total
TITLES = 22.0  # column titles: English over Arabic
PAD = 4.0  # between an amount and its column's right edge
DATE_X = 2.0
DATE_FORMAT = "%Y-%m-%d %H:%M"
DATE_GAP = "   "  # between the date and the description
AMOUNT_CHARS = 12  # "1000000.000" (the largest amount) and a spare digit
COLUMN_GAP = 2  # figure spaces between amount columns
FIGURE_SPACE = "\u2007"
PUNCTUATION_SPACE = "\u2008"
ELLIPSIS = "…"
SHADE = colors.HexColor("#eeeeee")
STRIPE = colors.HexColor("#f6f6f6")
RULE = colors.HexColor("#999999")
_DIGITS = frozenset("0123456789.")


@dataclass(frozen=True)
class Columns:
    """x positions from the table's left edge. Amounts end ``PAD`` short of their column's right edge."""

    width: float
    description_x: float
    description_right: float
    debit_right: float
    credit_right: float
    balance_right: float
    #: Where the three amounts start when drawn as one padded string.
    amounts_x: float
    #: The width of each ASCII character: an English description is measured by a table look-up per byte.
    ascii_widths: tuple[float, ...]
    #: Whether amounts may be drawn as one padded string (the font has the widths described above).
    packed: bool


@cache
def columns(width: float) -> Columns:
    """The columns of a table ``width`` points wide: three amount columns as wide as the largest amount."""
    register_fonts()
    digit = stringWidth("0", REGULAR, SIZE)
    point = stringWidth(".", REGULAR, SIZE)
    packed = all(stringWidth(ch, REGULAR, SIZE) == digit for ch in "123456789" + FIGURE_SPACE) and (
        stringWidth(PUNCTUATION_SPACE, REGULAR, SIZE) == point
    )
    amount = (AMOUNT_CHARS - 1) * digit + point
    pitch = amount + COLUMN_GAP * digit
    debit_right = width - 2 * pitch
    return Columns(
        width=width,
        description_x=DATE_X + stringWidth("2025-01-01 00:00" + DATE_GAP, REGULAR, SIZE),
        description_right=debit_right - PAD - amount - 10,
        debit_right=debit_right,
        credit_right=debit_right + pitch,
        balance_right=width,
        amounts_x=debit_right - PAD - amount,
        ascii_widths=tuple(stringWidth(chr(code), REGULAR, SIZE) for code in range(128)),
        packed=packed,
    )


@lru_cache(maxsize=512)
def drawn(text: str, font: str) -> str:
    """Text as reportlab must draw it, shaped when it is Arabic, its glyphs checked. Labels and headers
    repeat on every page: each is shaped once."""
    shown = visual(text, rtl=True) if has_arabic(text) else text
    check_glyphs(shown, font)
    return shown


def draw_text(canvas: Canvas, text: str, x: float, y: float, font: str, size: float, *, right: bool = False) -> None:
    """One line of header or footer text (shaped if Arabic); ``x`` is its right edge when ``right``."""
    shown = drawn(text, font)
    canvas.setFont(font, size)
    if right:
        canvas.drawRightString(x, y, shown)
    else:
        canvas.drawString(x, y, shown)


MASTHEAD_GREY = colors.HexColor("#555555")


def draw_masthead(canvas: Canvas, left: float, right: float, top: float) -> None:
    """The first page's top of every A4 report: the issuer, the e-Rial brand under it, a rule; English on the
    left, Arabic on the right. The title goes 50 points below ``top``."""
    issuer_en, issuer_ar = labels.issuer()
    canvas.setFillColor(colors.black)
    draw_text(canvas, issuer_en, left, top - 12, BOLD, 12.5)
    draw_text(canvas, issuer_ar, right, top - 12, BOLD, 12.5, right=True)
    canvas.setFillColor(MASTHEAD_GREY)
    draw_text(canvas, labels.BRAND[0], left, top - 25, REGULAR, 8.5)
    draw_text(canvas, labels.BRAND[1], right, top - 25, REGULAR, 8.5, right=True)
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(1.2)
    canvas.line(left, top - 31, right, top - 31)
    canvas.setFillColor(colors.black)


def fit(text: str, font: str, size: float, width: float) -> str:
    """The logical text, cut with an ellipsis when its drawn form is wider than ``width``."""
    running = None if has_arabic(text) else running_widths(text + ELLIPSIS, font)
    if running is None:  # shaped text: each candidate is shaped and measured
        if string_width(visual(text), font, size) <= width:
            return text
        return _cut(text, lambda kept: string_width(visual(kept + ELLIPSIS), font, size) <= width)
    # Latin text is drawn as it is: a prefix's width is a running sum, and the ellipsis's is added to it.
    scale, ellipsis = 0.001 * size, running[-1] - running[-2]
    if scale * running[-2] <= width:
        return text
    return _cut(text, lambda kept: scale * (running[len(kept)] + ellipsis) <= width)


def _cut(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix (trailing spaces dropped) that ``fits`` with an ellipsis after it, and the ellipsis."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle].rstrip()):
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


def draw_titles(
    canvas: Canvas,
    left: float,
    top: float,
    cols: Columns,
    amounts: tuple[labels.Bilingual, labels.Bilingual] = (labels.DEBIT, labels.CREDIT),
) -> None:
    """The column titles on a shaded band: English on the first line, Arabic on the second. ``amounts`` names
    the two movement columns (an office's drawer, an asset, calls them out and in, not debit and credit)."""
    canvas.setFillColor(SHADE)
    canvas.rect(left, top - TITLES, cols.width, TITLES, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    canvas.setFont(BOLD, SIZE)
    for n, y in ((0, top - 9), (1, top - 19)):
        canvas.drawString(left + DATE_X, y, drawn(labels.DATE[n], BOLD))
        if n == 0:
            canvas.drawString(left + cols.description_x, y, drawn(labels.DESCRIPTION[n], BOLD))
        else:
            canvas.drawRightString(left + cols.description_right, y, drawn(labels.DESCRIPTION[n], BOLD))
        for label, right in (
            (amounts[0], cols.debit_right),
            (amounts[1], cols.credit_right),
            (labels.BALANCE, cols.balance_right),
        ):
            canvas.drawRightString(left + right - PAD, y, drawn(label[n], BOLD))


def _packed(*values: Decimal | None) -> str | None:
    """Amounts (``None``: an empty cell) each right-aligned in ``AMOUNT_CHARS`` digit-wide characters, as one
    string; ``None`` when one cannot be (a negative amount, or one too large)."""
    cells = []
    for value in values:
        if value is None:
            cells.append(FIGURE_SPACE * (AMOUNT_CHARS - 1) + PUNCTUATION_SPACE)
            continue
        shown = format_amount(value)
        if len(shown) > AMOUNT_CHARS or not _DIGITS.issuperset(shown):
            return None
        cells.append(shown.rjust(AMOUNT_CHARS, FIGURE_SPACE))
    return (FIGURE_SPACE * COLUMN_GAP).join(cells)


@dataclass
class Rows:
    """The rows of one page from ``top`` down, written into one text object drawn by ``done()``."""

    canvas: Canvas
    left: float
    top: float
    cols: Columns
    text: PDFTextObject = field(init=False)
    writer: TextWriter = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.text = self.canvas.beginText()
        self.writer = TextWriter(self.canvas, self.text)
        self.canvas.setFillColor(STRIPE)  # the stripes; the text gets its colour in done()

    def _put(self, x: float, value: str, font: str) -> None:
        self.writer.show(self.left + x, self.top - 8, value, font, SIZE)

    def _amount(self, right: float, value: Decimal | None, font: str) -> None:
        if value is not None:
            shown = format_amount(value)
            self._put(right - PAD - stringWidth(shown, font, SIZE), shown, font)

    def _arabic(self, label: str, font: str) -> float:
        """A label flush with the description's right edge; returns its width."""
        shown = drawn(label, font)
        width = _width(shown, font)
        self._put(self.cols.description_right - width, shown, font)
        return width

    def movement(self, movement: Movement, balance: Decimal, zone: dt.tzinfo) -> None:
        """Date and English on the left, Arabic on the right of the description, then the amounts. A memo
        typed in Arabic (a refund's reason) goes on the Arabic side, after the Arabic name of the movement."""
        if self.count % 2:
            fill_rect(self.canvas, self.left, self.top - ROW, self.cols.width, ROW)
        label_en, label_ar = labels.MOVEMENT.get(movement.kind, labels.OTHER_MOVEMENT)
        memo = " ".join(movement.memo.split())
        if has_arabic(memo):
            self._arabic_memo(f"{label_ar}: {memo}", room=self._room(label_en))
            description = label_en
        else:
            description = self._english(f"{label_en}: {memo}" if memo else label_en, label_ar)
        day = movement.created_at.astimezone(zone).strftime(DATE_FORMAT)
        self._put(DATE_X, f"{day}{DATE_GAP}{description}", REGULAR)
        debit, credit = movement.debit or None, movement.credit or None
        amounts = _packed(debit, credit, balance) if self.cols.packed else None
        if amounts is None:
            self._amount(self.cols.debit_right, debit, REGULAR)
            self._amount(self.cols.credit_right, credit, REGULAR)
            self._amount(self.cols.balance_right, balance, REGULAR)
        else:
            self._put(self.cols.amounts_x, amounts, REGULAR)
        self.top -= ROW
        self.count += 1

    def _room(self, beside: str) -> float:
        """The description's width left over by ``beside`` (the text on its other side)."""
        return self.cols.description_right - self.cols.description_x - stringWidth(beside, REGULAR, SIZE) - 8

    def _english(self, description: str, label_ar: str) -> str:
        """The English description as drawn, cut to the room the Arabic label leaves it."""
        room = self.cols.description_right - self.cols.description_x - self._arabic(label_ar, REGULAR) - 8
        plain = description.isascii() and description.isprintable()
        if plain and sum(map(self.cols.ascii_widths.__getitem__, description.encode("ascii"))) <= room:
            return description  # the usual case, measured by table look-up
        description = fit(description, REGULAR, SIZE, room)
        if has_arabic(description):
            description = visual(description, rtl=False)
        check_glyphs(description, REGULAR)
        return description

    def _arabic_memo(self, text: str, *, room: float) -> None:
        shown, width = _arabic_memo(text, room)
        self._put(self.cols.description_right - width, shown, REGULAR)

    def total(
        self,
        label: labels.Bilingual,
        *,
        debit: Decimal | None = None,
        credit: Decimal | None = None,
        balance: Decimal | None = None,
        day: dt.date | None = None,
        rule: bool = False,
    ) -> None:
        """A bold row: opening balance, brought or carried forward, page or period total, closing balance."""
        if rule:
            self.canvas.setStrokeColor(RULE)
            self.canvas.setLineWidth(0.6)
            self.canvas.line(self.left, self.top, self.left + self.cols.width, self.top)
        if day is not None:
            self._put(DATE_X, day.isoformat(), BOLD)
        self._put(self.cols.description_x, label[0], BOLD)
        self._arabic(label[1], BOLD)
        self._amount(self.cols.debit_right, debit, BOLD)
        self._amount(self.cols.credit_right, credit, BOLD)
        self._amount(self.cols.balance_right, balance, BOLD)
        self.top -= ROW

    def note(self, label: labels.Bilingual) -> None:
        """A line of plain text in the description (no movements in the period)."""
        self._put(self.cols.description_x, label[0], REGULAR)
        self._arabic(label[1], REGULAR)
        self.top -= ROW

    def done(self) -> None:
        self.canvas.setFillColor(colors.black)
        self.canvas.drawText(self.text)


@lru_cache(maxsize=64)
def _width(shown: str, font: str) -> float:
    return stringWidth(shown, font, SIZE)


@lru_cache(maxsize=256)
def _arabic_memo(text: str, room: float) -> tuple[str, float]:
    """An Arabic memo cut to ``room``, shaped, its glyphs checked, and its width. The reasons typed for refunds
    repeat ("cancelled on appeal"): each is shaped once."""
    shown = visual(fit(text, REGULAR, SIZE, room), rtl=True)
    check_glyphs(shown, REGULAR)
    return shown, string_width(shown, REGULAR, SIZE)
