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
    # On an office's drawer or float (agent statements); never on a wallet.
    "float_deposit": ("Float deposit", "إيداع في رصيد الوكيل"),
    "void": ("Voided top-up", "إيداع ملغى"),
    "cash_deposit": ("Cash deposited at the bank", "إيداع النقد في البنك"),
}
#: Any other kind (none reaches a wallet today): still printed, never a blank.
OTHER_MOVEMENT: Bilingual = ("Movement", "حركة")


# --- office day reports and agent statements ----------------------------------------------------------
DAY_REPORT: Bilingual = ("Office day report", "التقرير اليومي للمكتب")
AGENT_STATEMENT: Bilingual = ("Office statement", "كشف حساب المكتب")
BUSINESS_DAY: Bilingual = ("Business day", "يوم العمل")
OFFICE_KIND: dict[str, Bilingual] = {
    "internal": ("Municipal office (cash drawer)", "مكتب بلدي (صندوق نقدي)"),
    "external": ("Authorised agent (float)", "وكيل معتمد (رصيد مسبق)"),
}
#: The office's own account: an internal office's drawer, an external agent's prefunded float.
CASH_ACCOUNT: dict[str, Bilingual] = {
    "internal": ("Cash drawer", "الصندوق النقدي"),
    "external": ("Agent float", "رصيد الوكيل"),
}
COMMISSION_PAYABLE: Bilingual = ("Commission payable", "العمولة المستحقة")
SESSIONS: Bilingual = ("Cashier sessions", "جلسات أمناء الصندوق")
CASHIER: Bilingual = ("Cashier", "أمين الصندوق")
OPENED: Bilingual = ("Opened", "الفتح")
CLOSED: Bilingual = ("Closed", "الإغلاق")
STILL_OPEN: Bilingual = ("open", "مفتوحة")
OPENING_CASH: Bilingual = ("Opening cash", "نقد البداية")
EXPECTED: Bilingual = ("Expected", "المتوقع")
COUNTED: Bilingual = ("Counted", "المعدود")
OVER_SHORT: Bilingual = ("Over/short", "الزيادة أو العجز")
TOPUPS: Bilingual = ("Cash top-ups", "الإيداعات النقدية")
VOIDS: Bilingual = ("Voided top-ups", "الإيداعات الملغاة")
TIME: Bilingual = ("Time", "الوقت")
COMMISSION: Bilingual = ("Commission", "العمولة")
STATUS: Bilingual = ("Status", "الحالة")
STATUS_VOIDED: Bilingual = ("voided", "ملغى")
NONE_THAT_DAY: Bilingual = ("None that day", "لا يوجد في هذا اليوم")
TOPUP_COUNT: Bilingual = ("Number of top-ups", "عدد الإيداعات")
GROSS: Bilingual = ("Gross cash top-ups", "إجمالي الإيداعات النقدية")
VOID_COUNT: Bilingual = ("Number of voids", "عدد الإلغاءات")
VOIDED_AMOUNT: Bilingual = ("Voided", "المبالغ الملغاة")
NET: Bilingual = ("Net cash top-ups", "صافي الإيداعات النقدية")
COMMISSION_EARNED: Bilingual = ("Commission earned", "العمولة المكتسبة")
IN_THE_LEDGER: Bilingual = ("In the ledger", "في دفتر الأستاذ")
LEDGER_TOPUPS: Bilingual = ("Cash top-ups less voids", "الإيداعات النقدية بعد الإلغاءات")
LEDGER_OVER_SHORT: Bilingual = ("Cash over/short", "زيادة أو عجز النقد")
LEDGER_DEPOSITS: Bilingual = ("Deposits", "الإيداعات البنكية")
LEDGER_OTHER: Bilingual = ("Other movements", "حركات أخرى")
TOTALS_BY_KIND: Bilingual = ("Totals by kind", "المجاميع حسب النوع")
IN: Bilingual = ("In", "وارد")
OUT: Bilingual = ("Out", "صادر")
#: A kind of movement on the commission payable.
COMMISSION_MOVEMENT: dict[str, Bilingual] = {
    "cash_topup": ("Commission accrued", "عمولة مستحقة"),
    "void": ("Commission clawed back", "عمولة مستردة"),
}
OFFICE_NOTE: Bilingual = (
    "Amounts in Omani rials (OMR). In: raises the balance; out: lowers it. Times in Muscat.",
    "المبالغ بالريال العماني. الوارد يزيد الرصيد والصادر ينقصه. الأوقات بتوقيت مسقط.",
)


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


