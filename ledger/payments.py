"""Municipal fee payments from wallets, and refunds of them. Each is one ledger entry through post()."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from erial.errors import AccountInactive, AlreadyPaid, InvalidAmount, InvalidRequest, ReversalExceedsOriginal
from erial.money import format_amount, from_db, is_exact
from erial.plain_sql import JoinedRow

from . import services
from .chart import SYSTEM_CHART, SystemAccount
from .models import Account, EntryKind, FeeRate, Payment, Refund, Service, Wallet
from .receipts import insert_with_fresh_receipt
from .services import Leg

MAX_BILL_REFERENCE = 64
_SYSTEM_KINDS = {code: kind for code, _, kind in SYSTEM_CHART}


def with_refunded(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Payments annotated with ``refunded_amount`` (one query, however many refunds)."""
    return payments.annotate(refunded_amount=Coalesce(Sum("refunds__amount"), Value(Decimal("0.000"))))


@functools.cache
def system_account_id(code: str) -> int:
    return Account.objects.values_list("pk", flat=True).get(code=code)


def system_account(code: SystemAccount) -> Account:
    """A system account for posting, without a query once its id is known (codes never change)."""
    return Account(pk=system_account_id(str(code)), code=str(code), kind=_SYSTEM_KINDS[str(code)], currency="OMR")


def fee_in_force(at: dt.datetime | None = None) -> Decimal:
    """The fixed fee per payment in force at ``at`` (now by default): the latest rate already effective.

    Plain SQL: it runs on every payment, and the ORM's query building cost more than the query.
    """
    at = at or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT fee FROM {FeeRate._meta.db_table} WHERE effective_from <= %s ORDER BY effective_from DESC LIMIT 1",
            [connection.ops.adapt_datetimefield_value(at)],
        )
        row = cursor.fetchone()
    if row is None:
        raise InvalidRequest("No service fee is in force: finance must set one before payments can be taken.")
    return from_db(row[0])


@functools.cache
def _service_row() -> JoinedRow:
    return JoinedRow.build(
        ((Service, "s"), (Account, "a")),
        f"FROM {Service._meta.db_table} s JOIN {Account._meta.db_table} a ON a.id = s.revenue_account_id "
        "WHERE s.code = %s",
    )


def service_by_code(code: str) -> Service | None:
    """The service with its revenue account (plain SQL on PostgreSQL, as ``find_wallet``), or None."""
    if connection.vendor != "postgresql":
        return Service.objects.select_related("revenue_account").filter(code=code).first()
    found = _service_row().fetch([code])
    if found is None:
        return None
    service, account = found
    service.revenue_account = account
    return service


def _checked_amount(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal) or not is_exact(amount) or amount <= 0:
        raise InvalidAmount(f"Amount {amount!r} must be a positive Decimal with at most 3 decimal places.")
    return amount


def pay_fee(
    *,
    wallet: Wallet,
    service: Service,
    bill_reference: str,
    amount: Decimal,
    actor: AbstractBaseUser | None,
    idempotency_key: str,
    scope: str,
    instalment: bool = False,
) -> Payment:
    """Pay a municipal bill from a wallet: wallet -(amount + fee) -> service revenue +amount, fee income +fee.

    The fee is the one in force at the moment of payment. A bill (service + reference) is paid once,
    unless the caller says this is a separate instalment. A retry with the same key returns the stored
    payment (``payment.replayed``), whatever fee is in force by then.
    """
    amount = _checked_amount(amount)
    bill_reference = (bill_reference or "").strip()
    if not bill_reference or len(bill_reference) > MAX_BILL_REFERENCE or not bill_reference.isprintable():
        raise InvalidRequest(
            f"A bill reference is 1 to {MAX_BILL_REFERENCE} printable characters.", field="bill_reference"
        )
    if not service.is_active:
        raise InvalidRequest(f"Service {service.code} cannot be paid at the moment.", field="service")
    fingerprint = services.request_fingerprint(
        "pay_fee", wallet.number, service.code, bill_reference, format_amount(amount), instalment
    )

    def book() -> Payment:
        with transaction.atomic():
            now = timezone.now()
            fee = fee_in_force(now)
            legs = [Leg(wallet.account, amount + fee), Leg(service.revenue_account, -amount)]
            if fee:
                legs.append(Leg(system_account(SystemAccount.FEE_INCOME), -fee))
            try:
                entry = services.post(
                    kind=EntryKind.FEE_PAYMENT,
                    legs=legs,
                    idempotency_key=idempotency_key,
                    scope=scope,
                    actor=actor,
                    memo=f"{service.name_en} {bill_reference}"[:255],
                    metadata={"service": service.code, "bill_reference": bill_reference, "wallet": wallet.number},
                    request_fingerprint=fingerprint,
                )
            except AccountInactive:
                raise AccountInactive(f"Wallet {wallet.number} is {wallet.status}: it cannot pay.") from None
            if entry.replayed:
                payment = with_refunded(Payment.objects.select_related("wallet", "service")).get(entry=entry)
                payment.replayed = True
                return payment
            # The unique (service, bill) index refuses a second payment of the bill; the whole entry goes
            # back with it (no savepoint needed: the error leaves this atomic block). A taken receipt
            # number is drawn again inside the INSERT's own retry.
            payment = insert_with_fresh_receipt(
                Payment(
                    wallet=wallet,
                    service=service,
                    bill_reference=bill_reference,
                    is_instalment=instalment,
                    amount=amount,
                    fee=fee,
                    entry=entry,
                    created_by=actor,
                    created_at=entry.created_at,
                )
            )
            payment.replayed = False
            return payment

    try:
        payment = book()
    except IntegrityError:
        raise AlreadyPaid(
            f"Bill {bill_reference} for {service.code} is already paid. If this is a separate instalment, "
            "say so (instalment: true).",
            field="bill_reference",
        ) from None
    if payment.replayed:
        return payment
    payment.refunded_amount = Decimal("0.000")
    return payment


