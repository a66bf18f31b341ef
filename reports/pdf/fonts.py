"""The fonts every PDF uses, shipped with the project (reports/fonts/), and the check that they can draw a text.

DejaVu Sans covers Latin and Arabic (including the presentation forms the reshaper produces), so one
family serves both languages. The files live in the repository: a server without system fonts, or with
different ones, prints the same receipt.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}


class MissingGlyphError(ValueError):
    """The font has no glyph for a character: reportlab would silently print a blank, so drawing is refused."""


@cache
def register_fonts() -> None:
    """Register the shipped fonts with reportlab (once per process; later calls do nothing)."""
    for name, filename in _FILES.items():
        pdfmetrics.registerFont(TTFont(name, FONT_DIR / filename))


@cache
def _covered(font_name: str) -> frozenset[int]:
    register_fonts()
    return frozenset(pdfmetrics.getFont(font_name).face.charToGlyph)


def check_glyphs(text: str, font_name: str) -> None:
    """Raise ``MissingGlyphError`` unless every character of ``text`` (as drawn) exists in the font."""
    covered = _covered(font_name)
    missing = sorted({ch for ch in text if ord(ch) not in covered})
    if missing:
        names = ", ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}" for ch in missing)
        raise MissingGlyphError(f"{font_name} cannot draw {names} (in {text!r})")
