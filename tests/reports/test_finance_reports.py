"""Finance reports: the trial balance balances and equals the postings account by account, the revenue report equals
the ledger service by service, the PDFs read right in both languages, and every refusal is clear."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import uuid
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.models import Office
from erial.errors import InsufficientFunds, InvalidRequest
from erial.money import from_db
from erial.roles import Role
from ledger import services
from ledger.businessday import day_bounds, today
from ledger.chart import SystemAccount
from ledger.models import Account, Entry, EntryKind, Payment, Posting, Refund, Service, Wallet
from ledger.payments import pay_fee, refund_payment, refundable
from ledger.sealing import seal_through
from reports import labels
from reports.revenue import revenue_report
from reports.revenue_pdf import render_revenue
from reports.trial_balance import Group, trial_balance
from reports.trial_balance_pdf import render_trial_balance
from reports.trial_balance_pdf import report as tb_report
from tests.agents.conftest import make_office
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import key, system
from tests.reports.conftest import needs_poppler, normalised, pdf_text

pytestmark = pytest.mark.django_db

MUSCAT = ZoneInfo("Asia/Muscat")
ZERO = Decimal("0.000")
AMOUNT = re.compile(r"\d+\.\d{3}")
SERVICES = ["lease_renewal", "parking_fine", "parking_permit", "municipal_licence", "building_permit"]


def muscat(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=MUSCAT)


@contextmanager
def at(moment: dt.datetime):
    """The clock (every ``timezone.now()``) stands at ``moment``: entries are booked then."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def move(kind: str, legs: list[tuple[Account, Decimal]], when: dt.datetime) -> None:
    with at(when):
        services.post(
            kind=kind, legs=[services.Leg(a, amount) for a, amount in legs], idempotency_key=key(), scope="test"
        )


def pay(wallet: Wallet, amount: str, when: dt.datetime, service: str = "lease_renewal") -> Payment:
    with at(when):
        return pay_fee(
            wallet=wallet,
            service=Service.objects.get(code=service),
            bill_reference=f"B-{uuid.uuid4().hex[:8]}",
            amount=Decimal(amount),
            actor=None,
            idempotency_key=key(),
            scope="test",
        )


def funded_wallet(amount: str, when: dt.datetime) -> Wallet:
    """A wallet topped up from the bank at ``when`` (the ledger books in time order per wallet)."""
    wallet = open_wallet()
    move(
        EntryKind.CASH_TOPUP, [(system(SystemAccount.BANK), Decimal(amount)), (wallet.account, -Decimal(amount))], when
    )
    return wallet


def refund(payment: Payment, amount: Decimal, when: dt.datetime) -> None:
    with at(when):
        refund_payment(
            payment=payment,
            amount=amount,
            reason="Cancelled on appeal",
            actor=make_user(Role.FINANCE),
            idempotency_key=key(),
            scope="test",
        )


# --- what the ledger says, computed the long way -----------------------------------------------------------------


def group_of(account: Account, offices: dict[int, str]) -> str:
    if account.owner_kind == "system":
        return Group.SYSTEM
    if account.owner_kind == "wallet":
        return Group.WALLETS
    return offices.get(account.pk, Group.OTHER)


def office_groups() -> dict[int, str]:
    groups = {}
    for office in Office.objects.all():
        groups[office.cash_account_id] = Group.OFFICE_CASH if office.kind == "internal" else Group.AGENT_FLOATS
        if office.commission_account_id:
            groups[office.commission_account_id] = Group.COMMISSION_PAYABLE
    return groups


def per_account(until: dt.datetime) -> dict[int, list]:
    """Per account: [net, postings, debits] of every posting before ``until``, one posting at a time."""
    sums: dict[int, list] = defaultdict(lambda: [ZERO, 0, ZERO])
    for account_id, amount in Posting.objects.filter(created_at__lt=until).values_list("account_id", "amount"):
        amount = from_db(amount)
        sums[account_id][0] += amount
        sums[account_id][1] += 1
        sums[account_id][2] += max(amount, ZERO)
    return sums


