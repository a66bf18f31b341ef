"""Every write of the agent network: offices and their lifecycle, cashiers, sessions, cash top-ups, voids.

Cash top-ups go through ``ledger.services.post``; limits that depend on running totals are checked
after the post, inside the same transaction, while the ledger holds the float (or drawer) and wallet
balance rows locked: concurrent top-ups therefore see each other, and a refused one leaves nothing.
The office's day total is a row (``OfficeDayTotal``) kept by every top-up and void, not a SUM, and all
that needs no lock (status, limits, commission) is read before the transaction, so the lock is short.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Round
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from erial.errors import (
    AgentInactive,
    AlreadyExists,
    Forbidden,
    InsufficientFunds,
    InvalidAmount,
    InvalidRequest,
    InvalidTransition,
    LimitExceeded,
    SessionAlreadyOpen,
    SessionClosed,
)
from erial.money import format_amount, from_db, is_exact, quantize
from erial.roles import Role, grant, has_role
from ledger import services as ledger
from ledger.businessday import business_day_of, day_bounds
from ledger.chart import SystemAccount
from ledger.models import AccountKind, Entry, EntryKind, IdempotencyKey, OwnerKind, Wallet
from ledger.payments import system_account
from ledger.receipts import (
    INSERT_ATTEMPTS,
    NoFreeReceiptNumber,
    insert_with_fresh_receipt,
    new_receipt_number,
    receipt_insert_sql,
)
from ledger.selectors import balance

from . import selectors
from .models import (
    Cashier,
    CashierSession,
    CashTopup,
    CommissionKind,
    Limit,
    LimitKind,
    Office,
    OfficeDayTotal,
    OfficeKind,
    OfficeStatus,
    SessionStatus,
)
from .selectors import CommissionTerms, Terms

ZERO = Decimal("0.000")


def _positive(amount: Decimal, what: str) -> Decimal:
    if not isinstance(amount, Decimal) or not is_exact(amount) or amount <= 0:
        raise InvalidAmount(f"{what} must be a positive amount with at most 3 decimal places.")
    return amount


def _not_negative(amount: Decimal, what: str) -> Decimal:
    if not isinstance(amount, Decimal) or not is_exact(amount) or amount < 0:
        raise InvalidAmount(f"{what} must be zero or more, with at most 3 decimal places.")
    return amount


# --- offices --------------------------------------------------------------------------------------


def create_office(
    *,
    code: str,
    name_en: str,
    name_ar: str,
    kind: OfficeKind | str,
    actor: AbstractBaseUser | None,
    wilayat: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    credit_limit: Decimal | None = None,
    daily_limit: Decimal | None = None,
) -> Office:
    """Register an office (status onboarding) with its ledger accounts: a cash drawer for an internal
    office; a float (floored at minus the credit limit) and a commission payable for an external agent.
    """
    code = (code or "").strip()
    if not code or len(code) > 20 or not code.replace("-", "").replace("_", "").isalnum() or not code.isascii():
        raise InvalidRequest("An office code is 1 to 20 letters, digits, - or _.", field="code")
    if not (name_en or "").strip() or not (name_ar or "").strip():
        raise InvalidRequest("An office needs its name in English and in Arabic.", field="name_en")
    if kind not in OfficeKind.values:
        raise InvalidRequest(f"kind must be one of {', '.join(OfficeKind.values)}.", field="kind")
    if credit_limit is not None:
        _not_negative(credit_limit, "The credit limit")
        if kind == OfficeKind.INTERNAL and credit_limit:
            raise InvalidRequest("Internal offices hold cash; only external agents have a credit limit.")
    if daily_limit is not None:
        _positive(daily_limit, "The daily limit")
    with transaction.atomic():
        if Office.objects.filter(code=code).exists():
            raise AlreadyExists(f"Office {code} already exists.")
        if kind == OfficeKind.INTERNAL:
            cash = ledger.open_account(
                code=f"CASH-{code}",
                name=f"Cash drawer · {name_en}",
                kind=AccountKind.ASSET,
                owner_kind=OwnerKind.OFFICE,
                owner_ref=code,
                tracks_balance=True,
            )
            commission = None
        else:
            cash = ledger.open_account(
                code=f"FLOAT-{code}",
                name=f"Agent float · {name_en}",
                kind=AccountKind.LIABILITY,
                owner_kind=OwnerKind.OFFICE,
                owner_ref=code,
                tracks_balance=True,
                floor=-(credit_limit or ZERO),
            )
            commission = ledger.open_account(
                code=f"COMM-{code}",
                name=f"Commission payable · {name_en}",
                kind=AccountKind.LIABILITY,
                owner_kind=OwnerKind.OFFICE,
                owner_ref=code,
                tracks_balance=True,
            )
        office = Office(
            code=code,
            name_en=name_en.strip(),
            name_ar=name_ar.strip(),
            kind=kind,
            wilayat=wilayat,
            contact_name=contact_name,
            contact_phone=contact_phone,
            cash_account=cash,
            commission_account=commission,
        )
        office._history_user = actor
        office.save()
        if daily_limit is not None:
            Limit.objects.create(
                kind=LimitKind.OFFICE_DAILY,
                amount=daily_limit,
                office=office,
                effective_from=timezone.now(),
                note="Set when the office was created",
            )
    return office


def _office_transition(office: Office, action: str, *, actor: AbstractBaseUser | None, reason: str) -> Office:
    with transaction.atomic():
        locked = (
            Office.objects.select_for_update(of=("self",))
            .select_related("cash_account", "commission_account")
            .get(pk=office.pk)
        )
        if action == "terminate":
            _check_settled(locked)
        try:
            getattr(locked, action)()
        except TransitionNotAllowed:
            raise InvalidTransition(f"Office {locked.code} is {locked.status}: it cannot be {action}d.") from None
        locked._history_user = actor
        locked._change_reason = (reason or action)[:100]
        locked.save()
    return locked


def _check_settled(office: Office) -> None:
    """Termination only when the office owes nothing and is owed nothing."""
    owed = {"float" if office.is_external else "cash drawer": balance(office.cash_account)}
    if office.commission_account:
        owed["commission payable"] = balance(office.commission_account)
    open_sessions = office.sessions.filter(status=SessionStatus.OPEN).count()
    problems = [f"{name} holds {format_amount(amount)}" for name, amount in owed.items() if amount]
    if open_sessions:
        problems.append(f"{open_sessions} cashier session(s) still open")
    if problems:
        raise InvalidTransition(f"Office {office.code} cannot be terminated: {'; '.join(problems)}.")


def activate_office(*, office: Office, actor: AbstractBaseUser | None, reason: str = "Onboarding complete") -> Office:
    return _office_transition(office, "activate", actor=actor, reason=reason)


def suspend_office(*, office: Office, actor: AbstractBaseUser | None, reason: str) -> Office:
    """Refuse the office's new transactions at once (``agent_inactive``); its history stays."""
    return _office_transition(office, "suspend", actor=actor, reason=reason)