# --- finance reports: trial balance, municipal revenue and fee income ------------------------------------------
TRIAL_BALANCE: Bilingual = ("Trial balance", "ميزان المراجعة")
AS_OF: Bilingual = ("As at (Muscat time)", "كما في (بتوقيت مسقط)")
END_OF_DAY: Bilingual = ("end of", "نهاية يوم")
ACCOUNT_NAME: Bilingual = ("Account", "الحساب")
DEBIT_BALANCE: Bilingual = ("Debit", "مدين")
CREDIT_BALANCE: Bilingual = ("Credit", "دائن")
TB_TOTAL: Bilingual = ("Total", "المجموع")
BALANCED: Bilingual = ("Debits equal credits: the ledger balances.", "المدين يساوي الدائن: الدفاتر متوازنة.")
NOT_BALANCED: Bilingual = ("Debits do NOT equal credits.", "المدين لا يساوي الدائن.")
NOT_COVERED: Bilingual = (
    "The lines do NOT count every posting of the sealed ledger: run verify_ledger.",
    "البنود لا تشمل كل ترحيلات الدفاتر المختومة: شغّل التحقق من الدفاتر.",
)
ENTRIES: Bilingual = ("Journal entries", "القيود اليومية")
POSTINGS: Bilingual = ("Postings", "الترحيلات")
SUM_DEBITS: Bilingual = ("Sum of debit postings", "مجموع الترحيلات المدينة")
SUM_CREDITS: Bilingual = ("Sum of credit postings", "مجموع الترحيلات الدائنة")
REVENUE_REPORT: Bilingual = ("Municipal revenue and fee income", "الإيرادات البلدية ورسوم الخدمة")
PAYMENTS: Bilingual = ("Payments", "المدفوعات")
REVENUE: Bilingual = ("Revenue", "الإيرادات")
REFUNDS: Bilingual = ("Refunds", "المستردات")
NET_REVENUE: Bilingual = ("Net revenue", "صافي الإيرادات")
FEE_INCOME: Bilingual = ("Fee income", "رسوم الخدمة")
FEE_INCOME_TOTAL: Bilingual = ("Fee income for the period (ledger)", "رسوم الخدمة للفترة (من الدفاتر)")
FEES_UNATTRIBUTED: Bilingual = ("Fee income not tied to a service", "رسوم غير مرتبطة بخدمة")
REPORT_NOTE: Bilingual = (
    "Amounts in Omani rials (OMR), read from the ledger's postings.",
    "المبالغ بالريال العماني، مأخوذة من ترحيلات الدفاتر.",
)


def accounts_count(count: int) -> Bilingual:
    """How many accounts a grouped line of the trial balance stands for."""
    return f"{count} account{'' if count == 1 else 's'}", f"عدد الحسابات {count}"


#: The trial balance's lines for kinds of owned accounts (many accounts each).
ACCOUNT_GROUP: dict[str, Bilingual] = {
    "wallets": ("Customer wallets", "محافظ العملاء"),
    "office_cash": ("Office cash drawers", "الصناديق النقدية للمكاتب"),
    "agent_floats": ("Agent floats", "الأرصدة المسبقة للوكلاء"),
    "commission_payable": ("Agent commission payable", "عمولات الوكلاء المستحقة"),
    "other": ("Other accounts", "حسابات أخرى"),
}

