"""Every write to the ledger. ``post()`` is the one way money moves; ``reverse()`` corrects.

Guarantees of ``post()`` (design.md §3): one database transaction; the idempotency key is claimed
first (same key and request -> the stored entry, a different request -> ``IdempotencyConflict``,
a concurrent duplicate waits on the unique index and then gets the stored entry); only accounts with a
cached balance are locked, in id order, so two posts never deadlock and hot accounts never queue;
floors are checked before anything is written; a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from erial.errors import (
    AccountInactive,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidRequest,
    LimitExceeded,
    MissingIdempotencyKey,
    ReversalExceedsOriginal,
)
from erial.money import CURRENCY, format_amount, from_db, is_exact

from . import post_function
from .businessday import business_day_of
from .ids import uuid7
from .models import (
    NORMAL_SIGN,
    Account,
    AccountBalance,
    AccountKind,
    Entry,
    EntryKind,
    IdempotencyKey,
    OwnerKind,
    Posting,
)

ZERO = Decimal("0.000")
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Leg:
    """One side of a movement: a signed amount (debit +, credit -) on an account."""

    account: Account
    amount: Decimal


#: Chooses reversal legs from what is not yet reversed (signed, per account id).
LegsFromRemainder = Callable[[dict[int, Decimal]], Sequence[Leg]]


# --- accounts -------------------------------------------------------------------------------------


def open_account(
    *,
    code: str,
    name: str,
    kind: AccountKind | str,
    owner_kind: OwnerKind | str = OwnerKind.SYSTEM,
    owner_ref: str = "",
    tracks_balance: bool = False,
    floor: Decimal | None = None,
) -> Account:
    """Create an account (and its cached balance row when it tracks one). A floor needs tracking."""
    if floor is not None and not tracks_balance:
        raise InvalidRequest(f"Account {code}: a balance floor needs a tracked balance.")
    if floor is not None and not is_exact(floor):
        raise InvalidAmount(f"Account {code}: floor {floor} has more than 3 decimal places.")
    if floor is not None and floor > 0:
        raise InvalidRequest(f"Account {code}: a floor above zero would refuse the first credit.")
    with transaction.atomic():
        account = Account.objects.create(
            code=code,
            name=name,
            kind=kind,
            owner_kind=owner_kind,
            owner_ref=owner_ref,
            tracks_balance=tracks_balance,
        )
        if tracks_balance:
            AccountBalance.objects.create(account=account, balance=ZERO, floor=floor)
    return account


def set_active(*, account: Account, active: bool) -> AccountBalance:
    """Open or block an account for postings (a frozen wallet takes no debits and no credits).

    Taken under the balance row's lock, so no post in flight can slip past a freeze.
    """
    if not account.tracks_balance:
        raise InvalidRequest(f"Account {account.code} has no tracked balance, so it cannot be blocked.")
    with transaction.atomic():
        row = AccountBalance.objects.select_for_update().get(account=account)
        row.active = active
        row.save(update_fields=["active", "updated_at"])
    return row


def set_floor(*, account: Account, floor: Decimal | None) -> AccountBalance:
    """Change an account's floor (e.g. an agent's credit limit). Refused if the balance is already below."""
    if not account.tracks_balance:
        raise InvalidRequest(f"Account {account.code} has no tracked balance, so it can have no floor.")
    if floor is not None and (not is_exact(floor) or floor > 0):
        raise InvalidAmount(f"Floor {floor} must be zero or negative with at most 3 decimal places.")
    with transaction.atomic():
        row = AccountBalance.objects.select_for_update().get(account=account)
        if floor is not None and row.balance < floor:
            raise LimitExceeded(
                f"Account {account.code} holds {format_amount(row.balance)}, below the new floor "
                f"{format_amount(floor)}."
            )
        row.floor = floor
        row.save(update_fields=["floor", "updated_at"])
    return row


# --- posting --------------------------------------------------------------------------------------


def post(
    *,
    kind: EntryKind | str,
    legs: Sequence[Leg],
    idempotency_key: str,
    scope: str,
    actor: AbstractBaseUser | None = None,
    memo: str = "",
    metadata: Mapping[str, Any] | None = None,
    request_fingerprint: str | None = None,
    reference: str = "",
) -> Entry:
    """Move money: write one balanced entry, or refuse and write nothing.

    Returns the entry; on a retry with the same key and request, the stored entry with
    ``entry.replayed = True``. The request is identified by its legs, or by ``request_fingerprint``
    when the caller's request is what must match (a payment retried after the fee changed is the same
    request with different legs).
    """
    kind = _entry_kind(kind)
    legs = _checked_legs(legs)
    metadata = dict(metadata or {})
    fingerprint = request_fingerprint or _fingerprint(
        "post", kind, sorted((leg.account.pk, format_amount(leg.amount)) for leg in legs), memo, metadata, reference
    )
    return _post(
        kind=kind,
        legs=legs,
        fingerprint=fingerprint,
        idempotency_key=idempotency_key,
        scope=scope,
        actor=actor,
        memo=memo,
        metadata=metadata,
        reverses=None,
        reference=reference,
    )


def reverse(
    *,
    entry: Entry,
    reason: str,
    idempotency_key: str,
    actor: AbstractBaseUser | None = None,
    amount: Decimal | None = None,
    legs: Sequence[Leg] | LegsFromRemainder | None = None,
    kind: EntryKind | str = EntryKind.REVERSAL,
    scope: str = "ledger.reverse",
    metadata: Mapping[str, Any] | None = None,
    request_fingerprint: str | None = None,
) -> Entry:
    """Correct ``entry`` with a new entry that points at it: in full, by ``amount``, or by explicit ``legs``.

    - no ``amount`` and no ``legs``: reverse whatever is not yet reversed;
    - ``amount``: a two-account entry reversed by that much;
    - ``legs``: exactly these legs (a refund that returns the amount but keeps the fee), or a function
      that chooses them from what is not yet reversed, per account id; it runs under the original's
      lock, so a decision such as "the last refund also returns the fee" is never raced.
    Never more than was posted: per account, all reversals together stay within the original posting.
    """
    if not reason.strip():
        raise InvalidRequest("A reversal needs a reason.")
    if amount is not None and legs is not None:
        raise InvalidRequest("Give either an amount or legs to reverse, not both.")
    if amount is not None and (not is_exact(amount) or amount <= 0):
        raise InvalidAmount(f"Reversal amount {amount} must be positive with at most 3 decimal places.")
    checked_legs = _checked_legs(legs) if legs is not None and not callable(legs) else None
    if callable(legs) and request_fingerprint is None:
        raise InvalidRequest("Legs chosen at posting time need a request fingerprint for idempotency.")
    kind = _entry_kind(kind)
    metadata = {**(metadata or {}), "reason": reason}

    def build_legs() -> list[Leg]:
        # Lock the original so two concurrent partial reversals cannot both see the same remainder.
        original = Entry.objects.select_for_update().get(pk=entry.pk)
        remaining = _unreversed_by_account(original)
        if not any(remaining.values()):
            raise ReversalExceedsOriginal(f"Entry {original.pk} is already fully reversed.")
        accounts = Account.objects.in_bulk(list(remaining))
        if callable(legs):
            wanted = _checked_legs(legs(dict(remaining)))
        elif checked_legs is not None:
            wanted = checked_legs
        elif amount is None:
            wanted = [Leg(accounts[pk], -left) for pk, left in remaining.items() if left]
        else:
            if len(remaining) != 2:
                raise InvalidRequest(
                    f"Entry {original.pk} has {len(remaining)} accounts: a partial reversal of it needs legs."
                )
            wanted = [Leg(accounts[pk], amount if left < 0 else -amount) for pk, left in remaining.items()]
        for leg in wanted:
            left = remaining.get(leg.account.pk)
            if left is None:
                raise InvalidRequest(f"Account {leg.account.code} is not part of entry {original.pk}.")
            if leg.amount * left > 0 or abs(leg.amount) > abs(left):
                raise ReversalExceedsOriginal(
                    f"Reversing {format_amount(abs(leg.amount))} on {leg.account.code} exceeds the "
                    f"{format_amount(abs(left))} of entry {original.pk} not yet reversed."
                )
        return wanted

    fingerprint = request_fingerprint or _fingerprint(
        "reverse",
        kind,
        str(entry.pk),
        reason,
        None if amount is None else format_amount(amount),
        None if checked_legs is None else sorted((g.account.pk, format_amount(g.amount)) for g in checked_legs),
    )
    return _post(
        kind=kind,
        build_legs=build_legs,
        legs=None,
        fingerprint=fingerprint,
        idempotency_key=idempotency_key,
        scope=scope,
        actor=actor,
        memo=reason[:255],
        metadata=metadata,
        reverses=entry,
    )


def _unreversed_by_account(original: Entry) -> dict[int, Decimal]:
    """Per account: the original posting plus every reversal of it so far (signed)."""
    remaining: dict[int, Decimal] = {}
    for account_id, amount in original.postings.values_list("account_id", "amount"):
        remaining[account_id] = remaining.get(account_id, ZERO) + amount
    reversal_rows = original.reversals.values_list("postings__account_id", "postings__amount")
    for account_id, amount in reversal_rows:
        if account_id in remaining:
            remaining[account_id] += amount
    return remaining


def _post(
    *,
    kind: str,
    legs: list[Leg] | None,
    fingerprint: str,
    idempotency_key: str,
    scope: str,
    actor: AbstractBaseUser | None,
    memo: str,
    metadata: dict[str, Any],
    reverses: Entry | None,
    reference: str = "",
    build_legs: Callable[[], Sequence[Leg]] | None = None,
) -> Entry:
    """The one transaction behind post() and reverse(). ``legs`` are checked already; ``build_legs`` (for a
    reversal) chooses them after the key is claimed, under the original entry's lock.
    """
    _check_key(idempotency_key, scope)
    if len(reference) > 64:
        raise InvalidRequest("An entry's external reference is at most 64 characters.")
    entry = Entry(
        id=uuid7(),
        kind=kind,
        memo=memo,
        metadata=metadata,
        actor_id=getattr(actor, "pk", None),
        reverses_id=reverses.pk if reverses else None,
        reference=reference,
    )
    if connection.vendor == "postgresql":
        if legs is not None:  # one database call, in the caller's transaction or as its own
            return _post_in_database(entry, legs, scope, idempotency_key, fingerprint)
        with transaction.atomic():
            claimed, _ = _claim_and_lock(scope, idempotency_key, fingerprint, entry.id, None)
            if not claimed:
                return _replay(scope, idempotency_key, fingerprint)
            return _post_in_database(entry, _checked_legs(build_legs()), None, None, None)
    with transaction.atomic():
        if legs is not None:  # known up front: claim the key and lock the balances in one round trip
            claimed, rows = _claim_and_lock(scope, idempotency_key, fingerprint, entry.id, legs)
        else:
            claimed, _ = _claim_and_lock(scope, idempotency_key, fingerprint, entry.id, None)
        if not claimed:
            return _replay(scope, idempotency_key, fingerprint)
        if legs is None:
            legs = _checked_legs(build_legs())
            _, rows = _claim_and_lock(None, None, None, None, legs)
        new_balances = _check_floors(legs, rows)
        entry.created_at = _stamp(list(new_balances))
        entry.business_day = business_day_of(entry.created_at)
        _write(entry, legs, new_balances)
        return _stored(entry, new_balances)


def _stored(entry: Entry, new_balances: dict[int, Decimal]) -> Entry:
    """Mark a freshly written entry as saved, with the new cached balances of the accounts it moved."""
    entry._state.adding, entry._state.db = False, connection.alias  # it is stored: never INSERT it again
    entry.replayed = False
    entry.balances_after = new_balances
    return entry


def _post_in_database(
    entry: Entry, legs: Sequence[Leg], scope: str | None, key: str | None, fingerprint: str | None
) -> Entry:
    """PostgreSQL: lock, check, claim and write in one call of ``ledger_post`` (ledger/post_function.py)."""
    params = [
        scope,
        key,
        fingerprint,
        entry.id,
        entry.kind,
        entry.memo,
        Entry._meta.get_field("metadata").get_db_prep_save(entry.metadata, connection),
        entry.actor_id,
        entry.reverses_id,
        entry.reference,
        timezone.now(),
        settings.TIME_ZONE,
        CURRENCY,
        [leg.account.pk for leg in legs],
        [leg.amount for leg in legs],
    ]
    with connection.cursor() as cursor:
        cursor.execute(post_function.CALL_SQL, params)
        (outcome, stamped, ids, balances, code, owner_kind, current, floor, needed, stored_fp, stored_id) = (
            cursor.fetchone()
        )
    if outcome == "posted":
        entry.created_at = stamped
        entry.business_day = business_day_of(stamped)
        return _stored(entry, {pk: from_db(balance) for pk, balance in zip(ids, balances, strict=True)})
    if outcome == "replay":
        return _replayed(stored_fp, stored_id, fingerprint, key)
    raise _refusal(code, owner_kind, from_db(current), from_db(floor), from_db(needed), active=outcome != "inactive")


# --- the steps of a post --------------------------------------------------------------------------


def _entry_kind(kind: EntryKind | str) -> str:
    try:
        return EntryKind(kind).value
    except ValueError:
        raise InvalidRequest(f"Unknown entry kind {kind!r}.") from None


def _checked_legs(legs: Sequence[Leg]) -> list[Leg]:
    """Refuse legs that could not make a valid entry, before anything touches the database."""
    legs = list(legs)
    if len(legs) < 2:
        raise InvalidRequest("An entry needs at least two legs.")
    seen: set[int] = set()
    total = ZERO
    for leg in legs:
        if leg.account.pk is None:
            raise InvalidRequest("Every leg needs a saved account.")
        if leg.account.pk in seen:
            raise InvalidRequest(f"Account {leg.account.code} appears twice in one entry; combine the legs.")
        seen.add(leg.account.pk)
        if leg.account.currency != CURRENCY:
            raise InvalidAmount(f"Account {leg.account.code} is not an {CURRENCY} account.")
        if isinstance(leg.amount, float) or not isinstance(leg.amount, Decimal) or not is_exact(leg.amount):
            raise InvalidAmount(f"Leg amount {leg.amount!r} must be a Decimal with at most 3 decimal places.")
        if leg.amount == 0:
            raise InvalidAmount(f"Leg on {leg.account.code} has a zero amount.")
        total += leg.amount
    if total != 0:
        raise InvalidAmount(f"Legs do not balance: they sum to {format_amount(total)}, not zero.")
    return legs


def request_fingerprint(*parts: Any) -> str:
    """A stable digest of what a caller asked for, to tell a retry from a different request."""
    return _fingerprint(*parts)


def key_claimed(*, scope: str, key: str) -> bool:
    """Whether ``key`` was claimed in ``scope`` already: a retry, for a caller that must know before it checks
    what the first request changed (the balance a deposit took, the wallet a close closed)."""
    return IdempotencyKey.objects.filter(scope=scope, key=key).exists()


def claim_key(*, scope: str, key: str, fingerprint: str) -> bool:
    """Claim ``key`` for a request that writes no entry (closing an empty wallet), so that a retry is known by
    the same mechanism as a posting's; returns False if it was claimed already."""
    _check_key(key, scope)
    claimed, _rows = _claim_and_lock(scope, key, fingerprint, None, None)
    return claimed


