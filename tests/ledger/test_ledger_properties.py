"""Hypothesis: whatever sequence of posts, reversals, retries and refusals runs, the books hold.

The stateful machine keeps its own model of every wallet's balance; after each step the cached balances
must equal the model, and at the end of each run ``verify()`` must find nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from erial.errors import DomainError, IdempotencyConflict, InsufficientFunds, ReversalExceedsOriginal
from ledger import services
from ledger.models import Entry
from ledger.selectors import balance
from ledger.services import Leg
from ledger.verification import verify
from tests.factories import fee_payment_legs, key, system, wallet

SERVICES = ["lease_renewal", "parking_fine", "parking_permit", "municipal_licence", "building_permit"]
amounts = st.integers(min_value=1, max_value=50_000).map(lambda baisa: Decimal(baisa) / 1000)


class LedgerMachine(RuleBasedStateMachine):
    wallets = Bundle("wallets")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        # Each run is one savepoint, rolled back at teardown: runs never see each other's data.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.expected: dict[int, Decimal] = {}
        self.accounts: dict[int, object] = {}
        self.reversible: list[Entry] = []

    def teardown(self) -> None:
        try:
            report = verify()
            assert report.ok, report.lines()
        finally:
            transaction.set_rollback(True)
            self._atomic.__exit__(None, None, None)

    def _post(self, kind: str, legs: list[Leg], k: str) -> Entry:
        entry = services.post(kind=kind, legs=legs, idempotency_key=k, scope="machine")
        if not entry.replayed:
            for leg in legs:
                if leg.account.pk in self.expected:
                    self.expected[leg.account.pk] -= leg.amount  # wallets are liabilities: credit raises
            self.reversible.append(entry)
        return entry

    @rule(target=wallets)
    def open_wallet(self):
        account = wallet()
        self.expected[account.pk] = Decimal("0.000")
        self.accounts[account.pk] = account
        return account

    @rule(account=wallets, amount=amounts)
    def top_up(self, account, amount):
        self._post("cash_topup", [Leg(system("bank_clearing"), amount), Leg(account, -amount)], key())

    @rule(
        target=requests,
        account=wallets,
        amount=amounts,
        fee=st.sampled_from(["0.100", "0.250"]),
        service=st.sampled_from(SERVICES),
    )
    def pay(self, account, amount, fee, service):
        legs = fee_payment_legs(account, amount, fee, service)
        k = key()
        before = self.expected[account.pk]
        try:
            entry = self._post("fee_payment", legs, k)
        except InsufficientFunds:
            assert before < amount + Decimal(fee)
            return multiple()
        assert before >= amount + Decimal(fee)
        return (k, legs, entry.pk)

    @rule(request=requests)
    def retry_the_same_request(self, request):
        k, legs, entry_id = request
        entry = self._post("fee_payment", legs, k)
        assert entry.replayed and entry.pk == entry_id

    @rule(request=requests, other=amounts)
    def reuse_a_key_for_another_request(self, request, other):
        k, legs, _ = request
        changed = fee_payment_legs(legs[0].account, other + Decimal("50.001"), "0.100")
        try:
            self._post("fee_payment", changed, k)
        except IdempotencyConflict:
            return
        raise AssertionError("a reused key with another request must conflict")

    @precondition(lambda self: self.reversible)
    @rule(data=st.data())
    def reverse_something(self, data):
        entry = data.draw(st.sampled_from(self.reversible))
        try:
            reversal = services.reverse(entry=entry, reason="property test", idempotency_key=key())
        except (ReversalExceedsOriginal, InsufficientFunds):
            return
        for posting in reversal.postings.all():
            if posting.account_id in self.expected:
                self.expected[posting.account_id] -= posting.amount.amount

    @rule(account=wallets, amount=amounts)
    def refused_malformed_post(self, account, amount):
        try:
            services.post(
                kind="fee_payment",
                legs=[Leg(account, amount), Leg(system("fee_income"), -amount / 3)],
                idempotency_key=key(),
                scope="machine",
            )
        except DomainError:
            return
        raise AssertionError("unbalanced legs must be refused")

    @invariant()
    def cached_balances_match_the_model(self):
        for pk, expected in self.expected.items():
            assert balance(self.accounts[pk]) == expected
            assert expected >= 0


@pytest.mark.django_db
def test_ledger_state_machine():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payments=st.lists(st.tuples(amounts, st.sampled_from(SERVICES)), min_size=1, max_size=8))
def test_any_payments_keep_revenue_plus_fees_equal_to_what_left_wallets(payments):
    with transaction.atomic():
        w = wallet("500.000")
        revenue_before = {s: balance(system(f"revenue.{s}")) for s in SERVICES}
        fee_before = balance(system("fee_income"))
        for amount, service in payments:
            services.post(
                kind="fee_payment", legs=fee_payment_legs(w, amount, "0.100", service), idempotency_key=key(), scope="p"
            )
        spent = Decimal("500.000") - balance(w)
        revenue_gain = sum(balance(system(f"revenue.{s}")) - revenue_before[s] for s in SERVICES)
        fee_gain = balance(system("fee_income")) - fee_before
        assert spent == revenue_gain + fee_gain
        assert fee_gain == Decimal("0.100") * len(payments)
        transaction.set_rollback(True)
