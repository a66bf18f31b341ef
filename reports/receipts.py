"""Receipts as PDFs: an 80 mm thermal slip for the counter's printer and an A4 page, both bilingual.

The content (which lines a receipt has) is decided once from the receipt data; the two paper sizes only
lay it out differently. Every receipt carries a QR code to the public verification page and the short code
printed beneath it, so a receipt can be checked by someone who has no scanner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from . import labels
from .pdf import BOLD, REGULAR, Flow, amount_ar, amount_en, draw_qr, draw_text, format_moment, has_arabic
from .pdf.layout import baseline, line_height, pair_block, pair_lines
from .verification import printed_code, refund_note

Size = Literal["a4", "thermal"]
SIZES: tuple[Size, ...] = ("a4", "thermal")
GREY = colors.HexColor("#555555")
LIGHT = colors.HexColor("#dddddd")
SHADE = colors.HexColor("#f2f2f2")


@dataclass(frozen=True)
class Field:
    """One line of a receipt: its label in both languages, and its value (with an Arabic twin if it has one)."""

    label: labels.Bilingual
    value: str
    value_ar: str = ""
    strong: bool = False


@dataclass(frozen=True)
class Content:
    """Everything a receipt says, whatever paper it is printed on."""

    number: str
    title: labels.Bilingual
    details: list[Field]
    money: list[Field]
    voided: bool
    verification_url: str
    verification_code: str
    #: What was refunded of a payment since (``verification.refund_note``): a mark beside the figures paid.
    refund: labels.Bilingual | None = None
    refunded_in_full: bool = False


def receipt_content(data: Mapping[str, Any]) -> Content:
    """The lines of the receipt described by ``data`` (``reports.receipt_lookup.receipt`` plus the verification)."""
    kind = data["kind"]
    details = [
        Field(labels.RECEIPT_NUMBER, data["receipt_number"], strong=True),
        Field(labels.WHEN, format_moment(data["created_at"])),
        Field(labels.ACCOUNT, data["account"]),
        Field(labels.HOLDER, data["holder_en"], data["holder_ar"]),
    ]
    if data.get("office"):
        details.append(Field(labels.OFFICE, f"{data['office_en']} ({data['office']})", data["office_ar"]))
    if data.get("service"):
        details.append(Field(labels.SERVICE, data.get("service_en", data["service"]), data.get("service_ar", "")))
        details.append(Field(labels.BILL, data["bill_reference"]))
    if kind == "online_topup":
        details.append(Field(labels.PAID_THROUGH, data["channel_en"], data["channel_ar"]))
        details.append(Field(labels.TOPUP_REFERENCE, data["reference"]))
        if data.get("partner_txn_id"):
            details.append(Field(labels.PARTNER_TXN, data["partner_txn_id"]))
    if kind == "refund":
        details.append(Field(labels.REFUND_OF, data["payment_receipt"]))
        if data.get("reason"):
            details.append(_free_text(labels.REASON, data["reason"]))
    return Content(
        number=data["receipt_number"],
        title=labels.TITLE[kind],
        details=details,
        money=_money(kind, data),
        voided=bool(data.get("voided")),
        verification_url=data["verification_url"],
        verification_code=data["verification_code"],
        refund=refund_note(data),
        refunded_in_full=data.get("refund_status") == "full",
    )


def _free_text(label: labels.Bilingual, text: str) -> Field:
    """Text typed by staff in either language: Arabic goes on the Arabic side, flush right."""
    return Field(label, "", text) if has_arabic(text) else Field(label, text)


def _money(kind: str, data: Mapping[str, Any]) -> list[Field]:
    def line(label: labels.Bilingual, value: str, strong: bool = False) -> Field:
        return Field(label, amount_en(value), amount_ar(value), strong=strong)

    if kind == "payment":
        return [
            line(labels.AMOUNT, data["amount"]),
            line(labels.FEE, data["fee"]),
            line(labels.TOTAL_PAID, data["total"], strong=True),
        ]
    if kind == "refund":
        return [
            line(labels.AMOUNT_REFUNDED, data["amount"]),
            line(labels.FEE_RETURNED, data["fee_returned"]),
            line(labels.TOTAL_REFUNDED, data["total"], strong=True),
        ]
    return [line(labels.AMOUNT, data["amount"], strong=True)]


def render_receipt(data: Mapping[str, Any], *, size: Size = "a4") -> bytes:
    """The receipt as a PDF: ``"a4"`` (one A4 page) or ``"thermal"`` (80 mm wide, as long as its content)."""
    if size not in _LAYOUTS:
        raise ValueError(f"A receipt is printed on {' or '.join(SIZES)}, not {size!r}.")
    return _LAYOUTS[size](receipt_content(data))


# --- 80 mm thermal ------------------------------------------------------------------------------------
THERMAL_WIDTH = 80 * mm
THERMAL_MARGIN_X = 4 * mm  # 72 mm printable: what 80 mm thermal printers reach


def _thermal(content: Content) -> bytes:
    flow = Flow(THERMAL_WIDTH - 2 * THERMAL_MARGIN_X)
    issuer_en, issuer_ar = labels.issuer()
    flow.text(issuer_ar, font=BOLD, size=10, align="center")
    flow.text(issuer_en, font=BOLD, size=9, align="center")
    flow.text(f"{labels.BRAND[1]} · {labels.BRAND[0]}", size=7.5, align="center", color=GREY)
    flow.rule(dashed=True)
    flow.text(content.title[1], font=BOLD, size=10.5, align="center")
    flow.text(content.title[0], font=BOLD, size=9.5, align="center")
    if content.voided:
        flow.space(3)
        _banner(flow, labels.VOIDED, size=7.5)
    if content.refund:
        flow.space(3)
        _banner(flow, content.refund, size=7.5, inverted=content.refunded_in_full)
    flow.rule(dashed=True)
    for item in content.details:
        _thermal_field(flow, item, value_size=8.5)
    flow.rule(dashed=True)
    for item in content.money:
        _thermal_field(flow, item, value_size=11 if item.strong else 8.5)
    flow.rule(dashed=True)
    _thermal_verification(flow, content)
    flow.rule(dashed=True)
    flow.text(labels.KEEP[1], size=6.5, align="center", color=GREY)
    flow.text(labels.KEEP[0], size=6.5, align="center", color=GREY)
    return flow.render_roll(margin_x=THERMAL_MARGIN_X, margin_y=5 * mm, title=_title(content))


def _thermal_field(flow: Flow, item: Field, *, value_size: float) -> None:
    """Label line (English left, Arabic right), then the value beneath it."""
    flow.pair(*item.label, size=6.5, color=GREY)
    flow.pair(item.value, item.value_ar, font=BOLD if item.strong else REGULAR, size=value_size)
    flow.space(2.5)


def _thermal_verification(flow: Flow, content: Content) -> None:
    side = 30 * mm

    def qr(canvas: Canvas, x: float, top: float) -> None:
        draw_qr(canvas, content.verification_url, x=x + (flow.width - side) / 2, y=top - side, size=side)

    flow.text(labels.VERIFY[1], font=BOLD, size=7.5, align="center")
    flow.text(labels.VERIFY[0], font=BOLD, size=7.5, align="center")
    flow.space(2)
    flow.add(side, qr)
    flow.space(2)
    flow.pair(*labels.CODE, size=6.5, color=GREY)
    flow.text(printed_code(content.verification_code), font=BOLD, size=11, align="center")
    flow.space(2)
    flow.pair(*labels.SCAN, size=6, color=GREY)
    flow.text(content.verification_url, size=6, align="center")


# --- A4 ---------------------------------------------------------------------------------------------
A4_MARGIN = 18 * mm
LABEL_COLUMN = 120.0  # points for each label column (English left, Arabic right)
COLUMN_GAP = 10.0


def _a4(content: Content) -> bytes:
    flow = Flow(A4[0] - 2 * A4_MARGIN)
    issuer_en, issuer_ar = labels.issuer()
    flow.pair(issuer_en, issuer_ar, font=BOLD, size=15)
    flow.pair(labels.BRAND[0], labels.BRAND[1], size=10, color=GREY)
    flow.rule(weight=1.2, pad=6)
    flow.space(4)
    flow.pair(*content.title, font=BOLD, size=17)
    flow.space(8)
    if content.voided:
        _banner(flow, labels.VOIDED, size=11)
        flow.space(8)
    if content.refund:
        _banner(flow, content.refund, size=10, inverted=content.refunded_in_full)
        flow.space(8)
    for item in content.details:
        _a4_row(flow, item, size=10.5)
    flow.space(10)
    for item in content.money:
        _a4_row(flow, item, size=13 if item.strong else 10.5, shaded=True)
    flow.space(18)
    _a4_verification(flow, content)
    flow.space(14)
    flow.rule(weight=0.5)
    flow.pair(*labels.KEEP, size=8.5, color=GREY)
    return flow.render_pages(page=A4, margin=A4_MARGIN, title=_title(content))


def _a4_row(flow: Flow, item: Field, *, size: float, shaded: bool = False) -> None:
    """English label | value(s) | Arabic label, with a hairline beneath."""
    value_x = LABEL_COLUMN + COLUMN_GAP
    value_width = flow.width - 2 * (LABEL_COLUMN + COLUMN_GAP)
    font = BOLD if item.strong else REGULAR
    label_size = 9.5
    en_label = pair_lines(item.label[0], "", REGULAR, label_size, LABEL_COLUMN)
    ar_label = pair_lines("", item.label[1], REGULAR, label_size, LABEL_COLUMN)
    value_height, draw_value = pair_block(item.value, item.value_ar, font=font, size=size, width=value_width)
    pad = 4.0
    height = max(value_height, len(en_label) * line_height(label_size), len(ar_label) * line_height(label_size))
    height += 2 * pad
    label_drop = max(0.0, (size - label_size) * 0.8)  # labels share the value's baseline

    def draw(canvas: Canvas, x: float, top: float) -> None:
        if shaded:
            canvas.setFillColor(SHADE)
            canvas.rect(x, top - height, flow.width, height, stroke=0, fill=1)
        canvas.setFillColor(GREY)
        for n, (line, _) in enumerate(en_label):
            y = baseline(top - pad - label_drop - n * line_height(label_size), label_size)
            draw_text(canvas, line, x=x, y=y, font=REGULAR, size=label_size)
        for n, (_, line) in enumerate(ar_label):
            y = baseline(top - pad - label_drop - n * line_height(label_size), label_size)
            right_x = x + flow.width - LABEL_COLUMN
            draw_text(canvas, line, x=right_x, y=y, width=LABEL_COLUMN, font=REGULAR, size=label_size, align="right")
        draw_value(canvas, x + value_x, top - pad)
        canvas.setStrokeColor(LIGHT)
        canvas.setLineWidth(0.5)
        canvas.line(x, top - height, x + flow.width, top - height)

    flow.add(height, draw)


def _a4_verification(flow: Flow, content: Content) -> None:
    """The QR code on the left; beside it what it is for, the code and the address, in both languages."""
    side = 36 * mm
    text_x = side + 14
    text_width = flow.width - text_x
    rows: list[tuple[str, str, str, float, colors.Color]] = [
        (*labels.VERIFY, BOLD, 11, colors.black),
        (*labels.SCAN, REGULAR, 9, GREY),
        (content.verification_url, "", REGULAR, 8.5, colors.black),
        (*labels.CODE, REGULAR, 9, GREY),
        (printed_code(content.verification_code), "", BOLD, 14, colors.black),
    ]
    blocks = [
        pair_block(en, ar, font=font, size=size, width=text_width, color=color) for en, ar, font, size, color in rows
    ]
    gaps = 5.0
    text_height = sum(height for height, _ in blocks) + gaps * (len(blocks) - 1)

    def draw(canvas: Canvas, x: float, top: float) -> None:
        draw_qr(canvas, content.verification_url, x=x, y=top - side, size=side)
        y = top - max(0.0, (side - text_height) / 2)
        for height, draw_block in blocks:
            canvas.saveState()
            draw_block(canvas, x + text_x, y)
            canvas.restoreState()
            y -= height + gaps

    flow.add(max(side, text_height), draw)


# --- shared -----------------------------------------------------------------------------------------
def _banner(flow: Flow, text: labels.Bilingual, *, size: float, inverted: bool = True) -> None:
    """White on black across the width: a voided or fully refunded receipt must not pass for a paid one at a
    glance. Not ``inverted``, black in a black frame: a part refunded, the rest still paid."""
    color = colors.white if inverted else colors.black
    height, draw_pair = pair_block(*text, font=BOLD, size=size, width=flow.width - 8, color=color)

    def draw(canvas: Canvas, x: float, top: float) -> None:
        canvas.setFillColor(colors.black)
        canvas.setStrokeColor(colors.black)
        canvas.setLineWidth(1.2)
        canvas.rect(x, top - height - 6, flow.width, height + 6, stroke=0 if inverted else 1, fill=1 if inverted else 0)
        draw_pair(canvas, x + 4, top - 3)

    flow.add(height + 6, draw)


def _title(content: Content) -> str:
    return f"{content.title[0]} {content.number}"


_LAYOUTS: dict[str, Callable[[Content], bytes]] = {"a4": _a4, "thermal": _thermal}