def reinstate_office(*, office: Office, actor: AbstractBaseUser | None, reason: str) -> Office:
    return _office_transition(office, "reinstate", actor=actor, reason=reason)


def terminate_office(*, office: Office, actor: AbstractBaseUser | None, reason: str) -> Office:
    return _office_transition(office, "terminate", actor=actor, reason=reason)


def set_credit_limit(*, office: Office, credit_limit: Decimal) -> Office:
    """An external agent's credit on top of its float (refused below what the agent already uses)."""
    if not office.is_external:
        raise InvalidRequest("Only external agents have a credit limit.")
    ledger.set_floor(account=office.cash_account, floor=-_not_negative(credit_limit, "The credit limit"))
    return office


def add_cashier(*, office: Office, user: AbstractBaseUser, supervisor: bool = False) -> Cashier:
    """Attach a user to one office as its cashier (an agent acts only for its own office)."""
    existing = Cashier.objects.filter(user=user).select_related("office").first()
    if existing and existing.office_id != office.pk:
        raise AlreadyExists(f"{user} is already a cashier of office {existing.office.code}.")
    cashier, _ = Cashier.objects.update_or_create(user=user, defaults={"office": office, "is_supervisor": supervisor})
    grant(user, Role.AGENT)
    return cashier


def enrol_cashier(
    *, office: Office, username: str, password: str, full_name: str = "", supervisor: bool = False
) -> Cashier:
    """A new login for a new cashier of ``office``, in one step (the back office's "add cashier").

    The password must pass the site's password rules; the login gets the agent role and nothing else (no
    back-office access). A terminated office takes no new cashiers.
    """
    username, first, last = check_new_cashier(office=office, username=username, password=password, full_name=full_name)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username, password=password, first_name=first, last_name=last)
            return add_cashier(office=office, user=user, supervisor=supervisor)
    except IntegrityError:  # the same name, created by someone else since the check
        raise AlreadyExists(f"The username {username} is taken.", field="username") from None


