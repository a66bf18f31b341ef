"""Opening wallets and their lifecycle (freeze, unfreeze, close with payout). Every write is a service."""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django_fsm import TransitionNotAllowed

from erial.errors import AlreadyExists, InvalidRequest, InvalidTransition, NotFound
from erial.money import format_amount
from erial.plain_sql import JoinedRow
from erial.text import western_digits

from . import account_numbers, services
from .chart import SystemAccount
from .models import (
    Account,
    AccountBalance,
    AccountKind,
    EntryKind,
    Holder,
    HolderType,
    OpeningChannel,
    OwnerKind,
    Wallet,
    WalletStatus,
)
from .office_acts import refuse_unless_office_may_act
from .selectors import balance

ZERO = Decimal("0.000")
_PHONE_RE = re.compile(r"^(?:\+?968)?([2789]\d{7})$")
_NATIONAL_ID_RE = re.compile(r"^\d{4,20}$")


def normalise_phone(raw: str) -> str:
    """An Omani number (8 digits, with or without +968) in the form +968XXXXXXXX."""
    digits = re.sub(r"[\s\-()]", "", western_digits(raw))
    match = _PHONE_RE.match(digits)
    if not match:
        raise InvalidRequest(f"{raw!r} is not an Omani phone number (8 digits, optionally +968).", field="phone")
    return f"+968{match.group(1)}"


def open_wallet(
    *,
    holder_type: HolderType | str,
    national_id: str,
    phone: str,
    channel: OpeningChannel | str,
    name_en: str = "",
    name_ar: str = "",
    email: str = "",
    actor: AbstractBaseUser | None = None,
    user: AbstractBaseUser | None = None,
) -> Wallet:
    """Open a wallet for a new holder (one wallet per holder). ``user`` is the holder's portal login."""
    if holder_type not in HolderType.values:
        raise InvalidRequest(f"holder_type must be one of {', '.join(HolderType.values)}.", field="holder_type")
    national_id = western_digits(national_id)
    if not _NATIONAL_ID_RE.match(national_id):
        what = "civil ID" if holder_type == HolderType.INDIVIDUAL else "commercial registration number"
        raise InvalidRequest(f"The {what} must be 4 to 20 digits.", field="national_id")
    name_en, name_ar = (name_en or "").strip(), (name_ar or "").strip()
    if not (name_en or name_ar):
        raise InvalidRequest("A holder needs a name, in English or Arabic.", field="name")
    if len(name_en) > 200 or len(name_ar) > 200:
        raise InvalidRequest("A name is at most 200 characters.", field="name")
    phone = normalise_phone(phone)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidRequest(f"{email!r} is not an e-mail address.", field="email") from None
    if channel not in OpeningChannel.values:
        raise InvalidRequest("Unknown opening channel.")
    if channel == OpeningChannel.OFFICE:
        refuse_unless_office_may_act(actor)
    with transaction.atomic():
        if Holder.objects.filter(holder_type=holder_type, national_id=national_id).exists():
            raise AlreadyExists("This holder already has an e-Rial wallet: one holder may have one wallet.")
        if user is not None and Holder.objects.filter(user=user).exists():
            raise AlreadyExists("This login already belongs to a wallet holder.")
        try:
            with transaction.atomic():
                holder = Holder.objects.create(
                    holder_type=holder_type,
                    national_id=national_id,
                    name_en=name_en,
                    name_ar=name_ar,
                    phone=phone,
                    email=email,
                    user=user,
                )
        except IntegrityError:  # a concurrent registration of the same holder won
            raise AlreadyExists("This holder already has an e-Rial wallet: one holder may have one wallet.") from None
        number = _unused_number()
        account = services.open_account(
            code=f"W-{number}",
            name=f"Wallet {number}",
            kind=AccountKind.LIABILITY,
            owner_kind=OwnerKind.WALLET,
            owner_ref=number,
            tracks_balance=True,
            floor=ZERO,
        )
        return Wallet.objects.create(number=number, holder=holder, account=account, channel=channel, opened_by=actor)


def _unused_number() -> str:
    for _ in range(20):
        number = account_numbers.new_number()
        if not Wallet.objects.filter(number=number).exists():
            return number
    raise RuntimeError("could not find an unused wallet number")  # pragma: no cover - 1 in 10^20 odds