def expected_lines(until: dt.datetime, *, detailed: bool) -> dict[str, tuple[int, Decimal, Decimal, int]]:
    """code -> (accounts, debit balances, credit balances, postings), as the trial balance should print them."""
    sums, offices = per_account(until), office_groups()
    lines: dict[str, list] = {}
    for account in Account.objects.all():
        group = group_of(account, offices)
        if group != Group.SYSTEM and account.pk not in sums:
            continue
        net, count, _ = sums.get(account.pk, [ZERO, 0, ZERO])
        code = account.code if detailed or group == Group.SYSTEM else group
        line = lines.setdefault(code, [0, ZERO, ZERO, 0])
        line[0] += 1
        line[1] += max(net, ZERO)
        line[2] += max(-net, ZERO)
        line[3] += count
    return {code: tuple(line) for code, line in lines.items()}


def as_printed(data) -> dict[str, tuple[int, Decimal, Decimal, int]]:
    return {line.code: (line.accounts, line.debit, line.credit, line.postings) for line in data.lines}


def check_trial_balance(as_of: dt.date) -> None:
    until = day_bounds(as_of)[1]
    grouped, detailed = trial_balance(as_of), trial_balance(as_of, detailed=True)
    for data in (grouped, detailed):
        assert data.balanced and data.covers_ledger and data.total_debit == data.total_credit
        assert as_printed(data) == expected_lines(until, detailed=data.detailed)
        assert data.ledger.entries == Entry.objects.filter(created_at__lt=until).count()
        assert data.ledger.postings == Posting.objects.filter(created_at__lt=until).count()
        assert data.ledger.debits == data.ledger.credits == sum((s[2] for s in per_account(until).values()), ZERO)
        assert sum(line.postings for line in data.lines) == data.ledger.postings
    assert (grouped.total_debit, grouped.total_credit) == (detailed.total_debit, detailed.total_credit)


def check_revenue(start: dt.date, end: dt.date) -> None:
    data = revenue_report(start, end)
    since, until = day_bounds(start)[0], day_bounds(end)[1]
    in_period = {"created_at__gte": since, "created_at__lt": until}
    fee_income = system(SystemAccount.FEE_INCOME)
    assert [s.code for s in data.services] == sorted(SERVICES)
    for line in data.services:
        service = Service.objects.get(code=line.code)
        amounts = [
            from_db(a)
            for a in Posting.objects.filter(account=service.revenue_account, **in_period).values_list(
                "amount", flat=True
            )
        ]
        assert line.revenue == sum((-a for a in amounts if a < 0), ZERO)
        assert line.refunds == sum((a for a in amounts if a > 0), ZERO)
        assert line.refund_count == sum(1 for a in amounts if a > 0)
        assert line.net == -sum(amounts, ZERO)
        payments = Payment.objects.filter(service=service, **in_period)
        assert line.payments == payments.count()
        refunds = Refund.objects.filter(payment__service=service, **in_period)
        assert line.fees == sum((p.fee for p in payments), ZERO) - sum((r.fee_returned for r in refunds), ZERO)
    fees = [
        from_db(a) for a in Posting.objects.filter(account=fee_income, **in_period).values_list("amount", flat=True)
    ]
    assert data.fee_income == -sum(fees, ZERO) == data.service_fees + data.fees_unattributed


# --- properties over random ledgers ------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=30_000).map(lambda baisa: Decimal(baisa) / 1000)
minutes = st.integers(min_value=0, max_value=5 * 24 * 60 - 1)  # 1-5 January 2025, Muscat
operations = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.integers(0, 2), amounts, minutes),
        st.tuples(st.just("pay"), st.integers(0, 2), amounts, st.sampled_from(SERVICES), minutes),
        st.tuples(st.just("refund"), amounts, minutes),
        st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 2), amounts, minutes),
        st.tuples(st.just("fee_adjustment"), amounts, minutes),
        st.tuples(st.just("revenue_adjustment"), st.sampled_from(SERVICES), amounts, minutes),
        st.tuples(st.just("float_deposit"), amounts, minutes),
    ),
    min_size=1,
    max_size=16,
)
days = st.dates(min_value=dt.date(2024, 12, 31), max_value=dt.date(2025, 1, 6))


