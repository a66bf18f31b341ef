"""QR codes drawn with reportlab's own encoder (no extra dependency), as vectors: sharp at any printer DPI."""

from __future__ import annotations

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen.canvas import Canvas


def draw_qr(canvas: Canvas, value: str, *, x: float, y: float, size: float, level: str = "M") -> None:
    """A square QR code of side ``size`` with its lower-left corner at (x, y), quiet zone included.

    Level M survives the smudges and creases a paper receipt collects (about 15% of the code).
    """
    # The widget encodes the value each time it is drawn, and measuring it draws it: draw it once, use that.
    modules = QrCodeWidget(value, barLevel=level).draw()
    left, bottom, right, top = modules.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(modules)
    renderPDF.draw(drawing, canvas, x, y)