def set_cashier_login(*, cashier: Cashier, active: bool) -> Cashier:
    """Disable a cashier's login (they left, or their password got out) or enable it again. Their sessions and
    top-ups keep naming them: a cashier is never deleted. A cashier with an open session keeps the login until
    the session is closed, so the drawer is counted before the person goes."""
    user = cashier.user
    if not active:
        refuse_disabling_with_open_session(user)
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    return cashier


def refuse_disabling_with_open_session(user: AbstractBaseUser) -> None:
    """A login with an open cashier session stays active until the session is closed and the drawer counted,
    whichever page would disable it (the cashier list's action, or Django's own user page)."""
    if CashierSession.objects.filter(cashier__user=user, status=SessionStatus.OPEN).exists():
        raise InvalidRequest(f"{user.get_username()} has an open session: close it (count the cash) first.")


def check_new_cashier(*, office: Office, username: str, password: str, full_name: str = "") -> tuple[str, str, str]:
    """Refuse what ``enrol_cashier`` would refuse, writing nothing (a form checks before it saves).

    Returns the username, first and last name as they will be stored.
    """
    users = get_user_model()
    username = users.normalize_username((username or "").strip())  # as create_user will store it (NFKC)
    if office.status == OfficeStatus.TERMINATED:
        raise InvalidRequest(f"Office {office.code} is terminated: it takes no new cashiers.", field="office")
    if not username:
        raise InvalidRequest("Give the cashier a username.", field="username")
    try:
        users._meta.get_field(users.USERNAME_FIELD).run_validators(username)  # letters, digits and @.+-_ only
    except ValidationError as invalid:
        raise InvalidRequest(" ".join(invalid.messages), field="username") from None
    if users.objects.filter(username__iexact=username).exists():
        raise AlreadyExists(f"The username {username} is taken.", field="username")
    first, _, last = (full_name or "").strip().partition(" ")
    first, last = first[:150], last.strip()[:150]
    try:
        validate_password(password, users(username=username, first_name=first, last_name=last))
    except ValidationError as invalid:
        raise InvalidRequest(" ".join(invalid.messages), field="password") from None
    return username, first, last


def record_float_deposit(
    *, office: Office, amount: Decimal, actor: AbstractBaseUser, idempotency_key: str, bank_reference: str
):
    """Finance records an agent's bank deposit that replenishes its float (bank -> agent float).

    Reconciliation later matches it to the bank statement line with the same reference.
    """
    if not office.is_external:
        raise InvalidRequest("Only external agents prefund a float.")
    amount = _positive(amount, "The deposit")
    if not (bank_reference or "").strip():
        raise InvalidRequest("Give the bank's reference of the deposit.", field="bank_reference")
    return ledger.post(
        kind=EntryKind.FLOAT_DEPOSIT,
        legs=[ledger.Leg(system_account(SystemAccount.BANK), amount), ledger.Leg(office.cash_account, -amount)],
        idempotency_key=idempotency_key,
        scope=f"float:{office.code}",
        actor=actor,
        memo=f"Float deposit {bank_reference.strip()}"[:255],
        reference=bank_reference.strip()[:64],
        metadata={"office": office.code, "bank_reference": bank_reference.strip()},
    )


# --- limits and commission ------------------------------------------------------------------------


def commission_for(rule: CommissionTerms | None, amount: Decimal) -> Decimal:
    """An external agent's commission on a top-up: flat or percentage, within the rule's min and max."""
    if rule is None:
        return ZERO
    value = rule.rate if rule.kind == CommissionKind.FLAT else quantize(amount * rule.rate / 100)
    value = max(value, rule.minimum)
    if rule.maximum is not None:
        value = min(value, rule.maximum)
    return value