def run(ops: list[tuple], wallets: list[Wallet], office: Office) -> None:
    """Book ``ops`` in time order; refusals (insufficient funds) book nothing, as in life."""
    bank = system(SystemAccount.BANK)
    paid: list[Payment] = []
    for op in sorted(ops, key=lambda op: op[-1]):  # the minute the operation happens at comes last
        action = op[0]
        when = dt.datetime(2025, 1, 1, tzinfo=MUSCAT) + dt.timedelta(minutes=op[-1])
        try:
            with transaction.atomic():
                if action == "top_up":
                    move(EntryKind.CASH_TOPUP, [(bank, op[2]), (wallets[op[1]].account, -op[2])], when)
                elif action == "pay":
                    paid.append(pay(wallets[op[1]], str(op[2]), when, service=op[3]))
                elif action == "refund":
                    if paid and refundable(paid[-1]) > 0:
                        refund(paid[-1], min(op[1], refundable(paid[-1])), when)
                elif action == "transfer" and op[1] != op[2]:
                    move(
                        EntryKind.ADJUSTMENT, [(wallets[op[1]].account, op[3]), (wallets[op[2]].account, -op[3])], when
                    )
                elif action == "fee_adjustment":
                    move(EntryKind.ADJUSTMENT, [(bank, op[1]), (system(SystemAccount.FEE_INCOME), -op[1])], when)
                elif action == "revenue_adjustment":
                    move(EntryKind.ADJUSTMENT, [(bank, op[2]), (system(f"revenue.{op[1]}"), -op[2])], when)
                elif action == "float_deposit":
                    move(EntryKind.FLOAT_DEPOSIT, [(bank, op[1]), (office.cash_account, -op[1])], when)
        except InsufficientFunds:
            pass


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=operations,
    as_of=days,
    sealed=st.none() | days,
    start=days,
    length=st.integers(min_value=0, max_value=6),
)
def test_for_random_ledgers_the_reports_equal_the_postings(ops, as_of, sealed, start, length):
    """Sealed or not: the ledger totals of sealed days come from their seals, the rest from the postings."""
    with transaction.atomic():
        wallets = [open_wallet() for _ in range(3)]
        office = make_office("external")
        run(ops, wallets, office)
        if sealed is not None:
            seal_through(sealed)
        check_trial_balance(as_of)
        check_revenue(start, start + dt.timedelta(days=length))
        transaction.set_rollback(True)


# --- the trial balance in the business's words -------------------------------------------------------------------


def small_ledger() -> tuple[Wallet, Office]:
    """10.000 into a wallet at an office drawer, a 2.000 lease renewal (fee 0.100), a 100.000 agent float deposit."""
    wallet = open_wallet()
    drawer = make_office("internal")
    agent = make_office("external")
    when = muscat("2025-03-10")
    move(EntryKind.CASH_TOPUP, [(drawer.cash_account, Decimal("10.000")), (wallet.account, Decimal("-10.000"))], when)
    pay(wallet, "2.000", muscat("2025-03-10", 11))
    move(
        EntryKind.FLOAT_DEPOSIT,
        [(system(SystemAccount.BANK), Decimal("100.000")), (agent.cash_account, Decimal("-100.000"))],
        muscat("2025-03-10", 12),
    )
    return wallet, agent