def _fingerprint(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_key(key: str, scope: str) -> None:
    if not isinstance(key, str) or not key:
        raise MissingIdempotencyKey("Every money-moving request needs an idempotency key.")
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(f"An idempotency key is 1 to {MAX_KEY_LENGTH} printable characters.")
    if not scope or len(scope) > 64:
        raise InvalidRequest("An idempotency scope is 1 to 64 characters.")


_CLAIM_SQL = (
    "INSERT INTO ledger_idempotencykey (scope, key, fingerprint, entry_id, created_at) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (scope, key) DO NOTHING RETURNING id"
)


def _lock_sql(count: int) -> str:
    lock = " FOR UPDATE OF b" if connection.features.has_select_for_update else ""
    return (
        "SELECT b.account_id, b.balance, b.floor, b.active, a.kind, a.owner_kind, a.code "
        "FROM ledger_accountbalance b JOIN ledger_account a ON a.id = b.account_id "
        f"WHERE b.account_id IN ({','.join(['%s'] * count)}) ORDER BY b.account_id{lock}"
    )


def _claim_and_lock(
    scope: str | None, key: str | None, fingerprint: str | None, entry_id: Any, legs: Sequence[Leg] | None
) -> tuple[bool, list[tuple]]:
    """Claim the idempotency key (naming the entry about to be written) and lock the cached balances of
    the accounts touched, in id order. A concurrent claimer of the same key waits on the unique index
    until we commit, then finds it taken.

    On PostgreSQL both statements go in one round trip. Which accounts cache a balance (and their kind
    and owner) is read from the database under the lock, never trusted from the caller's objects;
    accounts without a balance row (the hot revenue and fee accounts) match no row and are not locked.
    """
    statements, params = [], []
    if scope is not None:
        statements.append(_CLAIM_SQL)
        params += [
            scope,
            key,
            fingerprint,
            Entry._meta.pk.get_db_prep_value(entry_id, connection),
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ]
    ids = sorted({leg.account.pk for leg in legs}) if legs else []
    if ids:
        statements.append(_lock_sql(len(ids)))
    claimed, rows = scope is None, []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) == 2:
            cursor.execute("; ".join(statements), [*params, *ids])
            claimed = cursor.fetchone() is not None
            cursor.cursor.nextset()
            rows = cursor.fetchall()
        else:
            if scope is not None:
                cursor.execute(_CLAIM_SQL, params)
                claimed = cursor.fetchone() is not None
            if ids and claimed:
                cursor.execute(_lock_sql(len(ids)), ids)
                rows = cursor.fetchall()
    return claimed, rows


