"""A flow of blocks stacked top to bottom, measured before it is drawn.

Measuring first is what lets a thermal receipt be cut to the length of its content, and an A4 document
break pages between blocks instead of through them. Blocks draw themselves at a given top edge; the
common bilingual pieces (English on the left, Arabic on the right) are built here once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas

from .fonts import REGULAR, register_fonts
from .text import Align, draw_text, has_arabic, text_width, wrap

#: (canvas, left x, top y) -> None; the block knows its own width and height.
Draw = Callable[[Canvas, float, float], None]

LEADING = 1.32  # line height as a multiple of the font size: room for Arabic descenders and accents
GAP = 8.0  # points between an English and an Arabic text sharing a line


@dataclass(frozen=True)
class Block:
    height: float
    draw: Draw


def line_height(size: float) -> float:
    return size * LEADING


def baseline(top: float, size: float) -> float:
    """The baseline of a line whose box starts at ``top`` (DejaVu's ascent is about 0.93 em)."""
    return top - size * 0.98


def pair_lines(left: str, right: str, font: str, size: float, width: float) -> list[tuple[str, str]]:
    """An English text and its Arabic twin as drawn lines: side by side when both fit, else stacked."""
    if left and right and text_width(left, font, size) + GAP + text_width(right, font, size) <= width:
        return [(left, right)]
    english = [(line, "") for line in wrap(left, font, size, width)] if left else []
    arabic = [("", line) for line in wrap(right, font, size, width)] if right else []
    return english + arabic


@dataclass
class Flow:
    """Blocks of a document ``width`` points wide (the printable width, margins excluded)."""

    width: float
    blocks: list[Block] = field(default_factory=list)

    @property
    def height(self) -> float:
        return sum(block.height for block in self.blocks)

    def add(self, height: float, draw: Draw) -> None:
        self.blocks.append(Block(height, draw))

    def space(self, height: float) -> None:
        self.add(height, lambda canvas, x, top: None)

    def text(
        self,
        text: str,
        *,
        font: str = REGULAR,
        size: float = 9,
        align: Align = "left",
        color: colors.Color = colors.black,
    ) -> None:
        """A paragraph wrapped to the width; Arabic text runs right to left."""
        rtl = has_arabic(text)
        lines = wrap(text, font, size, self.width)
        step = line_height(size)

        def draw(canvas: Canvas, x: float, top: float) -> None:
            canvas.setFillColor(color)
            for n, line in enumerate(lines):
                y = baseline(top - n * step, size)
                draw_text(canvas, line, x=x, y=y, width=self.width, font=font, size=size, align=align, rtl=rtl)

        self.add(len(lines) * step, draw)

    def pair(
        self, left: str, right: str, *, font: str = REGULAR, size: float = 9, color: colors.Color = colors.black
    ) -> None:
        """English flush left and Arabic flush right, on one line when they fit."""
        self.add(*pair_block(left, right, font=font, size=size, width=self.width, color=color))

    def rule(self, *, dashed: bool = False, weight: float = 0.5, pad: float = 4) -> None:
        def draw(canvas: Canvas, x: float, top: float) -> None:
            canvas.setLineWidth(weight)
            canvas.setStrokeColor(colors.black)
            if dashed:
                canvas.setDash(2, 2)
            canvas.line(x, top - pad, x + self.width, top - pad)

        self.add(2 * pad, draw)

    def render_roll(self, *, margin_x: float, margin_y: float, title: str) -> bytes:
        """One page exactly as long as the content: a thermal printer cuts the paper where the page ends."""
        page = (self.width + 2 * margin_x, self.height + 2 * margin_y)
        return self._render(page, margin_x, margin_y, title)

    def render_pages(self, *, page: tuple[float, float], margin: float, title: str) -> bytes:
        """Fixed-size pages (A4), breaking between blocks."""
        return self._render(page, margin, margin, title)

    def _render(self, page: tuple[float, float], margin_x: float, margin_y: float, title: str) -> bytes:
        register_fonts()
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=page, pageCompression=1)
        canvas.setTitle(title)
        canvas.setAuthor("e-Rial")
        canvas.setCreator("e-Rial")
        top = page[1] - margin_y
        for block in self.blocks:
            if top - block.height < margin_y - 0.01 and top < page[1] - margin_y:
                canvas.showPage()
                top = page[1] - margin_y
            canvas.saveState()
            block.draw(canvas, margin_x, top)
            canvas.restoreState()
            top -= block.height
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def pair_block(
    left: str, right: str, *, font: str, size: float, width: float, color: colors.Color = colors.black
) -> tuple[float, Draw]:
    """(height, draw) of an English/Arabic pair within ``width``, for blocks that place it themselves."""
    lines = pair_lines(left, right, font, size, width)
    step = line_height(size)

    def draw(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(color)
        for n, (en, ar) in enumerate(lines):
            y = baseline(top - n * step, size)
            if en:
                draw_text(canvas, en, x=x, y=y, width=width, font=font, size=size, align="left")
            if ar:
                draw_text(canvas, ar, x=x, y=y, width=width, font=font, size=size, align="right", rtl=True)

    return len(lines) * step, draw
