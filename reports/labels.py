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


# --- customer statements ----------------------------------------------------------------------------
STATEMENT: Bilingual = ("Account statement", "كشف حساب")
PERIOD: Bilingual = ("Period", "الفترة")
ISSUED: Bilingual = ("Issued (Muscat time)", "تاريخ الإصدار (بتوقيت مسقط)")
OPENING: Bilingual = ("Opening balance", "الرصيد الافتتاحي")
CLOSING: Bilingual = ("Closing balance", "الرصيد الختامي")
MOVEMENTS: Bilingual = ("Number of movements", "عدد الحركات")
DATE: Bilingual = ("Date (Muscat)", "التاريخ (مسقط)")
DESCRIPTION: Bilingual = ("Description", "البيان")
DEBIT: Bilingual = ("Debit (out)", "مدين (صادر)")
CREDIT: Bilingual = ("Credit (in)", "دائن (وارد)")
BALANCE: Bilingual = ("Balance", "الرصيد")
BROUGHT_FORWARD: Bilingual = ("Brought forward", "المنقول من الصفحة السابقة")
CARRIED_FORWARD: Bilingual = ("Carried forward", "المرحل إلى الصفحة التالية")
PAGE_TOTAL: Bilingual = ("Page total", "مجموع الصفحة")
PERIOD_TOTAL: Bilingual = ("Total for the period", "مجموع الفترة")
NO_MOVEMENTS: Bilingual = ("No movements in this period", "لا توجد حركات في هذه الفترة")
VERIFY_STATEMENT: Bilingual = ("Check this statement is genuine", "تحقق من صحة هذا الكشف")
STATEMENT_NOTE: Bilingual = (
    "Amounts in Omani rials (OMR). Debit: money out of the account; credit: money in.",
    "المبالغ بالريال العماني. مدين: مبالغ خرجت من الحساب، دائن: مبالغ دخلت إليه.",
)

#: What a movement on a wallet is called on its statement, by entry kind.
MOVEMENT: dict[str, Bilingual] = {
    "cash_topup": ("Cash top-up", "إيداع نقدي"),
    "online_topup": ("Online top-up", "إيداع إلكتروني"),
    "fee_payment": ("Fee payment", "دفع رسوم"),
    "refund": ("Refund", "استرداد"),
    "reversal": ("Correction", "تصحيح"),
    "payout": ("Balance payout", "صرف الرصيد"),
    "adjustment": ("Adjustment", "تسوية"),
}
#: Any other kind (none reaches a wallet today): still printed, never a blank.
OTHER_MOVEMENT: Bilingual = ("Movement", "حركة")


def page_of(page: int, pages: int) -> Bilingual:
    """``Page 2 of 7`` in both languages."""
    return f"Page {page} of {pages}", f"صفحة {page} من {pages}"


#: LEFT-TO-RIGHT MARK. After an Arabic word, the digits of ``2025-03-01`` would be Arabic numbers, which the
#: bidi algorithm does not join across ``-``: the day would print first (``01-03-2025``). The mark keeps
#: the date one left-to-right run.
LRM = "\u200e"


def period(start: str, end: str) -> Bilingual:
    """A period from one day to another, both included."""
    return f"{start} to {end}", f"من {LRM}{start} إلى {LRM}{end}"
