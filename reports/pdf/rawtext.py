"""Text (and the stripes behind it) written straight as PDF operators, for documents of thousands of lines.

reportlab encodes every string character by character in Python (a TrueType font's subset codes, then the
PDF escapes) and formats every text position anew: on a 10,000-line statement that is most of the time spent.
Here each character is encoded once per document and font (``str.translate`` with a table that fills itself
through reportlab's own ``TTFont.splitString``, so the codes, subsets and embedded glyphs are exactly the ones
reportlab would have chosen), and each position's operator is formatted once per process. The text drawn, and
read back by a PDF reader, is the same as with ``PDFTextObject.textLine``; only the cursor bookkeeping, which
absolute positioning never uses, is left out.

Text that does not fit the font's first 256-glyph subset (a document using more than 224 distinct non-ASCII
characters), and standard (non-TrueType) fonts, go through reportlab's text object as before.
"""

from __future__ import annotations

import weakref
from functools import cache, lru_cache
from itertools import accumulate, repeat
from typing import Any

from reportlab.lib.rl_accel import escapePDF, fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import PATH_OPS, Canvas
from reportlab.pdfgen.textobject import PDFTextObject


@cache
def _metrics(font_name: str) -> tuple[Any, float] | None:
    """A TrueType font's glyph widths (per mille of the size) and its default width; ``None`` otherwise."""
    font = pdfmetrics.getFont(font_name)
    face = getattr(font, "face", None)
    if not getattr(font, "_dynamicFont", False) or not hasattr(face, "charWidths"):
        return None
    return face.charWidths.get, face.defaultWidth


def string_width(text: str, font_name: str, size: float) -> float:
    """``pdfmetrics.stringWidth`` to the last bit (the same widths added in the same order), without its
    Python loop per character: what measuring every line of a long document needs."""
    metrics = _metrics(font_name)
    if metrics is None:
        return pdfmetrics.stringWidth(text, font_name, size)
    width, default = metrics
    return 0.001 * size * sum(map(width, map(ord, text), repeat(default)))


def running_widths(text: str, font_name: str) -> list[float] | None:
    """Entry k is the width of ``text[:k]`` in thousandths of the font size (``None`` for a font that is not
    TrueType): ``string_width(text[:k], font, size) == 0.001 * size * running_widths(text, font)[k]``, so the
    longest prefix that fits is found without measuring every candidate again. Exactly equal: glyph widths are
    font units times 1000 / units per em (2048 for DejaVu), binary fractions whose sums are exact in any order."""
    metrics = _metrics(font_name)
    if metrics is None:
        return None
    width, default = metrics
    return list(accumulate(map(width, map(ord, text), repeat(default)), initial=0))


class _OtherSubset(Exception):
    """A character whose code lies beyond the font's first subset."""


class _Codes(dict[int, str]):
    """``ord(character)`` -> its escaped code in subset 0 of one TrueType font in one document, filled on
    first use (``str.translate`` calls ``__missing__`` for a character not seen yet)."""

    def __init__(self, font: Any, doc: Any) -> None:
        super().__init__()
        self.font = font
        self.doc = weakref.ref(doc)  # the table lives as long as its document, and never keeps it alive

    def __missing__(self, code: int) -> str:
        ((subset, raw),) = self.font.splitString(chr(code), self.doc())
        if subset != 0:
            raise _OtherSubset
        value = self[code] = escapePDF(raw)
        return value


#: Per document (reportlab's PDFDocument, gone with its canvas): font name -> (subset 0 name, codes), or
#: ``None`` for a font that is not TrueType.
Tables = dict[str, tuple[str, _Codes] | None]
_TABLES: weakref.WeakKeyDictionary[Any, Tables] = weakref.WeakKeyDictionary()


def _tables(doc: Any) -> Tables:
    return _TABLES.setdefault(doc, {})


def _table(tables: Tables, doc: Any, font_name: str) -> tuple[str, _Codes] | None:
    """The subset-0 resource name and code table of ``font_name`` in ``doc``."""
    if font_name not in tables:
        font = pdfmetrics.getFont(font_name)
        if not getattr(font, "_dynamicFont", False) or not hasattr(font, "splitString"):
            tables[font_name] = None
        else:
            font.splitString("", doc)  # the font's state in this document, made as reportlab makes it
            tables[font_name] = (font.getSubsetInternalName(0, doc), _Codes(font, doc))
    return tables[font_name]


@lru_cache(maxsize=8192)
def _origin(x: float, y: float) -> str:
    return f"1 0 0 1 {fp_str(x, y)} Tm"


@lru_cache(maxsize=64)
def _font_op(name: str, size: float) -> str:
    return f"{name} {fp_str(size)} Tf"


class TextWriter:
    """Writes lines at absolute positions into one ``PDFTextObject`` of ``canvas`` (drawn as usual with
    ``canvas.drawText``)."""

    def __init__(self, canvas: Canvas, text: PDFTextObject) -> None:
        self.canvas = canvas
        self.text = text
        self._tables = _tables(canvas._doc)
        self._current: tuple[str, float] | None = None

    def show(self, x: float, y: float, value: str, font: str, size: float) -> None:
        """Draw ``value`` (already in drawing order, its glyphs checked) with its start at (x, y)."""
        table = self._tables.get(font) or _table(self._tables, self.canvas._doc, font)
        if table is not None:
            name, codes = table
            try:
                encoded = value.translate(codes)
            except _OtherSubset:
                pass
            else:
                code = self.text._code
                if self._current != (font, size):
                    code.append(_font_op(name, size))
                    self._current = (font, size)
                code.append(f"{_origin(x, y)} ({encoded}) Tj")
                return
        self.text.setFont(font, size)  # reportlab's own way; it chooses its subset again
        self.text.setTextOrigin(x, y)
        self.text.textLine(value)
        self._current = None


def fill_rect(canvas: Canvas, x: float, y: float, width: float, height: float) -> None:
    """``canvas.rect(x, y, width, height, stroke=0, fill=1)``, its operator formatted once per position: the
    stripes of a long table sit at the same places page after page."""
    canvas._code.append(_filled_rect(x, y, width, height, canvas._fillMode))


@lru_cache(maxsize=1024)
def _filled_rect(x: float, y: float, width: float, height: float, mode: int) -> str:
    return f"n {fp_str(x, y, width, height)} re {PATH_OPS[0, 1, mode]}"
