"""Municipal fee payments from wallets, and refunds of them. Each is one ledger entry through post()."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from erial.errors import AccountInactive, AlreadyPaid, InvalidAmount, InvalidRequest, ReversalExceedsOriginal
from erial.money import format_amount, from_db, is_exact
from erial.plain_sql import JoinedRow

from . import receipts, services
from .chart import SYSTEM_CHART, SystemAccount
from .models import Account, Entry, EntryKind, FeeRate, Payment, Refund, Service, Wallet
from .receipts import insert_with_fresh_receipt, retry_on_receipt_collision
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
    return _quoted(FeeQuote(at, _fee_at(at)))


def _quoted(quote: FeeQuote) -> Decimal:
    if quote.fee is None:
        raise InvalidRequest("No service fee is in force: finance must set one before payments can be taken.")
    return quote.fee


_FEE_AT_SQL = (
    f"SELECT fee FROM {FeeRate._meta.db_table} WHERE effective_from <= %s ORDER BY effective_from DESC LIMIT 1"
)


@dataclass(frozen=True)
class FeeQuote:
    """The fee in force at ``at`` (None: no rate yet), read together with the service to be paid."""

    at: dt.datetime
    fee: Decimal | None


@functools.cache
def _service_row() -> JoinedRow:
    return JoinedRow.build(
        ((Service, "s"), (Account, "a")),
        f"FROM {Service._meta.db_table} s JOIN {Account._meta.db_table} a ON a.id = s.revenue_account_id "
        "WHERE s.code = %s",
        extra=[f"({_FEE_AT_SQL})"],
    )


def service_by_code(code: str) -> Service | None:
    """The service with its revenue account (plain SQL on PostgreSQL, as ``find_wallet``), or None."""
    if connection.vendor != "postgresql":
        return Service.objects.select_related("revenue_account").filter(code=code).first()
    return service_for_payment(code)[0]


def service_for_payment(code: str) -> tuple[Service | None, FeeQuote]:
    """The service (with its revenue account) and the fee in force now: on PostgreSQL in one query, the
    payment path's round trips being most of its cost."""
    at = timezone.now()
    if connection.vendor != "postgresql":
        service = Service.objects.select_related("revenue_account").filter(code=code).first()
        return service, FeeQuote(at, _fee_at(at))
    found = _service_row().fetch([at, code])
    if found is None:
        return None, FeeQuote(at, None)
    service, account, fee = found
    service.revenue_account = account
    return service, FeeQuote(at, from_db(fee))


def _fee_at(at: dt.datetime) -> Decimal | None:
    with connection.cursor() as cursor:
        cursor.execute(_FEE_AT_SQL, [connection.ops.adapt_datetimefield_value(at)])
        row = cursor.fetchone()
    return from_db(row[0]) if row else None


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
    fee_quote: FeeQuote | None = None,
) -> Payment:
    """Pay a municipal bill from a wallet: wallet -(amount + fee) -> service revenue +amount, fee income +fee.

    The fee is the one in force at the moment of payment (``fee_quote``, when the caller read it with the
    service a moment before: ``service_for_payment``). A bill (service + reference) is paid once,
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
        if connection.vendor == "postgresql":
            return retry_on_receipt_collision(
                lambda: _book_in_one_statement(
                    wallet,
                    service,
                    bill_reference,
                    amount,
                    instalment,
                    actor,
                    idempotency_key,
                    scope,
                    fingerprint,
                    _quoted(fee_quote) if fee_quote else fee_in_force(),
                )
            )
        with transaction.atomic():
            fee = _quoted(fee_quote) if fee_quote else fee_in_force()
            with _wallet_cannot_pay(wallet):
                entry = services.post(
                    **_payment_entry(wallet, service, bill_reference, amount, fee),
                    idempotency_key=idempotency_key,
                    scope=scope,
                    actor=actor,
                    request_fingerprint=fingerprint,
                )
            if entry.replayed:
                return _stored_payment(entry)
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


def _payment_entry(wallet: Wallet, service: Service, bill_reference: str, amount: Decimal, fee: Decimal) -> dict:
    """What a payment posts, on either path: wallet -(amount + fee), revenue +amount, fee income +fee."""
    legs = [Leg(wallet.account, amount + fee), Leg(service.revenue_account, -amount)]
    if fee:
        legs.append(Leg(system_account(SystemAccount.FEE_INCOME), -fee))
    return {
        "kind": EntryKind.FEE_PAYMENT,
        "legs": legs,
        "memo": f"{service.name_en} {bill_reference}"[:255],
        "metadata": {"service": service.code, "bill_reference": bill_reference, "wallet": wallet.number},
    }


@contextlib.contextmanager
def _wallet_cannot_pay(wallet: Wallet) -> Iterator[None]:
    """The ledger's "account inactive", said of the wallet."""
    try:
        yield
    except AccountInactive:
        raise AccountInactive(f"Wallet {wallet.number} is {wallet.status}: it cannot pay.") from None


