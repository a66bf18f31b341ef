"""Customer statements: totals equal the ledger, pages carry their totals forward, the PDF reads right in
both languages, every refusal is clear and writes nothing, and the printed code verifies (or not)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageStat
from reportlab import rl_config

from erial.errors import InsufficientFunds, InvalidRequest
from erial.roles import Role
from ledger import account_numbers
from ledger.businessday import day_bounds, today
from ledger.models import Holder, Payment, Service, Wallet
from ledger.payments import pay_fee, refund_payment, refundable
from ledger.selectors import balance
from ledger.wallets import find_wallet
from reports.statement_pdf import FIELD_STEP, FIRST_HEADER, first_header, plan_pages
from reports.statement_verification import statement_code, verification_path
from reports.statements import Statement, render_statement, statement_data
from reports.verification import printed_code
from tests.api.conftest import assert_problem, client_for, make_user, open_wallet
from tests.factories import top_up
from tests.reports.conftest import needs_poppler, normalised, pdf_pngs, pdf_text

pytestmark = pytest.mark.django_db

MUSCAT = ZoneInfo("Asia/Muscat")
SITE = "https://e-rial.om"
GOLDEN = Path(__file__).parent / "golden" / "statement_page1.png"
GOLDEN_DPI = 40
#: Mean absolute difference (0-255 grey levels) tolerated against the golden page. The golden guards the
#: drawing (layout, shaping, QR code): a changed balance moves the QR code and the mean by about 0.5, a shifted
#: column by more; the same renderer gives 0. The words themselves are checked through pdftotext.
GOLDEN_TOLERANCE = 0.25
AMOUNT = re.compile(r"\d+\.\d+")


def muscat(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=MUSCAT)


@contextmanager
def at(moment: dt.datetime):
    """The clock (every ``timezone.now()``) stands at ``moment``: entries are booked then."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def pay(wallet: Wallet, when: dt.datetime, amount: str, bill: str | None = None) -> Payment:
    with at(when):
        return pay_fee(
            wallet=wallet,
            service=Service.objects.get(code="parking_fine"),
            bill_reference=bill or f"F-{uuid.uuid4().hex[:6].upper()}",
            amount=Decimal(amount),
            actor=None,
            idempotency_key=uuid.uuid4().hex,
            scope="test",
        )


def refund(payment: Payment, when: dt.datetime, amount: str, reason: str = "Fine cancelled on appeal") -> None:
    with at(when):
        refund_payment(
            payment=payment,
            amount=Decimal(amount),
            reason=reason,
            actor=make_user(Role.FINANCE),
            idempotency_key=uuid.uuid4().hex,
            scope="test",
        )


def deposit(wallet: Wallet, when: dt.datetime, amount: str) -> None:
    with at(when):
        top_up(wallet.account, amount)


def unknown_number() -> str:
    """A well-formed account number no wallet has."""
    while Wallet.objects.filter(number=(number := account_numbers.new_number())).exists():
        pass
    return number


