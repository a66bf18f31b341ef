"""Online top-ups: initiating one, processing the partner's signed callback, expiring the stale ones.

The wallet is credited (bank or gateway clearing -> wallet) only by an authorised callback, exactly once
however often and however concurrently the partner retries: the top-up row is locked, and the credit is
a ledger post with an idempotency key derived from our reference. The credit draws the top-up's receipt
number, in the same transaction, so a completed top-up always has one (a CHECK in the database too).
A wallet frozen or closed after its top-up started is refused the credit (422 ``account_inactive``, recorded
for finance); the top-up stays open, so the partner's retry once the wallet is active again credits it.
The customer may cancel a top-up not yet paid (``cancel``): the cancel credits nothing; a partner's signed
authorisation for it afterwards still credits it once (the money moved), as for an expired top-up.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from erial.errors import (
    AccountInactive,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
)
from erial.money import check_currency, format_amount, is_exact, parse_amount
from ledger import services as ledger
from ledger.chart import SystemAccount
from ledger.models import EntryKind, Wallet, WalletStatus
from ledger.payments import system_account
from ledger.receipts import new_receipt_number, retry_on_receipt_collision

from . import signing
from .channels import channel as partner_channel
from .models import CallbackNonce, Channel, OnlineTopup, RejectedCallback, TopupStatus

CLEARING = {Channel.BANK: SystemAccount.BANK_CLEARING, Channel.CARD: SystemAccount.GATEWAY_CLEARING}
CALLBACK_FIELDS = {"reference", "status", "amount", "currency", "partner_txn_id", "nonce"}


class CallbackRefused(DomainError):
    """A partner callback we will not act on; it is recorded for finance and nothing is credited."""

    code, status, title = "callback_refused", 400, "Callback refused"


class CallbackUnauthenticated(CallbackRefused):
    code, status, title = "invalid_signature", 401, "Callback signature refused"


class CallbackAccountInactive(CallbackRefused, AccountInactive):
    """An authorised callback for a wallet frozen or closed since its top-up started: the ledger refuses the
    credit, so nothing is credited and the refusal is recorded for finance like any other (422, the business
    refusal). The whole attempt rolls back, its nonce and the top-up's state with it: the top-up stays
    creditable, and the same callback delivered again once the wallet is active credits it, once.
    """

    code, status, title = AccountInactive.code, AccountInactive.status, AccountInactive.title


def _new_reference() -> str:
    return "OT" + secrets.token_hex(6).upper()


def initiate(
    *,
    wallet: Wallet,
    amount: Decimal,
    channel: Channel | str,
    actor: AbstractBaseUser,
    idempotency_key: str = "",
    scope: str = "",
) -> OnlineTopup:
    """Start an online top-up; the customer is then sent to the partner (``redirect_url``).

    With an ``idempotency_key`` a retry (the same key in the same ``scope`` for the same wallet, amount and
    channel) returns the top-up already started, with ``replayed = True``, however many arrive at once; the
    same key for another request is a conflict. Starting moves no money, so the key is optional.
    """
    if channel not in Channel.values:
        raise InvalidRequest(f"channel must be one of {', '.join(Channel.values)}.", field="channel")
    if not isinstance(amount, Decimal) or amount <= 0 or not is_exact(amount):
        raise InvalidAmount("The top-up must be a positive amount with at most 3 decimal places.")
    if idempotency_key:
        fingerprint = ledger.request_fingerprint("online_topup", wallet.number, format_amount(amount), channel)
        started = _started_with(scope, idempotency_key, fingerprint)
        if started is not None:
            return started
        try:
            with transaction.atomic():
                topup = _initiate(wallet, amount, channel, actor, scope, idempotency_key, fingerprint)
        except IntegrityError:  # a concurrent start with this key won: its top-up is the answer
            started = _started_with(scope, idempotency_key, fingerprint)
            if started is None:
                raise
            return started
        topup.replayed = False
        return topup
    topup = _initiate(wallet, amount, channel, actor, "", "", "")
    topup.replayed = False
    return topup


def _started_with(scope: str, key: str, fingerprint: str) -> OnlineTopup | None:
    topup = OnlineTopup.objects.filter(idempotency_scope=scope, idempotency_key=key).first()
    if topup is None:
        return None
    if topup.request_fingerprint != fingerprint:
        raise IdempotencyConflict(f"Idempotency key {key!r} already started another top-up; use a new key.")
    topup.replayed = True
    return topup


def _initiate(
    wallet: Wallet,
    amount: Decimal,
    channel: Channel | str,
    actor: AbstractBaseUser,
    scope: str,
    key: str,
    fingerprint: str,
) -> OnlineTopup:
    if wallet.status != WalletStatus.ACTIVE:  # a business refusal (422), as for a cash top-up
        raise AccountInactive(f"Account {wallet.number} is {wallet.status}: it cannot be topped up.")
    minutes = settings.ERIAL_ONLINE_TOPUP_EXPIRY_MINUTES
    return OnlineTopup.objects.create(
        reference=_new_reference(),
        wallet=wallet,
        channel=channel,
        amount=amount,
        created_by=actor,
        expires_at=timezone.now() + dt.timedelta(minutes=minutes),
        idempotency_scope=scope,
        idempotency_key=key,
        request_fingerprint=fingerprint,
    )


def redirect_url(topup: OnlineTopup) -> str:
    return partner_channel(topup.channel).redirect_url(topup)


def handle_callback(
    *, channel: str, body: bytes, signature_header: str | None, remote_addr: str | None = None
) -> OnlineTopup:
    """Act on a partner's callback, or refuse it (recorded for finance) with nothing credited."""
    try:
        return _handle(channel, body, signature_header)
    except CallbackRefused as refused:
        reference = ""
        with contextlib.suppress(ValueError, AttributeError):
            reference = str(json.loads(body).get("reference", ""))[:64]
        RejectedCallback.objects.create(
            channel=str(channel)[:8],
            reason=refused.detail[:255],
            reference=reference,
            body=body.decode("utf-8", "replace")[:10000],
            signature=(signature_header or "")[:512],
            remote_addr=remote_addr,
        )
        raise


