"""Reads of the agent network: receipts by number (top-ups, payments, refunds), the office day report, a
cashier's open session and the terms an office trades on (status, limits, commission) at a moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Count, F, Max, Model, Q, QuerySet, Sum

from erial.errors import NotFound
from erial.money import format_amount, from_db
from ledger.businessday import day_bounds
from ledger.models import Account, Payment, Refund
from ledger.receipts import normalise_receipt_number

from . import session_function, terms_function
from .models import Cashier, CashierSession, CashTopup, CommissionRule, Limit, Office, SessionStatus

ZERO = Decimal("0.000")


def _holder(wallet) -> dict[str, str]:
    return {"account": wallet.number, "holder_en": wallet.holder.name_en, "holder_ar": wallet.holder.name_ar}


def receipt(number: str) -> dict[str, Any]:
    """The receipt with this number, whatever made it, as the data printed on it."""
    number = normalise_receipt_number(number)
    topup = CashTopup.objects.select_related("wallet__holder", "office").filter(receipt_number=number).first()
    if topup:
        return {
            "receipt_number": number,
            "kind": "cash_topup",
            "created_at": topup.created_at,
            **_holder(topup.wallet),
            "amount": format_amount(topup.amount),
            "currency": "OMR",
            "office": topup.office.code,
            "office_en": topup.office.name_en,
            "office_ar": topup.office.name_ar,
            "voided": topup.is_voided,
            "owner_user_id": topup.wallet.holder.user_id,
        }
    payment = (
        _with_refunds(Payment.objects.select_related("wallet__holder", "service")).filter(receipt_number=number).first()
    )
    if payment:
        return {
            "receipt_number": number,
            "kind": "payment",
            "created_at": payment.created_at,
            **_holder(payment.wallet),
            "service": payment.service.code,
            "service_en": payment.service.name_en,
            "service_ar": payment.service.name_ar,
            "bill_reference": payment.bill_reference,
            "amount": format_amount(payment.amount),
            "fee": format_amount(payment.fee),
            "total": format_amount(payment.total),
            "currency": "OMR",
            **_refunded(payment),
            "owner_user_id": payment.wallet.holder.user_id,
        }
    refund = (
        Refund.objects.select_related("payment__wallet__holder", "payment__service")
        .filter(receipt_number=number)
        .first()
    )
    if refund:
        return {
            "receipt_number": number,
            "kind": "refund",
            "created_at": refund.created_at,
            **_holder(refund.payment.wallet),
            "service": refund.payment.service.code,
            "service_en": refund.payment.service.name_en,
            "service_ar": refund.payment.service.name_ar,
            "bill_reference": refund.payment.bill_reference,
            "payment_receipt": refund.payment.receipt_number,
            "amount": format_amount(refund.amount),
            "fee_returned": format_amount(refund.fee_returned),
            "total": format_amount(refund.amount + refund.fee_returned),
            "currency": "OMR",
            "reason": refund.reason,
            "owner_user_id": refund.payment.wallet.holder.user_id,
        }
    raise NotFound(f"No receipt {number}.")


#: A counter lists at most this many payments of one bill reference (instalments, other services).
BILL_MATCHES = 20


def payments_of_bill(bill_reference: str, service_code: str, amount: Decimal) -> list[dict[str, Any]]:
    """Payments of this bill (reference in any letter case) for this service, of this amount (the bill's
    amount, or the total with the fee), newest first, for any office: a payer who kept the bill but not the
    receipt gets it reprinted. The service and the amount keep a guessed reference from listing other
    people's payments. One query, on the (service, upper(bill reference)) index, refunds included."""
    bill_reference = (bill_reference or "").strip()
    if not bill_reference or not service_code:
        return []
    found = (
        Payment.objects.select_related("service")
        .alias(paid_total=F("amount") + F("fee"))
        .filter(service__code=service_code, bill_reference__iexact=bill_reference)
        .filter(Q(amount=amount) | Q(paid_total=amount))
    )
    found = _with_refunds(found).order_by("-created_at")[:BILL_MATCHES]
    return [
        {
            "receipt_number": payment.receipt_number,
            "created_at": payment.created_at,
            "service_en": payment.service.name_en,
            "service_ar": payment.service.name_ar,
            "bill_reference": payment.bill_reference,
            "total": format_amount(payment.total),
            **_refunded(payment),
        }
        for payment in found
    ]