def march_wallet(owner=None) -> Wallet:
    """Balance 40.000 before March 2025; in March: +20.000, -3.100, -5.100, refund +5.100 (in full), +2.500."""
    wallet = open_wallet(user=owner)
    deposit(wallet, muscat("2025-02-20"), "40.000")
    deposit(wallet, muscat("2025-03-02", 10, 15), "20.000")
    pay(wallet, muscat("2025-03-05", 12), "3.000", bill="F-1001")
    fine = pay(wallet, muscat("2025-03-09", 8, 30), "5.000", bill="F-1002")
    refund(fine, muscat("2025-03-12", 16, 45), "5.000")
    deposit(wallet, muscat("2025-03-31", 23, 50), "2.500")  # the last minutes of March in Muscat
    deposit(wallet, muscat("2025-04-01", 0, 10), "9.000")  # April in Muscat, still 31 March in UTC: not in March
    return wallet


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info)[1])
    texts = []
    for page in range(1, pages + 1):
        out = subprocess.run(
            ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        texts.append(normalised(out))
    return texts


def amounts_on(text: str, label: str) -> list[Decimal]:
    """The amounts after ``label`` on the last line that has it (the table's row, not the page header)."""
    line = [line for line in text.splitlines() if label in line][-1]
    return [Decimal(value) for value in AMOUNT.findall(line.split(label, 1)[1])]


# --- totals equal the ledger ------------------------------------------------------------------------


def test_a_month_of_movements_adds_up_to_the_ledger():
    wallet = march_wallet()
    data = statement_data(wallet, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    movements = list(data.movements())
    assert data.opening == Decimal("40.000")
    assert [m.kind for m in movements] == ["cash_topup", "fee_payment", "fee_payment", "refund", "cash_topup"]
    assert data.line_count == 5
    assert (data.total_debits, data.total_credits) == (Decimal("8.200"), Decimal("27.600"))
    assert data.closing == Decimal("59.400") == movements[-1].balance_after
    since, until = day_bounds(dt.date(2025, 3, 1))[0], day_bounds(dt.date(2025, 3, 31))[1]
    assert data.opening == balance(wallet.account, as_of=since)
    assert data.closing == balance(wallet.account, as_of=until)
    assert movements[1].memo == "Parking fine F-1001" and movements[3].memo == "Fine cancelled on appeal"


operations = st.lists(
    st.tuples(
        st.sampled_from(["top_up", "pay", "refund"]),
        st.integers(min_value=1, max_value=40_000).map(lambda baisa: Decimal(baisa) / 1000),
        st.integers(min_value=0, max_value=9 * 24 * 60 - 1),  # minute of 1-9 January 2025, Muscat
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ops=operations,
    first=st.integers(min_value=1, max_value=9),
    length=st.integers(min_value=0, max_value=8),
)
def test_for_random_ledgers_closing_is_opening_plus_movements_and_the_ledger_agrees(ops, first, length):
    start = dt.date(2025, 1, first)
    end = min(start + dt.timedelta(days=length), dt.date(2025, 1, 9))
    with transaction.atomic():
        wallet = open_wallet()
        paid: list[Payment] = []
        for action, amount, minute in sorted(ops, key=lambda op: op[2]):
            when = dt.datetime(2025, 1, 1, tzinfo=MUSCAT) + dt.timedelta(minutes=minute)
            if action == "top_up":
                deposit(wallet, when, str(amount))
            elif action == "pay":
                try:
                    with transaction.atomic():
                        paid.append(pay(wallet, when, str(amount)))
                except InsufficientFunds:
                    pass
            elif paid and refundable(paid[-1]) > 0:
                refund(paid[-1], when, str(min(amount, refundable(paid[-1]))))
        data = statement_data(wallet, start, end)
        movements = list(data.movements())
        since, until = day_bounds(start)[0], day_bounds(end)[1]
        assert data.opening == balance(wallet.account, as_of=since)
        assert len(movements) == data.line_count
        credits = sum((m.credit for m in movements), Decimal("0.000"))
        debits = sum((m.debit for m in movements), Decimal("0.000"))
        assert (debits, credits) == (data.total_debits, data.total_credits)
        assert data.closing == data.opening + credits - debits == balance(wallet.account, as_of=until)
        running = data.opening
        for movement in movements:  # every balance after is the one before plus the movement
            running += movement.credit - movement.debit
            assert movement.balance_after == running and since <= movement.created_at < until
        transaction.set_rollback(True)


# --- pages ------------------------------------------------------------------------------------------


def test_the_page_plan_leaves_room_for_the_totals():
    assert plan_pages(0) == (0,)
    assert plan_pages(5) == (5,)
    for count in (40, 46, 47, 48, 60, 101, 102, 103, 250, 10_000):
        plan = plan_pages(count)
        assert sum(plan) == count and all(n > 0 for n in plan)
        assert max(plan[1:], default=0) <= 60


@needs_poppler
def test_page_totals_are_carried_forward_over_a_long_statement(tmp_path, django_assert_max_num_queries):
    wallet = open_wallet()
    deposit(wallet, muscat("2025-01-31"), "100.000")
    for n in range(110):
        when = muscat("2025-02-01") + dt.timedelta(hours=5 * n)
        if n % 4 == 0:
            deposit(wallet, when, f"{10 + n % 7}.250")
        else:
            pay(wallet, when, f"0.{n % 9 + 1}50", bill=f"F-{n:04d}")
    with django_assert_max_num_queries(3):  # opening balance, totals, the movements: never a query per row
        data = statement_data(wallet, dt.date(2025, 2, 1), dt.date(2025, 2, 28))
        pdf = render_statement(data, site_url=SITE)
    plan = plan_pages(data.line_count, first_header=first_header(data))
    assert len(plan) == 3
    pages = pages_text(pdf, tmp_path)
    assert len(pages) == 3
    movements = iter(data.movements())
    forward = (Decimal("0.000"), Decimal("0.000"), data.opening)
    for number, (text, count) in enumerate(zip(pages, plan, strict=True), start=1):
        assert f"Page {number} of 3" in text
        assert "Date (Muscat)" in text and "البيان" in text  # the column titles on every page
        if number == 1:
            assert amounts_on(text, "Opening balance") == [data.opening]
        else:
            assert f"Account statement · Account no. {wallet.number}" in text  # later pages' header
            assert tuple(amounts_on(text, "Brought forward")) == forward
        rows = [line for line in text.splitlines() if re.match(r"\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s", line)]
        assert len(rows) == count
        page_debits = page_credits = Decimal("0.000")
        for row in rows:  # every movement, in order, with its amount and balance after
            movement = next(movements)
            assert [Decimal(v) for v in AMOUNT.findall(row)] == [
                movement.debit or movement.credit,
                movement.balance_after,
            ]
            page_debits += movement.debit
            page_credits += movement.credit
        assert amounts_on(text, "Page total") == [page_debits, page_credits]
        forward = (forward[0] + page_debits, forward[1] + page_credits, movement.balance_after)
        if number < 3:
            assert tuple(amounts_on(text, "Carried forward")) == forward
            assert "Closing balance" not in text
        else:
            assert amounts_on(text, "Total for the period") == [data.total_debits, data.total_credits]
            assert amounts_on(text, "Closing balance") == [data.closing] == [forward[2]]
    assert next(movements, None) is None


# --- what the PDF says -------------------------------------------------------------------------------


@needs_poppler
def test_the_text_read_back_has_holder_account_amounts_and_arabic_labels_in_logical_order(tmp_path):
    wallet = march_wallet()
    data = statement_data(wallet, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    text = pdf_text(render_statement(data, site_url=SITE), tmp_path)
    for expected in [
        "Salim Al-Harthy",
        wallet.number,
        "2025-03-01 to 2025-03-31",
        "40.000 OMR",
        "59.400",
        "Parking fine F-1001",
        "Refund: Fine cancelled on appeal",
        "2025-03-31 23:50",  # printed in Muscat time (19:50 UTC)
        printed_code(statement_code(data)),
        SITE + verification_path(data),
        "Page 1 of 1",
    ]:
        assert expected in text, f"{expected!r} missing from:\n{text}"
    for arabic in [
        "سالم الحارثي",
        "بلدية مسقط",
        "كشف حساب",
        "صاحب الحساب",
        "رقم الحساب",
        "الرصيد الافتتاحي",
        "الرصيد الختامي",
        "مجموع الفترة",
        "دفع رسوم",
        "إيداع نقدي",
        "استرداد",
        "تحقق من صحة هذا الكشف",
    ]:
        assert arabic in text, f"{arabic!r} (logical order) missing from:\n{text}"
    assert "9.000" not in text  # the April top-up is not in March
    numbers = re.findall(r"(?<![\d-])\d+\.\d+(?![\d.])", text)
    assert numbers and all(re.fullmatch(r"\d+\.\d{3}", n) for n in numbers), numbers


@needs_poppler
def test_an_empty_period_says_so_and_still_balances(tmp_path):
    wallet = march_wallet()
    data = statement_data(wallet, dt.date(2025, 3, 20), dt.date(2025, 3, 25))
    assert data.line_count == 0 and data.opening == data.closing == Decimal("56.900")
    text = pdf_text(render_statement(data, site_url=SITE), tmp_path)
    assert "No movements in this period" in text and "لا توجد حركات في هذه الفترة" in text
    assert amounts_on(text, "Closing balance") == [Decimal("56.900")]


@needs_poppler
def test_long_names_take_a_line_each_and_an_arabic_memo_goes_on_the_arabic_side(tmp_path):
    wallet = march_wallet()
    name_en = "Abdullah bin Salim bin Hamad Al-Harthy Trading and Contracting"
    name_ar = "شركة عبدالله بن سالم بن حمد الحارثي للتجارة والمقاولات"
    Holder.objects.filter(pk=wallet.holder_id).update(name_en=name_en, name_ar=name_ar)
    # booked after the wallet's last movement (1 April): per account, time order is the order of its balances
    fine = pay(wallet, muscat("2025-04-20"), "1.000")
    refund(fine, muscat("2025-04-21"), "0.500", reason="إلغاء المخالفة بعد التظلم " * 8)
    data = statement_data(find_wallet(wallet.number), dt.date(2025, 3, 1), dt.date(2025, 4, 30))
    assert first_header(data) == FIRST_HEADER + FIELD_STEP
    text = pdf_text(render_statement(data, site_url=SITE), tmp_path)
    # The cut memo ends in an ellipsis ("..." once normalised); poppler reads the colon after the label apart.
    for expected in (name_en, name_ar, "إلغاء المخالفة بعد التظلم", "استرداد", "...", "Closing balance"):
        assert expected in text, f"{expected!r} missing from:\n{text}"


@needs_poppler
def test_page_one_matches_the_golden_image(tmp_path, settings):
    """A fixed dataset (fixed dates, account number, key and issue time) drawn at low resolution."""
    settings.SECRET_KEY = "golden-statement-key-" + "x" * 40
    body = "2025031"
    with mock.patch("ledger.wallets.account_numbers.new_number", return_value=body + account_numbers.check_digit(body)):
        wallet = march_wallet()
    with at(muscat("2025-04-02", 10, 30)):
        data = statement_data(wallet, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    (png,) = pdf_pngs(render_statement(data, site_url=SITE), tmp_path, dpi=GOLDEN_DPI, name="golden")
    if os.environ.get("ERIAL_REGEN_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        Image.open(png).convert("L").save(GOLDEN, optimize=True)
    assert GOLDEN.exists(), f"no golden image: run with ERIAL_REGEN_GOLDEN=1 to create {GOLDEN}"
    rendered, golden = Image.open(png).convert("L"), Image.open(GOLDEN).convert("L")
    assert rendered.size == golden.size
    difference = ImageStat.Stat(ImageChops.difference(rendered, golden)).mean[0]
    assert difference < GOLDEN_TOLERANCE, f"page 1 differs from {GOLDEN.name} by {difference:.2f} (mean grey level)"


def test_streams_are_only_compressed_and_reportlabs_default_is_left_as_it_was():
    """A long statement's streams skip ASCII85 (slow, a quarter larger); other documents keep the default."""
    data = statement_data(march_wallet(), dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    default = rl_config.useA85
    pdf = render_statement(data, site_url=SITE)
    assert b"/FlateDecode" in pdf and b"ASCII85Decode" not in pdf
    assert rl_config.useA85 == default
    with mock.patch("reports.statement_pdf.Canvas.save", side_effect=OSError("disk full")), pytest.raises(OSError):
        render_statement(data, site_url=SITE)
    assert rl_config.useA85 == default


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2025-03-10", "2025-03-09", "period_reversed"),
        ("2025-01-01", "2026-01-02", "period_too_long"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(start, end, reason):
    with pytest.raises(InvalidRequest) as refusal:
        statement_data(open_wallet(), dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert refusal.value.extra["reason"] == reason


def test_a_period_ending_in_the_future_is_refused_and_today_is_not():
    wallet = open_wallet("5.000")
    with pytest.raises(InvalidRequest) as refusal:
        statement_data(wallet, today(), today() + dt.timedelta(days=1))
    assert refusal.value.extra["reason"] == "period_in_future"
    assert statement_data(wallet, today(), today()).closing == Decimal("5.000")


# --- the command ------------------------------------------------------------------------------------


def test_the_command_writes_the_statement(tmp_path, capsys):
    wallet = march_wallet()
    out = tmp_path / "march.pdf"
    call_command("statement", wallet.number, "--from", "2025-03-01", "--to", "2025-03-31", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF-")
    assert "5 movements, closing balance 59.400 OMR" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["march.pdf"]


@pytest.mark.parametrize(
    ("account", "start", "end", "message"),
    [
        ("known", "2025-03-10", "2025-03-01", "before it starts"),
        ("known", "2025-03-01", "2999-01-01", "in the future"),
        ("known", "2025-03-01", "31/03/2025", "--to must be a date like"),
        ("12345678", "2025-03-01", "2025-03-31", "mistyped"),
        ("unknown", "2025-03-01", "2025-03-31", "No e-Rial account"),
    ],
)
def test_the_command_refuses_bad_input_and_writes_nothing(account, start, end, message, tmp_path):
    wallet = open_wallet()
    if account == "known":
        account = wallet.number
    elif account == "unknown":
        account = unknown_number()
    out = tmp_path / "statement.pdf"
    with pytest.raises(CommandError, match=message):
        call_command("statement", account, "--from", start, "--to", end, "--out", str(out))
    assert list(tmp_path.iterdir()) == []


# --- the API ----------------------------------------------------------------------------------------


def api_get(client, number: str, query: str = "from=2025-03-01&to=2025-03-31"):
    return client.get(f"/api/v1/accounts/{number}/statement/?{query}")


@pytest.mark.parametrize("role", ["owner", Role.FINANCE, Role.ADMIN])
def test_the_api_answers_the_pdf_to_the_owner_finance_and_admin(role):
    owner = make_user(Role.CUSTOMER)
    wallet = march_wallet(owner)
    response = api_get(client_for(owner if role == "owner" else make_user(role)), wallet.number)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    assert f'filename="statement-{wallet.number}-2025-03-01-2025-03-31.pdf"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"


def test_the_api_refuses_with_problems_and_hides_other_wallets():
    owner = make_user(Role.CUSTOMER)
    wallet = march_wallet(owner)
    client = client_for(owner)
    assert_problem(api_get(client_for(make_user(Role.CUSTOMER)), wallet.number), 404, "not_found")
    assert_problem(api_get(client_for(make_user(Role.AGENT)), wallet.number), 403, "forbidden")
    assert_problem(api_get(client, "12345678"), 400, "invalid_request")  # check digit
    assert_problem(api_get(client_for(make_user(Role.FINANCE)), unknown_number()), 404, "not_found")
    for query, field in [
        ("from=2025-03-10&to=2025-03-01", "to"),
        ("from=2025-03-01&to=2999-12-31", "to"),
        ("from=2025-03-01", "to"),
        ("from=2025-3-1&to=2025-03-31", "from"),
        ("from=2025-03-01&to=2025-03-31&form=x", "form"),
    ]:
        problem = assert_problem(api_get(client, wallet.number, query), 400, "invalid_request")
        assert problem["field"] == field
    response = client.get(f"/api/v1/accounts/{wallet.number}/statement/", HTTP_ACCEPT="application/pdf")
    assert_problem(response, 400, "invalid_request")  # a refusal is problem+json even when a PDF was asked for
    json_only = client.get(
        f"/api/v1/accounts/{wallet.number}/statement/?from=2025-03-01&to=2025-03-31", HTTP_ACCEPT="application/json"
    )
    assert json_only.status_code == 200 and json_only["Content-Type"] == "application/pdf"  # there is no JSON form


# --- the portal -------------------------------------------------------------------------------------


def portal_customer() -> tuple[Client, Wallet]:
    user = make_user(Role.CUSTOMER)
    wallet = march_wallet(user)
    client = Client()
    client.force_login(user)
    return client, wallet


def test_the_dashboard_offers_this_months_statement_and_downloads_it():
    client, _ = portal_customer()
    html = client.get("/portal/").content.decode()
    month = today().replace(day=1).isoformat()
    assert 'action="/portal/statement/"' in html
    assert f'name="from" required max="{today().isoformat()}" dir="ltr" value="{month}"' in html
    assert f'value="{today().isoformat()}"' in html
    response = client.get("/portal/statement/", {"from": "2025-03-01", "to": "2025-03-31"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "The period ends before it starts."), ("ar", "تنتهي الفترة قبل أن تبدأ.")],
)
def test_the_portal_says_why_a_period_is_refused_in_the_page_language(language, expected):
    client, _ = portal_customer()
    client.cookies["django_language"] = language
    response = client.get("/portal/statement/", {"from": "2025-03-10", "to": "2025-03-01"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert expected in html and 'value="2025-03-10"' in html


def test_the_portal_statement_page_without_dates_offers_the_form():
    client, _ = portal_customer()
    response = client.get("/portal/statement/")
    assert response.status_code == 200 and 'name="from"' in response.content.decode()
    response = client.get("/portal/statement/", {"from": "2025-03-01"})
    assert response.status_code == 400 and "Give both dates of the period." in response.content.decode()


def test_the_portal_statement_is_only_for_a_logged_in_holder():
    response = Client().get("/portal/statement/", {"from": "2025-03-01", "to": "2025-03-31"})
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
    staff = Client()
    staff.force_login(make_user(Role.FINANCE))
    assert staff.get("/portal/statement/", {"from": "2025-03-01", "to": "2025-03-31"}).status_code == 403


# --- verification -----------------------------------------------------------------------------------


def verify(number: str, start: str, end: str, code: str):
    return Client().get(f"/verify/statement/{number}/{start}/{end}/{code}/")


def issued(wallet: Wallet, start: str = "2025-03-01", end: str = "2025-03-31") -> Statement:
    return statement_data(wallet, dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def test_a_genuine_statement_verifies_with_a_masked_summary():
    wallet = march_wallet()
    data = issued(wallet)
    response = Client().get(verification_path(data))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("Genuine statement", "كشف حساب صحيح", "S*** Al-H***", "س*** الح***", f"*****{wallet.number[-3:]}"):
        assert shown in html
    for shown in ("2025-03-01", "2025-03-31", "40.000 OMR", "59.400 OMR", "59.400 ر.ع.", '<td class="num">5</td>'):
        assert shown in html
    assert "Salim" not in html and "الحارثي" not in html
    code = statement_code(data)
    assert verify(wallet.number, "2025-03-01", "2025-03-31", f"{code[:5]}-{code[5:]}".lower()).status_code == 200


def test_an_altered_period_or_code_or_account_is_not_genuine():
    wallet = march_wallet()
    code = statement_code(issued(wallet))
    wrong = ("A" if code[0] != "A" else "B") + code[1:]
    other = open_wallet()
    for number, start, end, typed in [
        (wallet.number, "2025-03-02", "2025-03-31", code),
        (wallet.number, "2025-03-01", "2025-03-30", code),
        (wallet.number, "2025-03-01", "2025-03-31", wrong),
        (other.number, "2025-03-01", "2025-03-31", code),
        ("12345678", "2025-03-01", "2025-03-31", code),
        (wallet.number, "2025-03-31", "2025-03-01", code),
        (wallet.number, "yesterday", "2025-03-31", code),
        (wallet.number, "2025-03-01", "2025-03-31", "not-a-code"),
    ]:
        response = verify(number, start, end, typed)
        assert response.status_code == 404, (number, start, end, typed)
        assert "Not a genuine statement" in response.content.decode() and "59.400" not in response.content.decode()


def test_a_statement_issued_during_its_last_day_still_verifies_after_later_movements():
    wallet = open_wallet()
    deposit(wallet, muscat("2025-05-10", 8), "10.000")
    with at(muscat("2025-05-10", 9)):
        morning = statement_data(wallet, dt.date(2025, 5, 1), dt.date(2025, 5, 10))
    pay(wallet, muscat("2025-05-10", 11), "2.000")
    response = Client().get(verification_path(morning))
    assert response.status_code == 200
    assert "10.000 OMR" in response.content.decode() and '<td class="num">1</td>' in response.content.decode()
    evening = issued(wallet, "2025-05-01", "2025-05-10")
    assert evening.closing == Decimal("7.900")
    assert "7.900 OMR" in Client().get(verification_path(evening)).content.decode()


def test_statements_verify_after_the_key_is_rotated(settings):
    wallet = march_wallet()
    path = verification_path(issued(wallet))
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-" + "y" * 40
    assert Client().get(path).status_code == 404
    settings.SECRET_KEY_FALLBACKS = [old]
    assert Client().get(path).status_code == 200
