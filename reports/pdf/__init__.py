"""What every e-Rial PDF is drawn with: the shipped fonts, Arabic shaping and bidi, amounts and times, QR codes.

Receipts use it today; statements and finance reports reuse the same pieces, so a fix (a glyph, a
bracket the wrong way round) is made once.
"""

from .fonts import BOLD, REGULAR, MissingGlyphError, check_glyphs, register_fonts
from .formatting import amount_ar, amount_en, format_moment, muscat_time
from .layout import Flow
from .qr import draw_qr
from .text import draw_text, has_arabic, text_width, visual, wrap

__all__ = [
    "BOLD",
    "REGULAR",
    "Flow",
    "MissingGlyphError",
    "amount_ar",
    "amount_en",
    "check_glyphs",
    "draw_qr",
    "draw_text",
    "format_moment",
    "has_arabic",
    "muscat_time",
    "register_fonts",
    "text_width",
    "visual",
    "wrap",
]
