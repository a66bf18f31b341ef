"""The fast text path of long documents (reports.pdf.rawtext): it measures exactly as reportlab does, and a page
written with it looks and reads exactly like the same page written through reportlab's text object, including
Arabic, PDF-special characters, more glyphs than one font subset holds, and a standard font."""

from __future__ import annotations

import gc
import io
import math

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from reports.pdf import BOLD, REGULAR, rawtext, register_fonts, visual
from reports.pdf.rawtext import TextWriter, string_width
from reports.statement_table import ELLIPSIS, fit
from tests.reports.conftest import needs_poppler, pdf_pngs, pdf_text

SAMPLES = [
    ("Fee payment: Parking fines F-000123", REGULAR),
    ("Refund (a) \\ back-slash) and (brackets", BOLD),
    (visual("استرداد: إلغاء المخالفة بعد التظلم", rtl=True), REGULAR),
    ("\u2007\u2007\u20073.100\u2007\u2007\u2007\u2007\u2007\u2007\u2007\u2007\u2008\u2007\u200712.345", REGULAR),
    ("Ellipsis… and 2025-07-01 00:26", BOLD),
]
#: More distinct glyphs than a TrueType subset (256 codes, ASCII among them) can hold: Greek, Cyrillic, Latin-A.
GREEK = [*range(0x391, 0x3A2), *range(0x3A3, 0x3AA), *range(0x3B1, 0x3CA)]
MANY = [chr(c) for c in (*GREEK, *range(0x400, 0x460), *range(0x100, 0x180))]


def _pdf(lines: list[tuple[str, str]], *, fast: bool, size: float = 7.2) -> bytes:
    """One page of ``lines`` (text, font), 11 points apart, written by the writer or by reportlab's textLine."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    text = canvas.beginText()
    writer = TextWriter(canvas, text)
    for n, (value, font) in enumerate(lines):
        x, y = 40 + (n % 3) * 7.25, A4[1] - 40 - n * 11
        if fast:
            writer.show(x, y, value, font, size)
        else:
            text.setFont(font, size)
            text.setTextOrigin(x, y)
            text.textLine(value)
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _same_page(fast: bytes, slow: bytes, tmp_path) -> None:
    assert pdf_text(fast, tmp_path) == pdf_text(slow, tmp_path)
    (a,) = pdf_pngs(fast, tmp_path, dpi=100, name="fast")
    (b,) = pdf_pngs(slow, tmp_path, dpi=100, name="slow")
    assert ImageChops.difference(Image.open(a).convert("L"), Image.open(b).convert("L")).getbbox() is None


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from([*map(chr, range(32, 127)), *"إلغاء المخالفة…\u2007\u2008·–", "\U0001f600"])),
    font=st.sampled_from([REGULAR, BOLD, "Helvetica"]),
    size=st.sampled_from([7.2, 8, 9.5, 12.5]),
)
def test_widths_are_reportlabs_to_the_last_bit(text, font, size):
    register_fonts()
    assert string_width(text, font, size) == stringWidth(text, font, size)


def _fit_by_measuring(text: str, font: str, size: float, width: float) -> str:
    """fit() as it was first written: every candidate shaped and measured by reportlab."""
    if stringWidth(visual(text), font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if stringWidth(visual(text[:middle].rstrip() + ELLIPSIS), font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([*map(chr, range(32, 127)), *"   éß…·", "سالم", " الحارثي"]), max_size=50).map(
        "".join
    ),
    font=st.sampled_from([REGULAR, BOLD, "Helvetica"]),
    size=st.sampled_from([7, 7.2, 9.5]),
    width=st.floats(min_value=0, max_value=250),
    cut=st.integers(min_value=0, max_value=60),
)
def test_fit_cuts_where_measuring_every_candidate_cuts(text, font, size, width, cut):
    register_fonts()
    assert fit(text, font, size, width) == _fit_by_measuring(text, font, size, width)
    exact = stringWidth(visual(text[:cut].rstrip() + ELLIPSIS), font, size)  # a width right on a boundary
    for edge in (exact, math.nextafter(exact, 0)):  # the candidate just fits; it just does not
        assert fit(text, font, size, edge) == _fit_by_measuring(text, font, size, edge)


@needs_poppler
def test_a_page_written_fast_is_the_page_reportlab_writes(tmp_path):
    lines = SAMPLES * 4
    fast, slow = _pdf(lines, fast=True), _pdf(lines, fast=False)
    _same_page(fast, slow, tmp_path)
    text = pdf_text(fast, tmp_path)
    assert "Refund (a) \\ back-slash) and (brackets" in text and "إلغاء المخالفة بعد التظلم" in text


@needs_poppler
def test_glyphs_beyond_the_first_subset_and_standard_fonts_go_through_reportlab(tmp_path):
    lines = [("".join(MANY[n : n + 20]), REGULAR) for n in range(0, len(MANY), 20)]
    lines += [("Helvetica (a standard font) \\ ok", "Helvetica"), ("Back in DejaVu: ΑΒΓ 1.000", REGULAR)]
    assert len(set("".join(text for text, _ in lines))) > 300
    fast, slow = _pdf(lines, fast=True), _pdf(lines, fast=False)
    _same_page(fast, slow, tmp_path)
    text = pdf_text(fast, tmp_path)
    assert "ΦΧΨΩ" in text and "ŔŕŖŗŘř" in text and "Helvetica (a standard font)" in text


def test_the_code_tables_go_with_their_document():
    gc.collect()
    before = len(rawtext._TABLES)
    _pdf(SAMPLES, fast=True)
    assert len(rawtext._TABLES) == before  # freed with the canvas: a long-lived worker does not grow