def _replay(scope: str, key: str, fingerprint: str) -> Entry:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT fingerprint, entry_id FROM ledger_idempotencykey WHERE scope = %s AND key = %s",
            [scope, key],
        )
        stored_fingerprint, entry_id = cursor.fetchone()
    return _replayed(stored_fingerprint, entry_id, fingerprint, key)


def _replayed(stored_fingerprint: str, entry_id: Any, fingerprint: str | None, key: str | None) -> Entry:
    """The entry a key already names, if this is the same request; else a conflict."""
    if stored_fingerprint != fingerprint:
        raise IdempotencyConflict(f"Idempotency key {key!r} was already used for a different request; use a new key.")
    entry = Entry.objects.get(pk=Entry._meta.pk.to_python(entry_id))
    entry.replayed = True
    return entry


def _check_floors(legs: Sequence[Leg], rows: list[tuple]) -> dict[int, Decimal]:
    """The new balances of the locked accounts, or a refusal if one would go below its floor."""
    by_id = {leg.account.pk: leg for leg in legs}
    new_balances: dict[int, Decimal] = {}
    for account_id, raw_balance, raw_floor, active, kind, owner_kind, code in rows:
        current, floor = from_db(raw_balance), from_db(raw_floor)
        after = (current + NORMAL_SIGN[AccountKind(kind)] * by_id[account_id].amount).quantize(ZERO)
        if not active or (floor is not None and after < floor and after < current):
            raise _refusal(code, owner_kind, current, floor, current - after, active=active)
        new_balances[account_id] = after
    return new_balances