def find_wallet(number: str) -> Wallet:
    """The wallet with this number, with its account, holder and cached balance loaded; a mistyped number is
    refused as such, an unknown one is not found.

    Every API request on a wallet starts here. On PostgreSQL the query is plain SQL built once from the
    models and turned into the same objects the ORM would make: building the ORM query cost ten times
    running it (bench/RESULTS.md). Other backends hand some types back raw (decimals, datetimes), so
    they take the ORM.
    """
    number = account_numbers.normalise(number)
    if connection.vendor == "postgresql":
        wallet = _wallet_by_sql(number)
    else:
        wallet = Wallet.objects.select_related("account", "holder", "account__cached_balance").filter(number=number)
        wallet = wallet.first()
    if wallet is None:
        raise NotFound(f"No e-Rial account {number}.")
    return wallet


@functools.cache
def _wallet_row() -> JoinedRow:
    return JoinedRow.build(
        ((Wallet, "w"), (Account, "a"), (Holder, "h"), (AccountBalance, "b")),
        f"FROM {Wallet._meta.db_table} w JOIN {Account._meta.db_table} a ON a.id = w.account_id "
        f"JOIN {Holder._meta.db_table} h ON h.id = w.holder_id "
        f"LEFT JOIN {AccountBalance._meta.db_table} b ON b.account_id = a.id WHERE w.number = %s",
    )


def _wallet_by_sql(number: str) -> Wallet | None:
    found = _wallet_row().fetch([number])
    if found is None:
        return None
    wallet, account, holder, cached = found
    wallet.account, wallet.holder = account, holder
    account.cached_balance = cached
    return wallet


def _transition(wallet: Wallet, action: str, *, actor: AbstractBaseUser, reason: str) -> Wallet:
    """Apply a lifecycle transition under the wallet's lock, recording who and why in its history."""
    if not (reason or "").strip():
        raise InvalidRequest("Say why: a wallet's status changes only with a reason.", field="reason")
    locked = Wallet.objects.select_for_update().select_related("account").get(pk=wallet.pk)
    try:
        getattr(locked, action)()
    except TransitionNotAllowed:
        raise InvalidTransition(f"Wallet {locked.number} is {locked.status}: it cannot be {action}d.") from None
    locked._history_user = actor
    locked._change_reason = reason.strip()[:100]
    locked.save()
    return locked


def freeze_wallet(*, wallet: Wallet, actor: AbstractBaseUser, reason: str) -> Wallet:
    """Finance blocks a wallet: from now on it takes no debits and no credits."""
    with transaction.atomic():
        locked = _transition(wallet, "freeze", actor=actor, reason=reason)
        services.set_active(account=locked.account, active=False)
    return locked


def unfreeze_wallet(*, wallet: Wallet, actor: AbstractBaseUser, reason: str) -> Wallet:
    with transaction.atomic():
        locked = _transition(wallet, "unfreeze", actor=actor, reason=reason)
        services.set_active(account=locked.account, active=True)
    return locked


def close_wallet(*, wallet: Wallet, actor: AbstractBaseUser, reason: str, idempotency_key: str) -> Wallet:
    """Close a wallet for good. A remaining balance is first paid out to the holder (finance approves it
    by doing this): wallet -> payouts payable, settled to the holder's bank account outside the ledger.
    """
    with transaction.atomic():
        locked = Wallet.objects.select_for_update().select_related("account").get(pk=wallet.pk)
        scope = f"close:{locked.number}"
        if locked.status == WalletStatus.CLOSED and services.key_claimed(scope=scope, key=idempotency_key):
            return locked  # a retry of the close that did it: the same answer, nothing more paid out
        if locked.status == WalletStatus.FROZEN:
            services.set_active(account=locked.account, active=True)  # the payout must be able to debit it
        remaining = balance(locked.account)
        if remaining <= 0:
            # No payout entry to hold the key: claim it alone, so a retry is recognised as this close.
            services.claim_key(
                scope=scope, key=idempotency_key, fingerprint=services.request_fingerprint("close", locked.number)
            )
        else:
            services.post(
                kind=EntryKind.PAYOUT,
                legs=[
                    services.Leg(locked.account, remaining),
                    services.Leg(Account.objects.get(code=SystemAccount.PAYOUTS_PAYABLE), -remaining),
                ],
                idempotency_key=idempotency_key,
                scope=scope,
                actor=actor,
                memo=f"Balance {format_amount(remaining)} paid out on closing: {reason}"[:255],
            )
        closed = _transition(locked, "close", actor=actor, reason=reason)
        services.set_active(account=closed.account, active=False)
    return closed