def _handle(channel: str, body: bytes, signature_header: str | None) -> OnlineTopup:
    if channel not in Channel.values:
        raise CallbackRefused(f"Unknown channel {channel!r}.")
    try:
        signing.verify(signature_header, body, partner_channel(channel).secret)
    except signing.BadSignature as bad:
        raise CallbackUnauthenticated(f"Signature refused: {bad}.") from None
    message = _parse(body)
    # A receipt number drawn on credit that is already taken undoes the whole attempt (entry and nonce
    # with it), which then runs again with a fresh number: never a 500 for bad luck.
    return retry_on_receipt_collision(lambda: _act(channel, message, body))


def _act(channel: str, message: dict[str, Any], body: bytes) -> OnlineTopup:
    with transaction.atomic():
        _remember_nonce(channel, message["nonce"], body)
        topup = (
            OnlineTopup.objects.select_for_update(of=("self",))
            .select_related("wallet__account")
            .filter(reference=message["reference"])
            .first()
        )
        if topup is None:
            raise CallbackRefused(f"No online top-up with reference {message['reference']}.")
        if topup.channel != channel:
            raise CallbackRefused(f"Top-up {topup.reference} was initiated on {topup.channel}, not {channel}.")
        if message["amount"] != topup.amount:
            raise CallbackRefused(
                f"Amount {format_amount(message['amount'])} does not match the {format_amount(topup.amount)} "
                f"initiated for {topup.reference}."
            )
        if topup.partner_txn_id and topup.partner_txn_id != message["partner_txn_id"]:
            raise CallbackRefused(
                f"Top-up {topup.reference} already belongs to partner transaction {topup.partner_txn_id}."
            )
        if message["status"] == "authorised":
            _credit(topup, message["partner_txn_id"])
        else:
            _fail(topup, message["partner_txn_id"])
    return topup


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=str)
    except ValueError:
        raise CallbackRefused("The body is not JSON.") from None
    if not isinstance(data, dict) or set(data) != CALLBACK_FIELDS:
        raise CallbackRefused(f"A callback has exactly the fields {', '.join(sorted(CALLBACK_FIELDS))}.")
    if data["status"] not in {"authorised", "failed"}:
        raise CallbackRefused("status is authorised or failed.")
    for name in ("reference", "partner_txn_id", "nonce"):
        # Printable ASCII: these identifiers are printed on receipts and statements and typed at counters.
        value = data[name]
        if not isinstance(value, str) or not 1 <= len(value) <= 64 or not (value.isascii() and value.isprintable()):
            raise CallbackRefused(f"{name} must be 1 to 64 printable ASCII characters.")
    try:
        check_currency(data["currency"])
        data["amount"] = parse_amount(data["amount"], exact_places=True)
    except DomainError as bad:
        raise CallbackRefused(bad.detail) from None
    return data