def _refusal(
    code: str, owner_kind: str, current: Decimal, floor: Decimal | None, needed: Decimal, *, active: bool
) -> Exception:
    """Why a post was refused, the same words whichever backend found it."""
    if not active:
        return AccountInactive(f"Account {code} is blocked: it takes no debits and no credits.")
    error = InsufficientFunds if owner_kind == OwnerKind.WALLET else LimitExceeded
    return error(
        f"Account {code} holds {format_amount(current)}; this needs {format_amount(needed)} and may not take it "
        f"below {format_amount(floor)}.",
        available=format_amount(current - floor),
    )


def _stamp(tracked_ids: list[int]) -> dt.datetime:
    """The entry's time: now, or just past the last posting of a locked account if that is later.

    Taken under the locks, so per tracked account time order is the order its balance changed, even if
    the clock stepped back (the same rule as ``ledger_post`` on PostgreSQL).
    """
    now = timezone.now()
    for account_id in tracked_ids:
        last = (
            Posting.objects.filter(account_id=account_id)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and last >= now:
            now = last + dt.timedelta(microseconds=1)
    return now


def _write(entry: Entry, legs: Sequence[Leg], new_balances: dict[int, Decimal]) -> None:
    """Insert the entry and postings and update the locked balances (the key already names the entry).

    On PostgreSQL this is one statement (data-modifying CTEs): one round trip instead of three, which is
    most of the difference between the ORM and plain SQL in bench/RESULTS.md.
    """
    ops = connection.ops
    entry_id = Entry._meta.pk.get_db_prep_value(entry.id, connection)
    when = ops.adapt_datetimefield_value(entry.created_at)
    posting_rows = [
        (
            entry_id,
            leg.account.pk,
            _db_amount(leg.amount),
            CURRENCY,
            _db_amount(new_balances.get(leg.account.pk)),
            when,
        )
        for leg in legs
    ]
    entry_params = [
        entry_id,
        entry.kind,
        when,
        ops.adapt_datefield_value(entry.business_day),
        entry.memo,
        Entry._meta.get_field("metadata").get_db_prep_save(entry.metadata, connection),
        entry.actor_id,
        Entry._meta.pk.get_db_prep_value(entry.reverses_id, connection),
        entry.reference,
    ]
    insert_entry = (
        "INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata, actor_id, reverses_id, "
        "reference) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    insert_postings = (
        "INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, balance_after, created_at) "
        "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(posting_rows))
    )
    posting_params = [value for row in posting_rows for value in row]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            parts, params = [f"e AS ({insert_entry})"], [*entry_params]
            if new_balances:
                values = ", ".join(["(%s::bigint, %s::numeric)"] * len(new_balances))
                parts.append(
                    "b AS (UPDATE ledger_accountbalance AS ab SET balance = v.balance, updated_at = %s "
                    f"FROM (VALUES {values}) AS v(account_id, balance) WHERE ab.account_id = v.account_id)"
                )
                params += [
                    when,
                    *[x for account_id, after in new_balances.items() for x in (account_id, _db_amount(after))],
                ]
            cursor.execute("WITH " + ", ".join(parts) + " " + insert_postings, [*params, *posting_params])
            return
        cursor.execute(insert_entry, entry_params)
        cursor.execute(insert_postings, posting_params)
        cursor.executemany(
            "UPDATE ledger_accountbalance SET balance = %s, updated_at = %s WHERE account_id = %s",
            [(_db_amount(after), when, account_id) for account_id, after in new_balances.items()],
        )


def _db_amount(amount: Decimal | None) -> Any:
    return connection.ops.adapt_decimalfield_value(amount, 18, 3)