#: The system chart (ledger.chart) as the trial balance names it.
SYSTEM_ACCOUNT: dict[str, Bilingual] = {
    "bank": ("Bank", "البنك"),
    "bank_clearing": ("Bank clearing", "مقاصة البنك"),
    "gateway_clearing": ("Card gateway clearing", "مقاصة بوابة البطاقات"),
    "suspense": ("Suspense", "حساب معلق"),
    "fee_income": ("Service fee income", "إيرادات رسوم الخدمة"),
    "cash_over_short": ("Cash over/short", "زيادة وعجز النقد"),
    "commission_expense": ("Agent commission expense", "مصروف عمولات الوكلاء"),
    "gateway_fee_expense": ("Card gateway fee expense", "مصروف رسوم بوابة البطاقات"),
    "payouts_payable": ("Payouts payable", "مبالغ مستحقة الصرف"),
    "revenue.lease_renewal": ("Revenue: lease renewals", "إيرادات تجديد عقود الإيجار"),
    "revenue.parking_fine": ("Revenue: parking fines", "إيرادات مخالفات المواقف"),
    "revenue.parking_permit": ("Revenue: parking permits", "إيرادات تصاريح المواقف"),
    "revenue.municipal_licence": ("Revenue: municipal licences", "إيرادات الترخيص البلدي"),
    "revenue.building_permit": ("Revenue: building permits", "إيرادات رخص البناء"),
}


# --- reconciliation report --------------------------------------------------------------------------
RECON_TITLE: Bilingual = ("Reconciliation report", "تقرير المطابقة")
RECON_DAY: Bilingual = ("Business day", "يوم العمل")
RECON_SOURCE: Bilingual = ("Source", "المصدر")
RECON_SOURCES: dict[str, Bilingual] = {
    "bank": ("Partner bank", "البنك الشريك"),
    "gateway": ("Card gateway", "بوابة الدفع بالبطاقات"),
}
RECON_RUN: Bilingual = ("Reconciliation run", "عملية المطابقة")
RECON_NOT_RUN: Bilingual = ("Not reconciled yet", "لم تتم المطابقة بعد")
RECON_FINISHED: Bilingual = ("Run finished (Muscat time)", "انتهاء المطابقة (بتوقيت مسقط)")
RECON_RUN_STATUS: dict[str, Bilingual] = {
    "running": ("Running", "جارية"),
    "completed": ("Completed", "مكتملة"),
    "failed": ("Failed", "فشلت"),
}
RECON_LINES: Bilingual = ("Statement lines", "حركات الكشف")
RECON_COUNT: Bilingual = ("Count", "العدد")
RECON_AMOUNT: Bilingual = ("Amount (OMR)", "المبلغ (ر.ع.)")
RECON_IMPORTED: Bilingual = ("Lines imported", "الحركات المستوردة")
RECON_LINE_STATUS: dict[str, Bilingual] = {
    "matched": ("Matched", "مطابَقة"),
    "exception": ("Left as exceptions", "بقيت استثناءات"),
    "resolved": ("Resolved by finance", "عالجتها الإدارة المالية"),
    "unmatched": ("Not yet matched", "لم تطابَق بعد"),
}
RECON_SETTLED: Bilingual = ("Settled", "تمت تسويتها")
RECON_GROSS: Bilingual = ("Card payments (gross)", "مدفوعات البطاقات (الإجمالي)")
RECON_FEES: Bilingual = ("Gateway fees", "رسوم البوابة")
RECON_BY_KIND: Bilingual = ("Exceptions by kind", "الاستثناءات حسب النوع")
RECON_BY_AGE: Bilingual = ("Exceptions by age", "الاستثناءات حسب العمر")
RECON_OPEN: Bilingual = ("Open", "مفتوحة")
RECON_OPEN_AMOUNT: Bilingual = ("Open (OMR)", "مفتوحة (ر.ع.)")
RECON_RESOLVED: Bilingual = ("Resolved", "عولجت")
RECON_RESOLVED_AMOUNT: Bilingual = ("Resolved (OMR)", "عولجت (ر.ع.)")
RECON_KIND: dict[str, Bilingual] = {
    "unmatched_line": ("Statement line not in the ledger", "حركة في الكشف غير موجودة في السجل"),
    "ambiguous_line": ("Statement line with several candidates", "حركة في الكشف يطابقها أكثر من قيد"),
    "amount_mismatch": ("Reference found with another amount", "المرجع موجود بمبلغ مختلف"),
    "missing_from_statement": ("Ledger entry not on the statement", "قيد في السجل غير موجود في الكشف"),
    "batch_mismatch": ("Gateway batch not paid as reported", "دفعة البوابة لم تُدفع كما أُبلغ عنها"),
}
RECON_AGE: dict[str, Bilingual] = {
    "0-1": ("0-1 days", "0-1 يوم"),
    "2-3": ("2-3 days", "2-3 أيام"),
    "4-7": ("4-7 days", "4-7 أيام"),
    ">7": ("More than 7 days", "أكثر من 7 أيام"),
}
RECON_NOTE: Bilingual = (
    "Amounts in Omani rials (OMR). Exceptions outstanding on the day; open includes proposed resolutions; "
    "age in days from the exception's business day to this day.",
    "المبالغ بالريال العماني. الاستثناءات القائمة في هذا اليوم، والمفتوحة تشمل المعالجات المقترحة، "
    "والعمر بالأيام من يوم عمل الاستثناء إلى هذا اليوم.",
)