def _stored_payment(entry: Entry) -> Payment:
    """The payment a replayed entry belongs to (a retry answers with it)."""
    payment = with_refunded(Payment.objects.select_related("wallet", "service")).get(entry=entry)
    payment.replayed = True
    return payment


@functools.cache
def _payment_with_entry_sql() -> tuple[str, tuple[Field, ...]]:
    """``ledger_post`` and the payment's INSERT as one statement; the payment takes the entry's time stamp."""
    from . import post_function

    insert, values, fields = receipts.row_after_post_sql(Payment)
    sql = (
        f"WITH posted AS MATERIALIZED ({post_function.CALL_SQL}), "
        f"paid AS ({insert} SELECT {values} FROM posted WHERE posted.outcome = 'posted' RETURNING 1) "
        "SELECT posted.*, (SELECT count(*) FROM paid) FROM posted"
    )
    return sql, fields


def _book_in_one_statement(
    wallet: Wallet,
    service: Service,
    bill_reference: str,
    amount: Decimal,
    instalment: bool,
    actor: AbstractBaseUser | None,
    idempotency_key: str,
    scope: str,
    fingerprint: str,
    fee: Decimal,
) -> Payment:
    """PostgreSQL: the entry and the payment row in one statement, so one round trip with no BEGIN or COMMIT.

    Outside a transaction the statement is its own (autocommit): both rows are written or neither. Inside
    one (a caller's block, a test) it runs under a savepoint, so a refusal leaves that transaction usable.
    A bill paid twice or a receipt number already taken fails the whole statement, entry and key included.
    """
    call = services.post_call(
        **_payment_entry(wallet, service, bill_reference, amount, fee),
        idempotency_key=idempotency_key,
        scope=scope,
        actor=actor,
        request_fingerprint=fingerprint,
    )
    payment = Payment(
        wallet=wallet,
        service=service,
        bill_reference=bill_reference,
        is_instalment=instalment,
        amount=amount,
        fee=fee,
        entry_id=call.entry.id,
        created_by=actor,
        receipt_number=receipts.new_receipt_number(),  # looked up here, so a test can hand out taken numbers
    )
    sql, fields = _payment_with_entry_sql()
    params = [*call.params, *(f.get_db_prep_save(f.pre_save(payment, True), connection) for f in fields)]
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    with _wallet_cannot_pay(wallet):
        entry = call.finish(row)
    if entry.replayed:
        return _stored_payment(entry)
    payment.entry, payment.created_at = entry, entry.created_at
    payment._state.adding, payment._state.db = False, connection.alias
    payment.replayed = False
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
    chosen: dict[str, Decimal] = {}

    def choose_legs(remaining: dict[int, Decimal]) -> list[Leg]:
        # Decided under the payment entry's lock: two refunds never both take the last of it.
        left = -remaining.get(revenue.pk, Decimal("0.000"))
        if amount > left:
            raise ReversalExceedsOriginal(
                f"At most {format_amount(left)} of payment {payment.pk} can still be refunded.",
                refundable=format_amount(left),
            )
        fee_back = -remaining.get(fee_income.pk, Decimal("0.000")) if amount == left else Decimal("0.000")
        chosen["fee"] = fee_back
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
        refund.replayed = False
        return refund

    with transaction.atomic():
        return book()