def _with_refunds(payments: QuerySet) -> QuerySet:
    """What finance returned of each payment, in the same query (``_refunded`` reads it): never one per refund."""
    return payments.annotate(
        refunded_sum=Sum("refunds__amount"),
        fee_returned_sum=Sum("refunds__fee_returned"),
        last_refunded_at=Max("refunds__created_at"),
    )


def _refunded(payment: Payment) -> dict[str, Any]:
    """What was refunded of a payment (annotated by ``receipt``), printed beside what was paid, never instead.

    ``refund_status`` is ``none``, ``partial`` or ``full`` (the whole amount back, and with it the fee);
    ``refunded_amount`` is the part of ``amount`` returned, ``refunded_fee`` the fee returned,
    ``refunded_total`` both, and ``refunded_at`` the time of the last refund (``None`` without one).
    """
    amount = from_db(payment.refunded_sum) or ZERO
    fee = from_db(payment.fee_returned_sum) or ZERO
    if not amount:
        status = "none"
    elif amount >= payment.amount:
        status = "full"
    else:
        status = "partial"
    return {
        "refund_status": status,
        "refunded_amount": format_amount(amount),
        "refunded_fee": format_amount(fee),
        "refunded_total": format_amount(amount + fee),
        "refunded_at": payment.last_refunded_at,
    }


def float_position(office: Office) -> dict[str, str] | None:
    """An external agent's float as its counter shows it: what is prefunded (negative: using its credit), the
    credit limit, what it can still take in cash, and the bank reference that replenishes it. ``None`` for an
    internal office (its drawer holds the municipality's cash, not a float).

    The reference is the float's ledger account code: a bank credit carrying it is recognised by the nightly
    reconciliation, which credits the float (bank -> agent float, design.md §4).
    """
    if not office.is_external:
        return None
    row = (
        Account.objects.filter(pk=office.cash_account_id)
        .values("code", "cached_balance__balance", "cached_balance__floor")
        .get()
    )
    balance = from_db(row["cached_balance__balance"]) or ZERO
    floor = from_db(row["cached_balance__floor"]) or ZERO
    return {
        "balance": format_amount(balance),
        "credit_limit": format_amount(-floor),
        "available": format_amount(balance - floor),
        "deposit_reference": row["code"],
    }


def office_day_report(office: Office, day: dt.date) -> dict[str, Any]:
    """One office's business day: sessions and their counts, top-ups, voids and commission."""
    start, end = day_bounds(day)
    topups = CashTopup.objects.filter(office=office, created_at__gte=start, created_at__lt=end)
    totals = topups.aggregate(
        kept_count=Count("id", filter=Q(void_entry__isnull=True)),
        kept_amount=Sum("amount", filter=Q(void_entry__isnull=True)),
        kept_commission=Sum("commission", filter=Q(void_entry__isnull=True)),
        voided_count=Count("id", filter=Q(void_entry__isnull=False)),
        voided_amount=Sum("amount", filter=Q(void_entry__isnull=False)),
    )
    sessions = CashierSession.objects.filter(office=office, business_day=day).select_related("cashier__user")
    return {
        "office": office.code,
        "business_day": day.isoformat(),
        "topups": {
            "count": totals["kept_count"],
            "amount": format_amount(totals["kept_amount"] or ZERO),
            "commission": format_amount(totals["kept_commission"] or ZERO),
        },
        "voids": {"count": totals["voided_count"], "amount": format_amount(totals["voided_amount"] or ZERO)},
        "sessions": [
            {
                "id": str(s.id),
                "cashier": s.cashier.user.get_username(),
                "status": s.status,
                "opening_cash": format_amount(s.opening_cash),
                **(
                    {
                        "expected_cash": format_amount(s.expected_cash),
                        "counted_cash": format_amount(s.counted_cash),
                        "difference": format_amount(s.difference),
                        "note": s.supervisor_note,
                    }
                    if s.status == "closed"
                    else {}
                ),
            }
            for s in sessions
        ],
    }


