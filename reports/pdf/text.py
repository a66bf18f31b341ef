"""Text as reportlab must be given it: Arabic shaped and put in visual order, lines wrapped before reordering.

reportlab draws code points left to right, one glyph each. Arabic needs its joining forms chosen
(``arabic_reshaper``) and each line reordered right to left with brackets mirrored
(``bidi.algorithm.get_display``). Wrapping happens on the logical text first, so that the first words of an
Arabic sentence stay on the first line; only then is each line reordered.
"""

from __future__ import annotations

import re
from typing import Literal

from arabic_reshaper import ArabicReshaper
from bidi.algorithm import get_display
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from .fonts import check_glyphs, register_fonts

Align = Literal["left", "right", "center"]

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# Only the lam-alef ligatures, which DejaVu Sans has. The default also turns "الله" (as in the name
# عبدالله) into U+FDF2, a glyph DejaVu lacks: the name would print with a hole in it.
_RESHAPER = ArabicReshaper(configuration={"ARABIC LIGATURE ALLAH": False})


def has_arabic(text: str) -> bool:
    return bool(_ARABIC.search(text))


def visual(line: str, *, rtl: bool | None = None) -> str:
    """One line in drawing order. ``rtl`` sets the paragraph direction; ``None`` takes it from the first
    strong character (Unicode rules P2-P3). Text without Arabic is returned unchanged.
    """
    if not has_arabic(line):
        return line
    base = None if rtl is None else ("R" if rtl else "L")
    return get_display(_RESHAPER.reshape(line), base_dir=base)


def text_width(text: str, font: str, size: float) -> float:
    """The width of a logical line once shaped (joined Arabic forms are narrower than isolated ones)."""
    register_fonts()
    return stringWidth(visual(text), font, size)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Logical lines no wider than ``width``: words kept whole, a word wider than a line (a URL) cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, font, size) > width and len(word) > 1:
                fits = (n for n in range(1, len(word)) if text_width(word[:n], font, size) <= width)
                cut = max(fits, default=1)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def draw_text(
    canvas: Canvas,
    text: str,
    *,
    x: float,
    y: float,
    width: float = 0,
    font: str,
    size: float,
    align: Align = "left",
    rtl: bool | None = None,
) -> None:
    """Draw one logical line on its baseline ``y`` within ``[x, x + width]``, refusing missing glyphs."""
    shown = visual(text, rtl=rtl)
    check_glyphs(shown, font)
    canvas.setFont(font, size)
    if align == "right":
        canvas.drawRightString(x + width, y, shown)
    elif align == "center":
        canvas.drawCentredString(x + width / 2, y, shown)
    else:
        canvas.drawString(x, y, shown)
