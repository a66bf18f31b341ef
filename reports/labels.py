"""The words printed on receipts and shown on the verification page, in both languages, in one place.

Each entry is (English, Arabic). Arabic is written in logical order; the PDF helpers shape and reorder it.
"""

from __future__ import annotations

from django.conf import settings

Bilingual = tuple[str, str]

BRAND: Bilingual = ("e-Rial", "الريال الإلكتروني")

KIND: dict[str, Bilingual] = {
    "cash_topup": ("Cash top-up", "إيداع نقدي"),
    "payment": ("Fee payment", "دفع رسوم"),
    "refund": ("Refund", "استرداد"),
}

TITLE: dict[str, Bilingual] = {
    "cash_topup": ("Cash top-up receipt", "إيصال إيداع نقدي"),
    "payment": ("Fee payment receipt", "إيصال دفع رسوم"),
    "refund": ("Refund receipt", "إيصال استرداد"),
}

RECEIPT_NUMBER: Bilingual = ("Receipt no.", "رقم الإيصال")
KIND_LABEL: Bilingual = ("Kind", "النوع")
WHEN: Bilingual = ("Date and time (Muscat)", "التاريخ والوقت (مسقط)")
ACCOUNT: Bilingual = ("Account no.", "رقم الحساب")
HOLDER: Bilingual = ("Account holder", "صاحب الحساب")
OFFICE: Bilingual = ("Office", "المكتب")
SERVICE: Bilingual = ("Service", "الخدمة")
BILL: Bilingual = ("Bill reference", "رقم الفاتورة")
REFUND_OF: Bilingual = ("Refund of receipt", "استرداد للإيصال رقم")
REASON: Bilingual = ("Reason", "السبب")

AMOUNT: Bilingual = ("Amount", "المبلغ")
FEE: Bilingual = ("Service fee", "رسم الخدمة")
TOTAL_PAID: Bilingual = ("Total paid", "الإجمالي المدفوع")
AMOUNT_REFUNDED: Bilingual = ("Amount refunded", "المبلغ المسترد")
FEE_RETURNED: Bilingual = ("Fee returned", "الرسم المسترد")
TOTAL_REFUNDED: Bilingual = ("Total refunded", "إجمالي المبلغ المسترد")
TOTAL: Bilingual = ("Total", "الإجمالي")

VOIDED: Bilingual = ("VOIDED: this top-up was cancelled", "ملغى: تم إلغاء هذا الإيداع")
VERIFY: Bilingual = ("Check this receipt is genuine", "تحقق من صحة الإيصال")
SCAN: Bilingual = ("Scan the QR code or open:", "امسح الرمز (QR) أو افتح الرابط:")
CODE: Bilingual = ("Verification code", "رمز التحقق")
KEEP: Bilingual = ("Keep this receipt. Amounts in Omani rials.", "احتفظ بهذا الإيصال. المبالغ بالريال العماني.")


def issuer() -> Bilingual:
    """The municipality issuing the receipt (settings ``ERIAL_ISSUER_NAME_EN`` / ``_AR``)."""
    return settings.ERIAL_ISSUER_NAME_EN, settings.ERIAL_ISSUER_NAME_AR