@dataclass(frozen=True)
class SessionSummary:
    """A cashier session as the counter shows it while it runs and once it is counted."""

    topups: list[CashTopup]
    kept_count: int
    kept_amount: Decimal
    voided_count: int
    voided_amount: Decimal
    #: Opening cash plus the top-ups not voided: the figure ``close_session`` compares the count with.
    expected_cash: Decimal


def session_summary(session: CashierSession) -> SessionSummary:
    """The session's top-ups (newest first, with their wallets and holders) and its running totals."""
    topups = list(session.topups.select_related("wallet__holder").order_by("-created_at"))
    kept = [topup for topup in topups if not topup.is_voided]
    voided = [topup for topup in topups if topup.is_voided]
    kept_amount = sum((topup.amount for topup in kept), ZERO)
    return SessionSummary(
        topups=topups,
        kept_count=len(kept),
        kept_amount=kept_amount,
        voided_count=len(voided),
        voided_amount=sum((topup.amount for topup in voided), ZERO),
        expected_cash=session.opening_cash + kept_amount,
    )


# The cash top-up API's first read, on every request: the caller's open session with its cashier, office
# and the office's accounts (one row per account: the cash drawer or float, and an agent's commission
# payable). Written out because building this join through the ORM cost more CPU than anything else in a
# top-up (bench/RESULTS.md); only the columns a top-up reads are fetched, the others are deferred (read on
# first use). No decimal or time columns: their raw form differs by database; the rest is converted by the
# field itself.
_SESSION_COLUMNS: dict[type[Model], tuple[str, tuple[str, ...]]] = {
    CashierSession: ("s", ("id", "cashier_id", "office_id", "status", "business_day")),
    Cashier: ("c", ("id", "user_id", "office_id", "is_supervisor")),
    Office: ("o", ("id", "code", "name_en", "name_ar", "kind", "status", "cash_account_id", "commission_account_id")),
    Account: ("a", ("id", "code", "name", "kind", "currency", "owner_kind", "owner_ref", "tracks_balance")),
}
_OPEN_SESSION_SQL = (
    "SELECT "
    + ", ".join(f"{alias}.{column}" for alias, columns in _SESSION_COLUMNS.values() for column in columns)
    + f" FROM {CashierSession._meta.db_table} s "
    f"JOIN {Cashier._meta.db_table} c ON c.id = s.cashier_id "
    f"JOIN {Office._meta.db_table} o ON o.id = s.office_id "
    f"JOIN {Account._meta.db_table} a ON a.id IN (o.cash_account_id, o.commission_account_id) "
    "WHERE c.user_id = %s AND s.status = %s"
)


def _loaded(model: type[Model], names: tuple[str, ...], values: Sequence[Any]) -> Any:
    """An instance as a query would load it from these columns, the model's other fields deferred."""
    given = dict(zip(names, values, strict=True))
    fields = [field for field in model._meta.concrete_fields if field.attname in given]
    values = [field.to_python(given[field.attname]) for field in fields]
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def _relate(instance: Model, name: str, related: Model | None) -> None:
    instance._meta.get_field(name).set_cached_value(instance, related)


def open_session_for(user: AbstractBaseUser) -> CashierSession | None:
    """The user's open cashier session, with its cashier, office and the office's accounts: one query."""
    # On PostgreSQL the same query in a function (agents/session_function.py): planned once per connection.
    sql = session_function.CALL_SQL if connection.vendor == "postgresql" else _OPEN_SESSION_SQL
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, SessionStatus.OPEN.value])
        rows = cursor.fetchall()
    if not rows:
        return None
    first, loaded, start = rows[0], {}, 0
    for model, (_, names) in _SESSION_COLUMNS.items():
        if model is not Account:  # one per row, below
            loaded[model] = _loaded(model, names, first[start : start + len(names)])
        start += len(names)
    session, cashier, office = loaded[CashierSession], loaded[Cashier], loaded[Office]
    names = _SESSION_COLUMNS[Account][1]
    accounts = {account.pk: account for account in (_loaded(Account, names, row[-len(names) :]) for row in rows)}
    _relate(office, "cash_account", accounts[office.cash_account_id])
    _relate(office, "commission_account", accounts.get(office.commission_account_id))
    _relate(cashier, "office", office)
    _relate(session, "cashier", cashier)
    _relate(session, "office", office)
    return session


