"""Receipt PDFs as a person sees them: rendered by poppler, read back as text, measured, and drawn with no holes."""

from __future__ import annotations

import math
import shutil
import subprocess

import pytest
from django.test import RequestFactory
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from agents.selectors import receipt
from reports.pdf import MissingGlyphError, check_glyphs, register_fonts
from reports.receipts import render_receipt
from reports.verification import printed_code, verification_code, verification_path
from tests.reports.conftest import (
    cash_receipt,
    media_box,
    needs_poppler,
    payment_receipt,
    pdf_pngs,
    pdf_text,
    receipt_number_of,
    refund_receipt,
)

pytestmark = pytest.mark.django_db

# Labels every receipt carries, as a reader types them (logical order).
COMMON_ARABIC = ["رقم الإيصال", "رقم الحساب", "صاحب الحساب", "رمز التحقق", "بلدية مسقط"]
EXPECTED = {
    "cash_topup": (["Cash top-up receipt", "12.000 OMR"], ["إيصال إيداع نقدي", "المبلغ", "سالم الحارثي"]),
    "payment": (
        ["Fee payment receipt", "3.000 OMR", "0.100 OMR", "3.100 OMR", "Parking fine"],
        ["إيصال دفع رسوم", "رسم الخدمة", "الإجمالي المدفوع", "سالم الحارثي"],
    ),
    "refund": (
        ["Refund receipt", "3.000 OMR", "0.100 OMR", "3.100 OMR", "Fine cancelled on appeal"],
        ["إيصال استرداد", "المبلغ المسترد", "الرسم المسترد", "سالم الحارثي"],
    ),
}


def receipt_data(number: str) -> dict:
    """What the API hands the renderer: the receipt and its verification."""
    data = receipt(number)
    data.pop("owner_user_id")
    data["verification_code"] = verification_code(number)
    data["verification_url"] = RequestFactory().get("/").build_absolute_uri(verification_path(number))
    return data


@needs_poppler
@pytest.mark.parametrize("size", ["a4", "thermal"])
@pytest.mark.parametrize("kind", EXPECTED)
def test_the_text_read_back_has_the_number_the_amounts_and_the_arabic_labels(kind, size, tmp_path):
    number = receipt_number_of(kind)
    data = receipt_data(number)
    text = pdf_text(render_receipt(data, size=size), tmp_path)
    english, arabic = EXPECTED[kind]
    for expected in [number, data["account"], printed_code(data["verification_code"]), *english]:
        assert expected in text, f"{expected!r} missing from:\n{text}"
    for expected in [*COMMON_ARABIC, *arabic]:
        assert expected in text, f"{expected!r} (logical order) missing from:\n{text}"


@needs_poppler
@pytest.mark.parametrize("kind", EXPECTED)
def test_both_sizes_render_to_images_of_the_right_size(kind, tmp_path):
    data = receipt_data(receipt_number_of(kind))
    (a4,) = pdf_pngs(render_receipt(data, size="a4"), tmp_path, name="a4")
    assert Image.open(a4).size == (math.ceil(A4[0]), math.ceil(A4[1]))  # pdftoppm rounds up
    (thermal,) = pdf_pngs(render_receipt(data, size="thermal"), tmp_path, name="thermal")
    width, height = Image.open(thermal).size
    assert width == math.ceil(80 * mm) and 120 * mm < height < A4[1]


def test_the_thermal_slip_is_80_mm_wide_and_as_long_as_its_content():
    short = render_receipt(receipt_data(cash_receipt()[0].receipt_number), size="thermal")
    long_reason = "Fine cancelled on appeal. " * 12
    long = render_receipt(receipt_data(refund_receipt(reason=long_reason).receipt_number), size="thermal")
    (short_width, short_height), (long_width, long_height) = media_box(short), media_box(long)
    assert short_width == pytest.approx(80 * mm, abs=0.01) == long_width
    assert short_height < long_height
    assert media_box(render_receipt(receipt_data(payment_receipt().receipt_number), size="a4")) == pytest.approx(A4)


@pytest.mark.skipif(
    not shutil.which("zbarimg") or not shutil.which("pdftoppm"),
    reason="zbarimg (zbar-tools) or pdftoppm is not installed: the QR code is not decoded",
)
@pytest.mark.parametrize("size", ["a4", "thermal"])
def test_the_qr_code_scans_to_the_verification_page(size, tmp_path):
    data = receipt_data(receipt_number_of("payment"))
    (png,) = pdf_pngs(render_receipt(data, size=size), tmp_path, dpi=150)
    scanned = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True)
    assert scanned.stdout.strip() == data["verification_url"]


def test_a_character_the_font_lacks_is_refused_not_printed_blank():
    register_fonts()
    check_glyphs("Salim Al-Harthy سالم الحارثي ﻻ 0123 ر.ع.", "DejaVuSans")
    with pytest.raises(MissingGlyphError, match="U\\+6F22"):
        check_glyphs("Kanji 漢", "DejaVuSans")
    data = receipt_data(cash_receipt()[0].receipt_number)
    data["holder_en"] = "Salim 漢"
    with pytest.raises(MissingGlyphError):
        render_receipt(data, size="thermal")


def test_abdullah_is_printed_in_letters_the_font_has():
    """The reshaper's default "Allah" ligature (U+FDF2) is not in DejaVu Sans: the name would have a hole."""
    data = receipt_data(cash_receipt()[0].receipt_number)
    data["holder_ar"] = "عبدالله بن سالم الحارثي"
    for size in ("a4", "thermal"):
        assert render_receipt(data, size=size).startswith(b"%PDF-")


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="a4 or thermal"):
        render_receipt(receipt_data(cash_receipt()[0].receipt_number), size="a5")