def recon_attempts(attempts: int) -> Bilingual:
    """``attempt 2`` in both languages."""
    return f"attempt {attempts}", f"المحاولة {attempts}"


# --- online top-up receipts (bank, card gateway) ----------------------------------------------------------
KIND["online_topup"] = ("Online top-up", "إيداع إلكتروني")
TITLE["online_topup"] = ("Online top-up receipt", "إيصال إيداع إلكتروني")
PAID_THROUGH: Bilingual = ("Paid through", "طريقة الدفع")
#: How the customer paid an online top-up, by channel (topups.models.Channel).
CHANNEL: dict[str, Bilingual] = {
    "bank": ("Partner bank", "البنك الشريك"),
    "card": ("Card payment gateway", "بوابة الدفع بالبطاقات"),
}
TOPUP_REFERENCE: Bilingual = ("Top-up reference", "مرجع الإيداع")
PARTNER_TXN: Bilingual = ("Partner transaction no.", "رقم العملية لدى الشريك")


# --- refunds on a payment's receipt ---------------------------------------------------------------------
# A payment's receipt keeps the figures paid; what finance refunded since is an added mark beside them.
# The day is ``2026-11-20`` (Muscat). The Arabic ends with it, after LRM as in ``period``, so that no amount
# joins the date's left-to-right run.


def refunded_in_full(day: str, total: str, amount: str, fee: str) -> Bilingual:
    """The mark of a payment refunded in full: the whole amount back and, with it, the fee."""
    return (
        f"Refunded in full on {day}: {total} OMR (amount {amount} + fee {fee})",
        f"مسترد بالكامل: {total} ر.ع. (المبلغ {amount} + الرسم {fee}) بتاريخ {LRM}{day}",
    )


def refunded_in_part(refunded: str, amount: str, day: str) -> Bilingual:
    """The mark of a payment partly refunded (the fee stays paid until the rest is refunded too)."""
    return (
        f"Partly refunded: {refunded} OMR of {amount} OMR, last refund on {day}",
        f"مسترد جزئيًا: {refunded} ر.ع. من أصل {amount} ر.ع. وآخر استرداد بتاريخ {LRM}{day}",
    )