@dataclass(frozen=True)
class CommissionTerms:
    """The commission rule in force: ``rate`` is OMR (flat) or percent (percentage), within min and max."""

    kind: str
    rate: Decimal
    minimum: Decimal
    maximum: Decimal | None


@dataclass(frozen=True)
class Terms:
    """What an office trades on at one moment: its status, the limits in force (office's own rule before
    the general one, per kind; a kind absent has no limit) and the commission rule in force, if any."""

    office_status: str
    limits: dict[str, Decimal]
    commission: CommissionTerms | None
    #: The status of the session asked about (``terms_in_force(..., session=...)``), held until commit.
    session_status: str | None = None

    def limit(self, kind: str) -> Decimal | None:
        return self.limits.get(kind)


# Rules are effective-dated and only ever added: per kind (and per owner: the office or everyone) the one in
# force is the latest already effective, the newest row on a tie. Status, limits and commission in one
# round trip, read fresh on every top-up (nothing cached, so a new rule or a suspension applies at once).
_OFFICES, _LIMITS, _RULES = Office._meta.db_table, Limit._meta.db_table, CommissionRule._meta.db_table
_TERMS_SQL = f"""
SELECT 'office', status, CAST(NULL AS BIGINT), CAST(NULL AS NUMERIC), CAST(NULL AS NUMERIC), CAST(NULL AS NUMERIC)
FROM {_OFFICES} WHERE id = %s
UNION ALL
SELECT 'limit', kind, office_id, amount, NULL, NULL FROM (
    SELECT kind, office_id, amount,
           ROW_NUMBER() OVER (PARTITION BY kind, office_id ORDER BY effective_from DESC, id DESC) AS n
    FROM {_LIMITS} WHERE effective_from <= %s AND (office_id = %s OR office_id IS NULL)
) AS limits WHERE n = 1
UNION ALL
SELECT 'commission', kind, office_id, rate, minimum, maximum FROM (
    SELECT kind, office_id, rate, minimum, maximum,
           ROW_NUMBER() OVER (PARTITION BY office_id ORDER BY effective_from DESC, id DESC) AS n
    FROM {_RULES} WHERE effective_from <= %s AND (office_id = %s OR office_id IS NULL)
) AS rules WHERE n = 1
"""


def _session_row_sql() -> str:
    """The session's status, its row held (FOR SHARE) until commit: a close, which locks it, waits."""
    lock = " FOR SHARE" if connection.features.has_select_for_update else ""
    return (
        "UNION ALL SELECT 'session', (SELECT status FROM "
        f"{CashierSession._meta.db_table} WHERE id = %s{lock}), NULL, NULL, NULL, NULL"
    )


def terms_in_force(office: Office, at: dt.datetime, *, session: CashierSession | None = None) -> Terms:
    """The office's status, limits and commission rule in force at ``at``, read in one query; with a
    ``session``, its status too, the row held for the rest of the transaction (see record_cash_topup)."""
    when = connection.ops.adapt_datetimefield_value(at)
    session_id = CashierSession._meta.pk.get_db_prep_value(session.pk, connection) if session is not None else None
    if connection.vendor == "postgresql":  # the same query in a function: planned once per connection
        sql, params = terms_function.CALL_SQL, [office.pk, when, session_id]
    else:
        sql, params = _TERMS_SQL, [office.pk, when, office.pk, when, office.pk]
        if session is not None:
            sql, params = sql + _session_row_sql(), [*params, session_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    status = ""
    session_status = None
    limits: dict[str, Decimal] = {}
    general_limits: dict[str, Decimal] = {}
    commission: dict[bool, CommissionTerms] = {}
    for source, kind, owner, amount, minimum, maximum in rows:
        if source == "office":
            status = kind
        elif source == "session":
            session_status = kind
        elif source == "limit":
            (limits if owner is not None else general_limits)[kind] = from_db(amount)
        else:
            commission[owner is not None] = CommissionTerms(kind, from_db(amount), from_db(minimum), from_db(maximum))
    if not status:
        raise NotFound(f"No office {office.code}.")
    return Terms(
        office_status=status,
        limits={**general_limits, **limits},
        commission=commission.get(True) or commission.get(False),
        session_status=session_status,
    )