def _refuse_over(kind: LimitKind, limit: Decimal | None, used: Decimal, asked: Decimal, what: str) -> None:
    if limit is not None and used + asked > limit:
        left = max(limit - used, ZERO)
        raise LimitExceeded(
            f"{what}: the limit is {format_amount(limit)} OMR and {format_amount(left)} OMR is left.",
            limit=kind.value,
            limit_amount=format_amount(limit),
            remaining=format_amount(left),
        )


_DAY_TOTALS, _TOPUPS = OfficeDayTotal._meta.db_table, CashTopup._meta.db_table
# ROUND keeps SQLite (which adds NUMERIC as binary floats) on whole baisa; on PostgreSQL it changes nothing.
_ADD_TO_OFFICE_DAY_SQL = (
    f"INSERT INTO {_DAY_TOTALS} (office_id, business_day, amount) VALUES (%s, %s, %s) "
    f"ON CONFLICT (office_id, business_day) DO UPDATE SET amount = ROUND({_DAY_TOTALS}.amount + excluded.amount, 3) "
    "RETURNING amount"
)
# The wallet's cash top-ups that business day, at any office, not voided (index agents_topup_wallet_time).
_WALLET_DAY_SQL = (
    f", (SELECT COALESCE(SUM(t.amount), 0) FROM {_TOPUPS} t WHERE t.wallet_id = %s AND t.created_at >= %s "
    "AND t.created_at < %s AND t.void_entry_id IS NULL)"
)


def _running_totals(office: Office, wallet: Wallet | None, day: dt.date, amount: Decimal) -> tuple[Decimal, Decimal]:
    """Add a top-up to the office's day total; return the new total and, when ``wallet`` is given, the
    wallet's cash top-ups that day before this one (else zero). One statement on both databases.
    """
    ops = connection.ops
    sql = _ADD_TO_OFFICE_DAY_SQL
    params = [office.pk, ops.adapt_datefield_value(day), ops.adapt_decimalfield_value(amount, 18, 3)]
    if wallet is not None:
        sql += _WALLET_DAY_SQL
        params += [wallet.pk, *(ops.adapt_datetimefield_value(bound) for bound in day_bounds(day))]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return from_db(row[0]), from_db(row[1]) if wallet is not None else ZERO


