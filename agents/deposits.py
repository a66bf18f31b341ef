"""An internal office banks the cash in its drawer: drawer -> bank clearing, until the bank's statement shows it.

design.md §4: "office cash deposit: bank clearing -> office cash drawer". Finance records the deposit from the
bank's slip (amount and the slip's reference); the drawer no longer holds that cash, bank clearing does. The
nightly reconciliation matches the bank's credit carrying the slip's reference to this entry and settles it
(bank -> bank clearing); a deposit the bank never shows is flagged as missing from the statement.

External agents bank nothing here: their cash is their own, and they replenish their float at the bank
(``settlements.floats``).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from erial.errors import Forbidden, InsufficientFunds, InvalidAmount, InvalidRequest
from erial.money import format_amount, is_exact
from erial.roles import Role, has_role
from ledger import services as ledger
from ledger.chart import SystemAccount
from ledger.models import Entry, EntryKind
from ledger.payments import system_account
from ledger.selectors import balance

from .models import Office

SLIP_MAX = 64


def record_cash_deposit(
    *, office: Office, amount: Decimal, slip_reference: str, actor: AbstractBaseUser, idempotency_key: str
) -> Entry:
    """Finance records cash an internal office paid into the bank: one entry, drawer -> bank clearing.

    Refused, writing nothing: anyone but finance, an external agent, an amount that is not positive in whole
    baisa or more than the drawer holds, and a deposit without the bank slip's reference (the reconciliation
    finds the bank's credit by it). The same key again returns the same entry.
    """
    if not has_role(actor, Role.FINANCE):
        raise Forbidden("Only finance records an office's cash deposit.")
    if office.is_external:
        raise InvalidRequest(
            f"Office {office.code} is an external agent: its cash is its own (it replenishes its float at the bank).",
            field="office",
        )
    if not isinstance(amount, Decimal) or not is_exact(amount) or amount <= 0:
        raise InvalidAmount("The deposit must be a positive amount with at most 3 decimal places.", field="amount")
    slip = (slip_reference or "").strip()
    if not slip or len(slip) > SLIP_MAX or not (slip.isascii() and slip.isprintable()):
        raise InvalidRequest(
            f"Give the bank slip's reference (1 to {SLIP_MAX} printable characters): the bank's statement names "
            "the deposit by it.",
            field="slip_reference",
        )
    with transaction.atomic():
        locked = Office.objects.select_for_update().select_related("cash_account").get(pk=office.pk)  # one at a time
        scope = f"deposit:{locked.code}"
        retried = ledger.key_claimed(scope=scope, key=idempotency_key)
        held = balance(locked.cash_account)
        if amount > held and not retried:  # a retry is answered by post(): the same entry, or a conflict
            raise InsufficientFunds(
                f"The drawer of {locked.code} holds {format_amount(held)} OMR: a deposit of {format_amount(amount)} "
                "OMR is more than it.",
                field="amount",
            )
        return ledger.post(
            kind=EntryKind.CASH_DEPOSIT,
            legs=[
                ledger.Leg(system_account(SystemAccount.BANK_CLEARING), amount),
                ledger.Leg(locked.cash_account, -amount),
            ],
            idempotency_key=idempotency_key,
            scope=scope,
            actor=actor,
            reference=slip,
            memo=f"Cash banked by {locked.code}, slip {slip}"[:255],
            metadata={"office": locked.code, "slip_reference": slip},
        )