def test_a_small_ledger_in_one_statement_grouped_by_kind():
    small_ledger()
    with CaptureQueriesContext(connection) as queries:
        data = trial_balance(dt.date(2025, 3, 10))
    reads = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(reads) == 2  # the last seal, then the lines and the ledger totals in one statement
    assert "ledger_posting" not in reads[0] and "ledger_posting" in reads[1]
    lines = {line.code: line for line in data.lines}
    assert (lines["wallets"].credit, lines["wallets"].accounts) == (Decimal("7.900"), 1)
    assert lines["office_cash"].debit == Decimal("10.000")
    assert lines["agent_floats"].credit == Decimal("100.000")
    assert lines["bank"].debit == Decimal("100.000")
    assert lines["revenue.lease_renewal"].credit == Decimal("2.000")
    assert lines["fee_income"].credit == Decimal("0.100")
    assert lines["suspense"].debit == lines["suspense"].credit == ZERO  # every system account, moved or not
    assert "commission_payable" not in lines  # no commission was earned: no line for the payables
    assert data.total_debit == data.total_credit == Decimal("110.000")
    assert (data.ledger.entries, data.ledger.postings, data.ledger.debits) == (3, 7, Decimal("112.100"))
    assert [line.group for line in data.lines][:2] == ["system", "system"]  # assets first: bank, its clearing
    kinds = [line.kind for line in data.lines]
    assert kinds == sorted(kinds, key=["asset", "liability", "equity", "income", "expense"].index)


def test_the_end_of_a_business_day_is_midnight_in_muscat():
    wallet = open_wallet()
    bank = system(SystemAccount.BANK)
    move(
        EntryKind.CASH_TOPUP,
        [(bank, Decimal("5.000")), (wallet.account, Decimal("-5.000"))],
        muscat("2025-03-10", 23, 50),
    )
    move(
        EntryKind.CASH_TOPUP,
        [(bank, Decimal("7.000")), (wallet.account, Decimal("-7.000"))],
        muscat("2025-03-11", 0, 10),
    )
    assert {line.code: line.debit for line in trial_balance(dt.date(2025, 3, 9)).lines}["bank"] == ZERO
    assert {line.code: line.debit for line in trial_balance(dt.date(2025, 3, 10)).lines}["bank"] == Decimal("5.000")
    assert {line.code: line.debit for line in trial_balance(dt.date(2025, 3, 11)).lines}["bank"] == Decimal("12.000")
    now = trial_balance()
    assert now.as_of is None and not now.at_day_end and now.ledger.entries == 2
    assert trial_balance(dt.date(2025, 3, 11)).at_day_end and not trial_balance(today()).at_day_end


def test_sealed_days_count_from_their_seals_and_a_backdated_posting_shows(tmp_path):
    small_ledger()
    pay(funded_wallet("9.000", muscat("2025-03-11")), "1.000", muscat("2025-03-12"))
    assert [seal.business_day.day for seal in seal_through(dt.date(2025, 3, 11))] == [10, 11]
    for day in (9, 10, 11, 12):
        check_trial_balance(dt.date(2025, 3, day))
    # An entry booked afterwards into a sealed day: the lines count it, the seals do not.
    move(
        EntryKind.ADJUSTMENT,
        [(system("bank"), Decimal("1.000")), (system("suspense"), Decimal("-1.000"))],
        muscat("2025-03-10", 15),
    )
    data = trial_balance(dt.date(2025, 3, 12))
    assert data.balanced and not data.covers_ledger
    assert sum(line.postings for line in data.lines) == data.ledger.postings + 2
    assert labels.NOT_COVERED in tb_report(data).notes
    with pytest.raises(CommandError, match="does not cover the ledger"):
        call_command("trial_balance", "--as-of", "2025-03-12", "--out", str(tmp_path / "tb.pdf"))


def test_a_future_day_is_refused():
    with pytest.raises(InvalidRequest) as refusal:
        trial_balance(today() + dt.timedelta(days=1))
    assert refusal.value.extra == {"field": "as_of", "reason": "date_in_future"}


# --- revenue ------------------------------------------------------------------------------------------------------