def refundable(payment: Payment) -> Decimal:
    """How much of the payment's amount can still be refunded (the fee is not counted)."""
    refunded = sum((r.amount for r in payment.refunds.all()), Decimal("0.000"))
    return payment.amount - refunded


def refund_payment(
    *,
    payment: Payment,
    amount: Decimal,
    reason: str,
    actor: AbstractBaseUser,
    idempotency_key: str,
    scope: str,
) -> Refund:
    """Return ``amount`` of a payment to its wallet. The refund that completes the amount also returns the
    fee (a full refund); more than the amount not yet refunded is refused with ``already_refunded``.
    """
    amount = _checked_amount(amount)
    if not (reason or "").strip():
        raise InvalidRequest("A refund needs a reason.", field="reason")
    wallet_account = payment.wallet.account
    revenue = payment.service.revenue_account
    fee_income = system_account(SystemAccount.FEE_INCOME)
    chosen: dict[str, Decimal | bool] = {}

    def choose_legs(remaining: dict[int, Decimal]) -> list[Leg]:
        # Decided under the payment entry's lock: two refunds never both take the last of it.
        left = -remaining.get(revenue.pk, Decimal("0.000"))
        if amount > left:
            raise ReversalExceedsOriginal(
                f"At most {format_amount(left)} of payment {payment.pk} can still be refunded.",
                refundable=format_amount(left),
            )
        fee_back = -remaining.get(fee_income.pk, Decimal("0.000")) if amount == left else Decimal("0.000")
        chosen["fee"], chosen["full"] = fee_back, amount == left
        legs = [Leg(wallet_account, -(amount + fee_back)), Leg(revenue, amount)]
        if fee_back:
            legs.append(Leg(fee_income, fee_back))
        return legs

    def book() -> Refund:
        entry = services.reverse(
            entry=payment.entry,
            legs=choose_legs,
            kind=EntryKind.REFUND,
            reason=reason.strip(),
            actor=actor,
            idempotency_key=idempotency_key,
            scope=scope,
            request_fingerprint=services.request_fingerprint("refund", str(payment.pk), format_amount(amount), reason),
        )
        if entry.replayed:
            refund = Refund.objects.get(entry=entry)
            refund.replayed = True
            return refund
        refund = insert_with_fresh_receipt(
            Refund(
                payment=payment,
                amount=amount,
                fee_returned=chosen["fee"],
                reason=reason.strip()[:255],
                entry=entry,
                created_by=actor,
                created_at=entry.created_at,
            )
        )
        if chosen["full"]:
            # The whole payment is back with the payer: the bill counts as unpaid (the unique bill index
            # leaves this payment out), so the right wallet can pay it after a refund of the wrong one.
            Payment.objects.filter(pk=payment.pk).update(refunded_in_full_at=entry.created_at)
        refund.replayed = False
        return refund

    with transaction.atomic():
        return book()