def _insert_with_totals(
    topup: CashTopup, wallet: Wallet | None, day: dt.date, amount: Decimal
) -> tuple[Decimal, Decimal]:
    """PostgreSQL: add the top-up to the office's day total and insert its row in one statement; return the
    new office total and, when ``wallet`` is given, the wallet's top-ups that day before this one (the
    statement's snapshot does not see its own row). A receipt number already taken raises ``_ReceiptTaken``
    (the caller books the whole top-up again)."""
    insert_sql, fields = receipt_insert_sql(CashTopup)
    ops = connection.ops
    topup.receipt_number = new_receipt_number()
    day_params = [topup.office_id, ops.adapt_datefield_value(day), ops.adapt_decimalfield_value(amount, 18, 3)]
    wallet_sum, wallet_params = "0", []
    if wallet is not None:
        wallet_sum = _WALLET_DAY_SQL.removeprefix(", ")
        wallet_params = [wallet.pk, *(ops.adapt_datetimefield_value(bound) for bound in day_bounds(day))]
    sql = (
        f"WITH day AS ({_ADD_TO_OFFICE_DAY_SQL}) "
        + insert_sql.removesuffix(" RETURNING 1")
        + f" RETURNING (SELECT amount FROM day), {wallet_sum}"
    )
    row_params = [f.get_db_prep_save(f.pre_save(topup, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*day_params, *row_params, *wallet_params])
        row = cursor.fetchone()
    if row is None:
        raise _ReceiptTaken
    topup._state.adding, topup._state.db = False, connection.alias
    return from_db(row[0]), from_db(row[1])


def _check_running_totals(
    *,
    entry: Entry,
    office: Office,
    wallet: Wallet,
    amount: Decimal,
    terms: Terms,
    totals: tuple[Decimal, Decimal] | None = None,
) -> None:
    """The limits on running totals, checked after post() with the float (or drawer) and the wallet locked,
    so concurrent top-ups see each other. The wallet's day is summed only when its limit is in force; the
    office's day total is always kept, so a limit set later in the day counts the top-ups before it.
    """
    wallet_daily = terms.limit(LimitKind.WALLET_DAILY)
    if totals is None:
        totals = _running_totals(office, wallet if wallet_daily is not None else None, entry.business_day, amount)
    office_total, wallet_total = totals
    _refuse_over(
        LimitKind.OFFICE_DAILY,
        terms.limit(LimitKind.OFFICE_DAILY),
        office_total - amount,
        amount,
        f"Cash top-ups at {office.code} today",
    )
    _refuse_over(LimitKind.WALLET_DAILY, wallet_daily, wallet_total, amount, f"Cash top-ups into {wallet.number} today")
    limit = terms.limit(LimitKind.WALLET_MAX_BALANCE)
    if limit is not None:
        after = entry.balances_after[wallet.account.pk]  # the wallet's balance as post() left it, locked
        _refuse_over(LimitKind.WALLET_MAX_BALANCE, limit, after - amount, amount, f"The balance of {wallet.number}")


# --- sessions and top-ups -------------------------------------------------------------------------


def refuse_if_office_inactive(actor: AbstractBaseUser) -> None:
    """A cashier of an office that is not active acts for nobody (``agent_inactive``): not a top-up, not an
    account opened, not a portal code issued. Logins that are no cashier are not concerned, and neither is an
    admin who is also some office's cashier: an admin acts for the municipality, not for that office."""
    if has_role(actor, Role.ADMIN):
        return
    office = Office.objects.filter(cashiers__user=actor).only("code", "status").first()
    if office is not None:
        _refuse_unless_active(office, office.status)


def _require_active(office: Office) -> None:
    status = Office.objects.values_list("status", flat=True).get(pk=office.pk)
    _refuse_unless_active(office, status)


def _refuse_unless_active(office: Office, status: str) -> None:
    if status != OfficeStatus.ACTIVE:
        raise AgentInactive(f"Office {office.code} is {status}: it cannot take transactions.")


def open_session(*, cashier: Cashier, opening_cash: Decimal) -> CashierSession:
    """Start a shift. One open session per cashier; a previous day's unclosed session must be closed first."""
    opening_cash = _not_negative(opening_cash, "Opening cash")
    office = cashier.office
    _require_active(office)
    with transaction.atomic():
        Cashier.objects.select_for_update().get(pk=cashier.pk)  # one opening at a time per cashier
        current = CashierSession.objects.filter(cashier=cashier, status=SessionStatus.OPEN).first()
        if current:
            when = "today" if current.business_day == business_day_of(timezone.now()) else f"on {current.business_day}"
            raise SessionAlreadyOpen(
                f"Session {current.id} opened {when} is still open: close it before opening another.",
                session=str(current.id),
            )
        now = timezone.now()
        return CashierSession.objects.create(
            cashier=cashier, office=office, business_day=business_day_of(now), opened_at=now, opening_cash=opening_cash
        )


def _check_session(session: CashierSession, actor: AbstractBaseUser) -> None:
    """The actor's own session, open, of today (the office's status is checked separately)."""
    if session.cashier.user_id != actor.pk:
        raise Forbidden("Only the cashier who opened a session may use it.")
    if session.status != SessionStatus.OPEN:
        raise SessionClosed(f"Session {session.id} is closed: open a new one.")
    if session.business_day != business_day_of(timezone.now()):
        raise SessionClosed(f"Session {session.id} is from {session.business_day}: close it and open today's.")


def _usable_session(session: CashierSession, actor: AbstractBaseUser) -> CashierSession:
    _check_session(session, actor)
    _require_active(session.office)
    return session


def _stored_topup(scope: str, idempotency_key: str) -> CashTopup | None:
    """The top-up an idempotency key already booked, marked as a replay, or None."""
    topup = (
        CashTopup.objects.select_related("wallet", "office")
        .filter(entry_id__in=IdempotencyKey.objects.filter(scope=scope, key=idempotency_key).values("entry_id"))
        .first()
    )
    if topup is not None:
        topup.replayed = True
    return topup


def record_cash_topup(
    *,
    session: CashierSession,
    wallet: Wallet,
    amount: Decimal,
    actor: AbstractBaseUser,
    idempotency_key: str,
    scope: str,
) -> CashTopup:
    """Cash paid in at the counter, credited to a wallet: drawer or float -> wallet, plus the agent's
    commission (commission expense -> agent payable). Idempotent end to end: a retry tops up once.

    One query reads the office's status, the limits and the commission rule in force, and holds the session
    open (FOR SHARE) before any ledger lock is taken: a close, which locks the session, waits for the
    top-ups in flight, and a top-up after it finds the session closed; session before drawer is the order
    close and void take them too, so none deadlocks. Under the ledger's lock of the float (or drawer) and the
    wallet come only the post, the running totals the limits need and the top-up's row.
    """
    amount = _positive(amount, "The top-up")
    try:
        _check_session(session, actor)
    except SessionClosed as closed:
        return _replay_or_refuse(closed, scope, idempotency_key)
    fingerprint = ledger.request_fingerprint("cash_topup", str(session.pk), wallet.number, format_amount(amount))
    for _ in range(INSERT_ATTEMPTS):
        try:
            with transaction.atomic():
                return _book_topup(session, wallet, amount, actor, idempotency_key, scope, fingerprint)
        except _ReceiptTaken:  # rolled back whole (key, entry, totals): book it again with a new number
            continue
    raise NoFreeReceiptNumber()


def _replay_or_refuse(closed: SessionClosed, scope: str, idempotency_key: str) -> CashTopup:
    """A closed session takes no new top-up, but the retry of one booked before the close gets its answer."""
    stored = _stored_topup(scope, idempotency_key)
    if stored is None:
        raise closed
    return stored


class _ReceiptTaken(Exception):
    """The drawn receipt number belongs to another top-up (PostgreSQL's one-statement path)."""


def _book_topup(
    session: CashierSession,
    wallet: Wallet,
    amount: Decimal,
    actor: AbstractBaseUser,
    idempotency_key: str,
    scope: str,
    fingerprint: str,
) -> CashTopup:
    """The transaction of ``record_cash_topup``: terms and the session's hold, the post, the running totals
    and the top-up's row (on PostgreSQL the last two in one statement)."""
    office = session.office
    terms = selectors.terms_in_force(office, timezone.now(), session=session)
    if terms.session_status != SessionStatus.OPEN:  # closed since the check above
        return _replay_or_refuse(
            SessionClosed(f"Session {session.id} is closed: open a new one."), scope, idempotency_key
        )
    _refuse_unless_active(office, terms.office_status)
    _refuse_over(LimitKind.PER_TRANSACTION, terms.limit(LimitKind.PER_TRANSACTION), ZERO, amount, "Per top-up")
    commission = commission_for(terms.commission, amount) if office.is_external else ZERO
    legs = [ledger.Leg(office.cash_account, amount), ledger.Leg(wallet.account, -amount)]
    if commission:
        legs += [
            ledger.Leg(system_account(SystemAccount.COMMISSION_EXPENSE), commission),
            ledger.Leg(office.commission_account, -commission),
        ]
    try:
        entry = ledger.post(
            kind=EntryKind.CASH_TOPUP,
            legs=legs,
            idempotency_key=idempotency_key,
            scope=scope,
            actor=actor,
            memo=f"Cash top-up at {office.code}",
            request_fingerprint=fingerprint,
            metadata={"office": office.code, "session": str(session.pk), "wallet": wallet.number},
        )
    except LimitExceeded as refused:  # the float's floor is the agent's credit limit
        raise LimitExceeded(
            f"The float of {office.code} (with its credit limit) does not cover this top-up. {refused.detail}",
            limit="float",
            **refused.extra,
        ) from None
    if entry.replayed:
        topup = CashTopup.objects.select_related("wallet", "office").get(entry=entry)
        topup.replayed = True
        return topup
    topup = CashTopup(
        session=session,
        office=office,
        wallet=wallet,
        amount=amount,
        commission=commission,
        entry=entry,
        created_at=entry.created_at,
        created_by=actor,
    )
    if connection.vendor == "postgresql":
        summed = wallet if terms.limit(LimitKind.WALLET_DAILY) is not None else None
        totals = _insert_with_totals(topup, summed, entry.business_day, amount)
        _check_running_totals(entry=entry, office=office, wallet=wallet, amount=amount, terms=terms, totals=totals)
    else:
        _check_running_totals(entry=entry, office=office, wallet=wallet, amount=amount, terms=terms)
        # a taken receipt number is drawn again inside the INSERT (ON CONFLICT: no savepoint round trips)
        insert_with_fresh_receipt(topup, draw=new_receipt_number)
    topup.replayed = False
    return topup


def void_cash_topup(*, topup: CashTopup, actor: AbstractBaseUser, reason: str, idempotency_key: str) -> CashTopup:
    """The cashier takes back a top-up within the session, while the wallet still holds the money; the
    agent's commission is clawed back with it. Otherwise finance moves it to the right wallet
    (``agents.corrections``, maker-checker).
    """
    with transaction.atomic():
        locked = (
            # The top-up and its session only (closing waits for it), and NO KEY: a top-up at this office
            # holds the float and then inserts rows that reference the session and office; locking those
            # rows FOR UPDATE here, before reverse() waits for the float, deadlocked the two.
            CashTopup.objects.select_for_update(of=("self", "session"), no_key=True)
            .select_related("session__cashier", "session__office")
            .get(pk=topup.pk)
        )
        if locked.is_voided:
            locked.replayed = True  # a double click: the top-up is voided, once
            return locked
        _usable_session(locked.session, actor)
        try:
            entry = ledger.reverse(
                entry=locked.entry,
                reason=reason,
                actor=actor,
                idempotency_key=idempotency_key,
                scope=f"void:{locked.office.code}",
            )
        except InsufficientFunds:
            raise InsufficientFunds(
                f"Wallet {locked.wallet.number} no longer holds the {format_amount(locked.amount)} OMR: "
                "the top-up cannot be voided at the counter. Once the session is closed, finance can move it to "
                "the right account (a top-up correction in the back office)."
            ) from None
        locked.void_entry = entry
        locked.voided_at = entry.created_at
        locked.save(update_fields=["void_entry", "voided_at"])
        # The office's day total is what its daily limit reads: the voided cash no longer counts. Updated
        # after reverse() locked the float, the order a top-up takes them in too (no deadlock).
        OfficeDayTotal.objects.filter(office_id=locked.office_id, business_day=locked.entry.business_day).update(
            amount=Round(F("amount") - locked.amount, 3)
        )
    locked.replayed = False
    return locked


def close_session(
    *, session: CashierSession, counted_cash: Decimal, actor: AbstractBaseUser, note: str = ""
) -> CashierSession:
    """Count the drawer and close: expected = opening + top-ups - voids; a difference at an internal office
    is posted to cash over/short and needs a supervisor's note. A closed session never changes.
    """
    counted_cash = _not_negative(counted_cash, "Counted cash")
    with transaction.atomic():
        # The session only: the office row stays free for the top-ups that reference it while holding the
        # drawer this close may post to (locking it too could deadlock with them).
        locked = (
            CashierSession.objects.select_for_update(of=("self",))
            .select_related("cashier", "office")
            .get(pk=session.pk)
        )
        if locked.cashier.user_id != actor.pk:
            raise Forbidden("Only the cashier who opened a session may close it.")
        if locked.status == SessionStatus.CLOSED:
            if locked.counted_cash == counted_cash:
                return locked  # the same close, retried
            raise InvalidTransition(f"Session {locked.id} is already closed.")
        taken = locked.topups.filter(void_entry__isnull=True).aggregate(total=Sum("amount"))["total"] or ZERO
        expected = locked.opening_cash + taken
        difference = counted_cash - expected
        if difference and not (note or "").strip():
            raise InvalidRequest(
                f"The count differs from the expected {format_amount(expected)} OMR by {format_amount(difference)}:"
                " a supervisor's note is required.",
                field="note",
            )
        if difference and locked.office.kind == OfficeKind.INTERNAL:
            over_short = system_account(SystemAccount.CASH_OVER_SHORT)
            drawer = locked.office.cash_account
            locked.over_short_entry = ledger.post(
                kind=EntryKind.ADJUSTMENT,
                legs=[ledger.Leg(drawer, difference), ledger.Leg(over_short, -difference)],
                idempotency_key=f"close:{locked.id}",
                scope="agents.session_close",
                actor=actor,
                memo=f"Cash {'over' if difference > 0 else 'short'} at {locked.office.code}: {note}"[:255],
                metadata={"session": str(locked.id)},
            )
        locked.close()
        locked.closed_at = timezone.now()
        locked.expected_cash, locked.counted_cash, locked.difference = expected, counted_cash, difference
        locked.supervisor_note = (note or "").strip()[:500]
        locked.save()
    return locked