def test_revenue_by_service_with_a_partial_and_a_full_refund(django_assert_max_num_queries):
    wallet = funded_wallet("100.000", muscat("2025-03-20"))
    lease = pay(wallet, "20.000", muscat("2025-04-02"))
    fine = pay(wallet, "5.000", muscat("2025-04-03"), service="parking_fine")
    pay(wallet, "3.000", muscat("2025-04-04"), service="parking_fine")
    refund(lease, Decimal("4.000"), muscat("2025-04-05"))  # partial: the fee stays
    refund(fine, Decimal("5.000"), muscat("2025-04-06"))  # in full: the fee comes back
    pay(wallet, "9.000", muscat("2025-05-01"))  # after the period
    with django_assert_max_num_queries(4):
        data = revenue_report(dt.date(2025, 4, 1), dt.date(2025, 4, 30))
    lines = {line.code: line for line in data.services}
    assert (lines["lease_renewal"].payments, lines["lease_renewal"].revenue) == (1, Decimal("20.000"))
    assert (lines["lease_renewal"].refunds, lines["lease_renewal"].net) == (Decimal("4.000"), Decimal("16.000"))
    assert lines["lease_renewal"].fees == Decimal("0.100")
    assert (lines["parking_fine"].payments, lines["parking_fine"].refund_count) == (2, 1)
    assert (lines["parking_fine"].net, lines["parking_fine"].fees) == (Decimal("3.000"), Decimal("0.100"))
    assert lines["building_permit"].payments == 0 and lines["building_permit"].net == ZERO
    assert (data.payments, data.net, data.fee_income) == (3, Decimal("19.000"), Decimal("0.200"))
    assert data.fees_unattributed == ZERO


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [("2025-03-10", "2025-03-09", "period_reversed"), ("2025-03-01", "2999-01-01", "period_in_future")],
)
def test_a_bad_period_is_refused(start, end, reason):
    with pytest.raises(InvalidRequest) as refusal:
        revenue_report(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert refusal.value.extra["reason"] == reason


# --- the PDFs -----------------------------------------------------------------------------------------------------


def row_amounts(text: str, start: str) -> list[Decimal]:
    """The amounts on the first line that begins with ``start`` (after the code, so digits in names don't count)."""
    line = next(line for line in text.splitlines() if line.strip().startswith(start))
    return [Decimal(value) for value in AMOUNT.findall(line.split(start, 1)[1])]


@needs_poppler
def test_the_trial_balance_pdf_reads_in_order_in_both_languages(tmp_path):
    small_ledger()
    data = trial_balance(dt.date(2025, 3, 10))
    text = pdf_text(render_trial_balance(data), tmp_path)
    for expected in (
        "Trial balance",
        "ميزان المراجعة",
        "end of 2025-03-10",
        "نهاية يوم",
        "Customer wallets (1 account)",
        "محافظ العملاء",
        "الأرصدة المسبقة للوكلاء",
        "إيرادات تجديد عقود الإيجار",
        "Journal entries: 3",
        "القيود اليومية",
        "Sum of debit postings: 112.100",
        "Debits equal credits: the ledger balances.",
        "المدين يساوي الدائن",
        "Page 1 of 1",
    ):
        assert expected in text, f"{expected!r} missing from:\n{text}"
    positions = [text.index(line.code if not line.is_group else line.name_en) for line in data.lines]
    assert positions == sorted(positions)  # the lines in the trial balance's order
    assert row_amounts(text, "bank ") == [Decimal("100.000")]
    assert row_amounts(text, "fee_income") == [Decimal("0.100")]
    assert row_amounts(text, "Total") == [Decimal("110.000"), Decimal("110.000")]
    numbers = re.findall(r"(?<![\d-])\d+\.\d+(?![\d.])", text)
    assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers), numbers