def _remember_nonce(channel: str, nonce: str, body: bytes) -> None:
    digest = hashlib.sha256(body).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO topups_callbacknonce (channel, nonce, body_sha256, received_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (channel, nonce) DO NOTHING",
            [channel, nonce, digest, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
    seen = CallbackNonce.objects.values_list("body_sha256", flat=True).get(channel=channel, nonce=nonce)
    if seen != digest:
        raise CallbackRefused(f"Nonce {nonce} was already used on a different callback.")


def _credit(topup: OnlineTopup, partner_txn_id: str) -> None:
    if topup.status == TopupStatus.COMPLETED:
        return  # the partner retrying: credited once already
    try:
        topup.authorise()
    except TransitionNotAllowed:
        raise CallbackRefused(f"Top-up {topup.reference} is {topup.status}: an authorisation now is refused.") from None
    topup.partner_txn_id = partner_txn_id
    clearing = system_account(CLEARING[Channel(topup.channel)])
    try:
        topup.entry = ledger.post(
            kind=EntryKind.ONLINE_TOPUP,
            legs=[ledger.Leg(clearing, topup.amount), ledger.Leg(topup.wallet.account, -topup.amount)],
            idempotency_key=f"online:{topup.reference}",
            reference=topup.reference,
            scope="topups.callback",
            memo=f"Online top-up ({topup.get_channel_display()}) {topup.reference}",
            metadata={"reference": topup.reference, "partner_txn_id": partner_txn_id, "channel": topup.channel},
        )
    except AccountInactive as blocked:
        # Raised inside _act's transaction, so it all rolls back: the nonce, and the authorisation above
        # (never saved); this ``topup`` object is dropped with it.
        raise _not_credited(topup, blocked) from None
    topup.complete()
    topup.receipt_number = new_receipt_number()  # the customer's receipt, in the entry's transaction
    topup.save()


def _not_credited(topup: OnlineTopup, blocked: AccountInactive) -> CallbackAccountInactive:
    """Why the ledger refused the credit, in words finance can act on."""
    # Read now, not from the row loaded with the top-up: a freeze committed since then is what refused it.
    status = Wallet.objects.values_list("status", flat=True).get(pk=topup.wallet_id)
    retry = f"{topup.reference} stays open and is credited when the partner sends its callback again"
    if status == WalletStatus.ACTIVE:  # the wallet's status does not explain it: pass on the ledger's words
        return CallbackAccountInactive(f"{blocked.detail} The top-up was not credited; {retry}.")
    if status == WalletStatus.CLOSED:  # closed is final: no retry will ever credit it
        return CallbackAccountInactive(
            f"Account {topup.wallet.number} is closed: the top-up was not credited and cannot be. The payment "
            f"{topup.reference} stays with the partner: finance returns it to the payer (it shows in the "
            "reconciliation as a partner payment without a ledger entry)."
        )
    return CallbackAccountInactive(
        f"Account {topup.wallet.number} is {status}: the top-up was not credited; {retry} once the account is active."
    )


def _fail(topup: OnlineTopup, partner_txn_id: str) -> None:
    if topup.status == TopupStatus.FAILED:
        return
    try:
        topup.fail()
    except TransitionNotAllowed:
        raise CallbackRefused(f"Top-up {topup.reference} is {topup.status}: a failure now is refused.") from None
    topup.partner_txn_id = partner_txn_id
    topup.failure_reason = "The partner reported the payment failed."
    topup.save()


def cancel(*, topup: OnlineTopup, actor: AbstractBaseUser, reason: str) -> OnlineTopup:
    """The customer gives up a top-up not yet paid (at the partner's page, or in the portal): initiated ->
    cancelled. Nothing is credited by the cancel. If the partner nevertheless took the money (the customer paid
    in another tab, then cancelled here), its signed authorisation still credits the top-up, once, as for an
    expired top-up: the customer gets what they paid rather than a refund to chase. A failure reported after the
    cancel is refused (the top-up is no longer pending).

    Only the wallet's holder cancels. Refused, writing nothing: anyone else (403), and a top-up no longer
    initiated (422 ``invalid_transition``: already credited, failed or expired). Cancelling a cancelled top-up
    again changes nothing (the customer clicking twice, or cancelling at the partner and again in the portal).
    The row is locked as a callback locks it, so a cancel and a concurrent callback happen one after the other.
    """
    if not Wallet.objects.filter(pk=topup.wallet_id, holder__user_id=actor.pk).exists():
        raise Forbidden("Only the account's holder cancels its top-up.")
    with transaction.atomic():
        locked = OnlineTopup.objects.select_for_update().get(pk=topup.pk)
        if locked.status == TopupStatus.CANCELLED:
            return locked
        try:
            locked.cancel()
        except TransitionNotAllowed:
            raise InvalidTransition(
                f"Top-up {locked.reference} is {locked.status}: it can no longer be cancelled."
            ) from None
        locked.failure_reason = reason[:255]
        locked.save()
    return locked


def expire_stale(now: dt.datetime | None = None) -> int:
    """Expire every initiated top-up whose time ran out (Celery beat runs this)."""
    now = now or timezone.now()
    expired = 0
    stale = OnlineTopup.objects.filter(status=TopupStatus.INITIATED, expires_at__lt=now).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            topup = OnlineTopup.objects.select_for_update().get(pk=pk)
            if topup.status == TopupStatus.INITIATED:
                topup.expire()
                topup.save()
                expired += 1
    return expired
