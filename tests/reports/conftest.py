"""Receipts to print and verify (a cash top-up, a fee payment, a refund) and the poppler tools to read PDFs."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from erial.roles import Role
from ledger.models import Payment, Refund, Service
from ledger.payments import pay_fee, refund_payment
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import make_user, open_wallet

POPPLER = bool(shutil.which("pdftoppm") and shutil.which("pdftotext"))
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="poppler-utils (pdftoppm, pdftotext) is not installed: apt-get install -y poppler-utils"
)
# Direction marks and embeddings poppler puts around right-to-left runs, and any other bidi control.
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def cash_receipt(owner=None, amount: str = "12.000"):
    """A cash top-up of ``amount`` at an internal office into ``owner``'s wallet: (top-up, wallet)."""
    wallet = open_wallet(user=owner)
    session = open_session(make_office("internal"))
    return topup(session, wallet, amount), wallet


def payment_receipt(owner=None, amount: str = "3.000") -> Payment:
    """A parking fine of ``amount`` paid from ``owner``'s wallet (fee 0.100)."""
    wallet = open_wallet("50.000", user=owner)
    return pay_fee(
        wallet=wallet,
        service=Service.objects.get(code="parking_fine"),
        bill_reference=f"F-{uuid.uuid4().hex[:6].upper()}",
        amount=Decimal(amount),
        actor=owner,
        idempotency_key=uuid.uuid4().hex,
        scope="test",
    )


def refund_receipt(owner=None, reason: str = "Fine cancelled on appeal") -> Refund:
    """The whole of a 3.000 parking fine refunded by finance, the fee with it (total 3.100)."""
    payment = payment_receipt(owner)
    return refund_payment(
        payment=payment,
        amount=payment.amount,
        reason=reason,
        actor=make_user(Role.FINANCE),
        idempotency_key=uuid.uuid4().hex,
        scope="test",
    )


def receipt_number_of(kind: str, owner=None) -> str:
    """A receipt of ``kind`` (cash_topup, payment, refund) owned by ``owner``; its number."""
    if kind == "cash_topup":
        return cash_receipt(owner)[0].receipt_number
    if kind == "payment":
        return payment_receipt(owner).receipt_number
    return refund_receipt(owner).receipt_number


def normalised(text: str) -> str:
    """Extracted text made comparable: NFKC (Arabic presentation forms back to letters), no bidi marks,
    runs of spaces collapsed."""
    text = _BIDI_CONTROLS.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"[ \t]+", " ", text)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return normalised(out.stdout)


def pdf_pngs(pdf: bytes, tmp_path: Path, *, dpi: int = 72, name: str = "page") -> list[Path]:
    """The pages as PNG images, as a person would see them (72 dpi: one pixel per point)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(path), str(tmp_path / name)], check=True)
    return sorted(tmp_path.glob(f"{name}-*.png"))


def media_box(pdf: bytes) -> tuple[float, float]:
    """Width and height in points of the first page (reportlab writes page objects uncompressed)."""
    match = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert match, "no MediaBox in the PDF"
    return float(match[1]), float(match[2])