@needs_poppler
def test_a_detailed_trial_balance_runs_over_pages_with_every_account_once(tmp_path):
    bank = system(SystemAccount.BANK)
    wallets = [open_wallet() for _ in range(70)]
    for n, wallet in enumerate(wallets, start=1):
        move(EntryKind.CASH_TOPUP, [(bank, Decimal(n)), (wallet.account, Decimal(-n))], muscat("2025-03-10"))
    data = trial_balance(dt.date(2025, 3, 10), detailed=True)
    path = tmp_path / "tb.pdf"
    path.write_bytes(render_trial_balance(data))
    pages = []
    for page in (1, 2):
        out = subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        pages.append(normalised(out.stdout))
    assert "Page 1 of 2" in pages[0] and "Page 2 of 2" in pages[1]
    assert "Total" not in pages[0] and row_amounts(pages[1], "Total") == [Decimal("2485.000")] * 2
    text = "\n".join(pages)
    for n, wallet in enumerate(wallets, start=1):
        assert text.count(wallet.account.code) == 1
        assert row_amounts(text, wallet.account.code) == [Decimal(n)]


@needs_poppler
def test_the_revenue_pdf_reads_in_order_in_both_languages(tmp_path):
    wallet = funded_wallet("100.000", muscat("2025-03-20"))
    pay(wallet, "20.000", muscat("2025-04-02"))
    fine = pay(wallet, "5.000", muscat("2025-04-03"), service="parking_fine")
    refund(fine, Decimal("5.000"), muscat("2025-04-06"))
    text = pdf_text(render_revenue(revenue_report(dt.date(2025, 4, 1), dt.date(2025, 4, 30))), tmp_path)
    for expected in (
        "Municipal revenue and fee income",
        "الإيرادات البلدية ورسوم الخدمة",
        "2025-04-01 to 2025-04-30",
        "تجديد عقد الإيجار",
        "مخالفة المواقف",
        "صافي الإيرادات",
        "Fee income for the period (ledger): 0.100",
    ):
        assert expected in text, f"{expected!r} missing from:\n{text}"
    services = ["Building permit", "Lease-contract renewal", "Municipal licence renewal", "Parking fine"]
    positions = [text.index(name) for name in services]
    assert positions == sorted(positions)
    assert row_amounts(text, "Lease-contract renewal") == [Decimal("20.000"), ZERO, Decimal("20.000"), Decimal("0.100")]
    assert row_amounts(text, "Parking fine") == [Decimal("5.000"), Decimal("5.000"), ZERO, ZERO]
    assert row_amounts(text, "Total") == [Decimal("25.000"), Decimal("5.000"), Decimal("20.000"), Decimal("0.100")]


# --- the commands -------------------------------------------------------------------------------------------------


def test_the_commands_write_the_pdfs(tmp_path, capsys):
    small_ledger()
    out = tmp_path / "tb.pdf"
    call_command("trial_balance", "--as-of", "2025-03-10", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF-")
    said = capsys.readouterr().out
    assert "debits 110.000, credits 110.000 (balanced); 3 entries, 7 postings" in said
    out = tmp_path / "revenue.pdf"
    call_command("revenue_report", "--from", "2025-03-01", "--to", "2025-03-31", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF-")
    assert "1 payments, net revenue 2.000 OMR, fee income 0.100 OMR" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["revenue.pdf", "tb.pdf"]


@pytest.mark.parametrize(
    ("command", "arguments", "message"),
    [
        ("trial_balance", ["--as-of", "2999-01-01"], "in the future"),
        ("trial_balance", ["--as-of", "10/03/2025"], "--as-of must be a date like"),
        ("revenue_report", ["--from", "2025-03-10", "--to", "2025-03-01"], "before it starts"),
        ("revenue_report", ["--from", "2025-03-01", "--to", "2999-01-01"], "in the future"),
        ("revenue_report", ["--from", "yesterday", "--to", "2025-03-01"], "--from must be a date like"),
    ],
)
def test_the_commands_refuse_bad_dates_and_write_nothing(command, arguments, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        call_command(command, *arguments, "--out", str(tmp_path / "report.pdf"))
    assert list(tmp_path.iterdir()) == []


def test_the_commands_refuse_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("trial_balance", "--out", str(tmp_path / "nowhere" / "tb.pdf"))


# --- the API ------------------------------------------------------------------------------------------------------

TRIAL_BALANCE = "/api/v1/reports/trial-balance/"
REVENUE = "/api/v1/reports/revenue/"


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_finance_and_admin_get_json_with_amounts_as_strings_and_pdfs(role):
    small_ledger()
    client = client_for(make_user(role))
    body = client.get(TRIAL_BALANCE, {"as_of": "2025-03-10"}).json()
    assert body["as_of"] == "2025-03-10" and body["balanced"] is True
    assert body["total_debit"] == body["total_credit"] == "110.000"
    assert body["ledger"] == {"entries": 3, "postings": 7, "debits": "112.100", "credits": "112.100"}
    wallets = next(line for line in body["lines"] if line["code"] == "wallets")
    assert (wallets["credit"], wallets["debit"], wallets["accounts"]) == ("7.900", "0.000", 1)
    detailed = client.get(TRIAL_BALANCE, {"as_of": "2025-03-10", "detail": "accounts"}).json()
    assert "wallets" not in {line["code"] for line in detailed["lines"]}
    assert detailed["total_debit"] == "110.000"
    assert client.get(TRIAL_BALANCE).json()["as_of"] is None  # now
    body = client.get(REVENUE, {"from": "2025-03-01", "to": "2025-03-31"}).json()
    lease = next(s for s in body["services"] if s["service"] == "lease_renewal")
    assert (lease["payments"], lease["revenue"], lease["net"], lease["fee_income"]) == (1, "2.000", "2.000", "0.100")
    assert body["totals"]["net"] == "2.000" and body["fee_income"] == "0.100"
    for path, query in (
        (TRIAL_BALANCE, {"as_of": "2025-03-10"}),
        (REVENUE, {"from": "2025-03-01", "to": "2025-03-31"}),
    ):
        response = client.get(path, {**query, "format": "pdf"})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-") and response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.AGENT, Role.SERVICE, None])
def test_everyone_else_is_refused(role):
    client = client_for(make_user(role))
    assert_problem(client.get(TRIAL_BALANCE), 403, "forbidden")
    assert_problem(client.get(REVENUE, {"from": "2025-03-01", "to": "2025-03-31", "format": "pdf"}), 403, "forbidden")


def test_without_a_token_the_answer_is_401():
    from rest_framework.test import APIClient

    assert_problem(APIClient().get(TRIAL_BALANCE), 401, "forbidden")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (TRIAL_BALANCE, "as_of=2999-01-01", "as_of"),
        (TRIAL_BALANCE, "as_of=2025-02-30", "as_of"),
        (TRIAL_BALANCE, "as_of=", "as_of"),
        (TRIAL_BALANCE, "as_of=2025-03-10&detail=all", "detail"),
        (TRIAL_BALANCE, "asof=2025-03-10", "asof"),
        (TRIAL_BALANCE, "as_of=2999-01-01&format=pdf", "as_of"),
        (TRIAL_BALANCE, "format=xls", "format"),
        (REVENUE, "from=2025-03-10&to=2025-03-01", "to"),
        (REVENUE, "from=2025-03-01&to=2999-01-01", "to"),
        (REVENUE, "from=2025-03-01", "to"),
        (REVENUE, "to=2025-03-01", "from"),
        (REVENUE, "from=1/3/2025&to=2025-03-31&format=pdf", "from"),
        (REVENUE, "from=2025-03-01&to=2025-03-31&service=x", "service"),
    ],
)
def test_bad_dates_and_parameters_are_refused_as_problems(path, query, field):
    client = client_for(make_user(Role.FINANCE))
    problem = assert_problem(client.get(f"{path}?{query}"), 400, "invalid_request")
    assert problem["field"] == field
