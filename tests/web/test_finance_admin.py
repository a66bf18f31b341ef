"""The finance back office in Django's admin, used as a finance officer would: through the test client.

Lists render (in English and Arabic), actions call the services and show their refusals, maker-checker holds,
effective-dated rules are add-only once in force, and only finance and admin staff get in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from agents.admin import LIFECYCLE
from agents.models import CommissionRule, Limit, Office, OfficeStatus
from erial.roles import Role, grant
from ledger.businessday import today
from ledger.selectors import balance
from settlements.admin import AGE
from settlements.models import ExceptionKind, ExceptionStatus, ReconciliationRun, ReconException, ResolutionStatus
from settlements.reconciliation import reconcile_day
from settlements.selectors import AGE_BUCKETS
from tests.agents.conftest import make_office, open_session, topup
from tests.api.conftest import open_wallet
from tests.factories import D, system
from tests.settlements.test_reconciliation import paid_online, statement
from topups.models import RejectedCallback

pytestmark = pytest.mark.django_db
PASSWORD = "pw-finance-123"


def staff(*roles: Role, superuser: bool = False):
    user = get_user_model().objects.create_user(
        f"staff-{uuid.uuid4().hex[:8]}", password=PASSWORD, is_staff=True, is_superuser=superuser
    )
    for role in roles:
        grant(user, role)
    return user


@pytest.fixture
def as_user(client):
    """``as_user(user)`` -> the test client logged in as ``user``."""

    def login(user):
        client.force_login(user)
        return client

    return login


def unknown_credit(day: dt.date | None = None, amount: str = "42.000") -> ReconException:
    """A bank credit nobody in the ledger explains, reconciled: an open exception."""
    day = day or today()
    reference = f"NOBODY-{uuid.uuid4().hex[:6]}"
    statement("bank", day, [{"amount": amount, "reference": reference}])
    reconcile_day(day=day, source="bank")
    return ReconException.objects.get(kind=ExceptionKind.UNMATCHED_LINE, line__reference=reference)


def act(client, url: str, action: str, selected: list, **fields) -> object:
    """Run an admin action on the selected rows, as the changelist's form posts it; follow to the list."""
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in selected], "index": 0, **fields}
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- lists ------------------------------------------------------------------------------------------

LISTS = [
    "/admin/agents/office/",
    "/admin/agents/cashier/",
    "/admin/agents/cashiersession/",
    "/admin/agents/cashtopup/",
    "/admin/agents/limit/",
    "/admin/agents/commissionrule/",
    "/admin/topups/onlinetopup/",
    "/admin/topups/rejectedcallback/",
    "/admin/settlements/statementfile/",
    "/admin/settlements/statement/",
    "/admin/settlements/statementline/",
    "/admin/settlements/gatewaybatch/",
    "/admin/settlements/reconciliationrun/",
    "/admin/settlements/reconexception/",
    "/admin/settlements/reconexception/?status=open&kind=unmatched_line&source=bank&age=0-1",
]


@pytest.fixture
def back_office_data():
    """A bit of everything the back office lists: offices, a session with a top-up, online top-ups, a refused
    callback, a reconciled bank day with an exception, a commission rule and a limit."""
    office = make_office("external", float_="100.000")
    topup(open_session(make_office("internal")), open_wallet(), "12.000")
    paid_online("card", "4.000")
    RejectedCallback.objects.create(channel="bank", reason="bad signature", body="{}", reference="X")
    exception = unknown_credit()
    statement(
        "gateway",
        today(),
        [],
        batches=[{"batch_id": "B-LIST", "gross": D("1.000"), "fee": D("0.100"), "net": D("0.900")}],
    )
    later = timezone.now() + dt.timedelta(days=1)
    Limit.objects.create(kind="per_transaction", amount=Decimal("500.000"), effective_from=later)
    CommissionRule.objects.create(kind="percent", rate=Decimal("1.000"), office=office, effective_from=later)
    return {"office": office, "exception": exception}


@pytest.mark.parametrize("url", LISTS)
def test_finance_sees_every_back_office_list(as_user, back_office_data, url):
    response = as_user(staff(Role.FINANCE)).get(url)
    assert response.status_code == 200, url
    assert response.context["cl"].result_count >= 1, url


@pytest.mark.parametrize(
    "url", ["/admin/agents/office/{office}/change/", "/admin/settlements/reconexception/{exc}/change/"]
)
def test_detail_pages_are_read_only(as_user, back_office_data, url):
    url = url.format(office=back_office_data["office"].pk, exc=back_office_data["exception"].pk)
    response = as_user(staff(Role.FINANCE)).get(url)
    assert response.status_code == 200
    assert 'name="_save"' not in response.text  # nothing to save: services write, not forms
    assert as_user(staff(Role.FINANCE)).post(url, {"status": "active"}).status_code == 403


def test_the_back_office_speaks_arabic(as_user, back_office_data):
    client = as_user(staff(Role.FINANCE))
    page = client.get("/admin/settlements/reconexception/", HTTP_ACCEPT_LANGUAGE="ar")
    assert page.status_code == 200
    for arabic in ["المصدر", "البنك الشريك", "مفتوح", "العمر (أيام)", "اقتراح المعالجة المدخلة أعلاه", "المعالجة"]:
        assert arabic in page.text, arabic
    english = client.get("/admin/settlements/reconexception/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Statement line not in the ledger" in english.text and "البنك الشريك" not in english.text
    offices = client.get("/admin/agents/office/", HTTP_ACCEPT_LANGUAGE="ar")
    assert "وكيل خارجي" in offices.text and "نشط" in offices.text
    # the site's own name, not Django's, in both languages
    assert "المكتب الخلفي للريال الإلكتروني" in client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ar").text
    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "e-Rial back office" in index and "Django administration" not in index


def test_the_age_filter_uses_the_report_buckets(as_user):
    assert [bucket.key for bucket in AGE_BUCKETS] == list(AGE)
    now = today()
    by_age = {age: unknown_credit(now - dt.timedelta(days=age)) for age in (0, 3, 6, 10)}
    client = as_user(staff(Role.FINANCE))
    for key, age in zip(AGE, (0, 3, 6, 10), strict=True):
        shown = client.get("/admin/settlements/reconexception/", {"age": key}).context["cl"].result_list
        assert [exception.pk for exception in shown] == [by_age[age].pk], key


# --- office lifecycle ----------------------------------------------------------------------------------

OFFICES = "/admin/agents/office/"


def test_suspend_and_reinstate_go_through_the_service(as_user):
    office = make_office("internal")
    user = staff(Role.FINANCE)
    client = as_user(user)
    response = act(client, OFFICES, "suspend", [office.pk], reason="Audit pending")
    assert "1 office updated." in messages_of(response)
    office = Office.objects.get(pk=office.pk)  # status is protected: read afresh, never refreshed in place
    assert office.status == OfficeStatus.SUSPENDED
    last = office.history.first()  # the service records who and why
    assert (last.history_user, last.history_change_reason) == (user, "Audit pending")
    act(client, OFFICES, "reinstate", [office.pk], reason="Audit passed")
    assert Office.objects.get(pk=office.pk).status == OfficeStatus.ACTIVE


def test_a_refused_transition_is_shown_in_the_services_words_and_changes_nothing(as_user):
    owes = make_office("external", float_="50.000")  # the float holds money: it cannot be terminated
    client = as_user(staff(Role.FINANCE))
    act(client, OFFICES, "suspend", [owes.pk])
    response = act(client, OFFICES, "terminate", [owes.pk], reason="Contract ended")
    shown = messages_of(response)
    assert any("cannot be terminated" in message and "50.000" in message for message in shown), shown
    assert Office.objects.get(pk=owes.pk).status == OfficeStatus.SUSPENDED
    active = make_office("internal")
    response = act(client, OFFICES, "reinstate", [active.pk])
    assert any("cannot be reinstated" in message for message in messages_of(response))
    assert Office.objects.get(pk=active.pk).status == OfficeStatus.ACTIVE


def test_every_lifecycle_action_has_its_service():
    assert set(LIFECYCLE) == {"activate", "suspend", "reinstate", "terminate"}


# --- the exceptions queue: maker-checker -----------------------------------------------------------

QUEUE = "/admin/settlements/reconexception/"


def test_a_maker_proposes_and_cannot_approve_their_own_a_checker_approves(as_user, client):
    exception = unknown_credit()
    maker, checker = staff(Role.FINANCE), staff(Role.FINANCE)
    response = act(
        as_user(maker), QUEUE, "propose_resolution", [exception.pk], resolution="write_off", note="Unknown depositor"
    )
    assert "1 resolution proposed." in messages_of(response)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.PROPOSED
    proposal = exception.resolutions.get()
    assert (proposal.proposed_by, proposal.status) == (maker, ResolutionStatus.PROPOSED)

    refused = act(client, QUEUE, "approve_resolution", [exception.pk])
    assert any("Maker-checker" in message for message in messages_of(refused)), messages_of(refused)
    proposal.refresh_from_db()
    assert proposal.status == ResolutionStatus.PROPOSED and balance(system("suspense")) == Decimal("0.000")

    response = act(as_user(checker), QUEUE, "approve_resolution", [exception.pk])
    assert "1 resolution approved." in messages_of(response)
    exception.refresh_from_db()
    proposal.refresh_from_db()
    assert exception.status == ExceptionStatus.RESOLVED and proposal.decided_by == checker
    assert balance(system("suspense")) == Decimal("42.000")
    detail = client.get(f"{QUEUE}{exception.pk}/change/")
    assert "Unknown depositor" in detail.text  # the resolution, read-only, inline


def test_a_checker_rejects_and_the_exception_is_open_again(as_user):
    exception = unknown_credit()
    act(as_user(staff(Role.FINANCE)), QUEUE, "propose_resolution", [exception.pk], resolution="write_off", note="x")
    act(as_user(staff(Role.FINANCE)), QUEUE, "reject_resolution", [exception.pk], note="Find the depositor")
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN
    assert "Find the depositor" in exception.resolutions.get().note
    assert exception.resolutions.get().status == ResolutionStatus.REJECTED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"note": "x"}, "Choose a resolution"),
        ({"resolution": "write_off", "note": " "}, "Explain the resolution in a note"),
        ({"resolution": "match", "entry": "not-an-entry", "note": "x"}, "There is no ledger entry"),
        ({"resolution": "match", "entry": str(uuid.uuid4()), "note": "x"}, "There is no ledger entry"),
        ({"resolution": "adjust", "account_code": "nope", "note": "x"}, "names the ledger account"),
    ],
)
def test_bad_proposals_are_refused_and_change_nothing(as_user, fields, message):
    exception = unknown_credit()
    response = act(as_user(staff(Role.FINANCE)), QUEUE, "propose_resolution", [exception.pk], **fields)
    assert any(message in shown for shown in messages_of(response)), messages_of(response)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN and not exception.resolutions.exists()


def test_approving_without_a_proposal_says_so(as_user):
    exception = unknown_credit()
    response = act(as_user(staff(Role.FINANCE)), QUEUE, "approve_resolution", [exception.pk])
    assert any("no proposed resolution" in message for message in messages_of(response))


def test_admins_read_the_queue_but_only_finance_resolves(as_user):
    exception = unknown_credit()
    client = as_user(staff(superuser=True))
    page = client.get(QUEUE)
    assert page.status_code == 200 and "propose_resolution" not in page.text
    act(client, QUEUE, "propose_resolution", [exception.pk], resolution="write_off", note="x")
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.OPEN


# --- the reconciliation report from the run -------------------------------------------------------


def test_the_run_offers_its_report_as_a_pdf(as_user):
    unknown_credit()
    run = ReconciliationRun.objects.get()
    client = as_user(staff(Role.FINANCE))
    listing = client.get("/admin/settlements/reconciliationrun/")
    link = f"/admin/settlements/reconciliationrun/{run.pk}/report.pdf"
    assert link in listing.text
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    download = client.post(
        "/admin/settlements/reconciliationrun/",
        {"action": "download_report", helpers.ACTION_CHECKBOX_NAME: [run.pk], "index": 0},
    )
    assert download["Content-Type"] == "application/pdf"
    assert f"reconciliation-bank-{run.business_day}" in download["Content-Disposition"]


def test_the_report_action_wants_exactly_one_run(as_user):
    unknown_credit(today())
    unknown_credit(today() - dt.timedelta(days=1))
    runs = list(ReconciliationRun.objects.values_list("pk", flat=True))
    response = act(as_user(staff(Role.FINANCE)), "/admin/settlements/reconciliationrun/", "download_report", runs)
    assert any("Select one run" in message for message in messages_of(response))


# --- who gets in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, Role.AGENT, Role.CUSTOMER, Role.SERVICE])
def test_staff_without_the_finance_or_admin_role_are_refused_even_with_permissions(as_user, role, back_office_data):
    user = staff(*([role] if role else []))
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["agents", "settlements"]))
    client = as_user(user)
    for url in ["/admin/agents/office/", QUEUE, "/admin/settlements/reconciliationrun/1/report.pdf"]:
        assert client.get(url).status_code == 403, url
    assert "/admin/settlements/" not in client.get("/admin/").text
    act(client, OFFICES, "suspend", [back_office_data["office"].pk])
    assert Office.objects.get(pk=back_office_data["office"].pk).status == OfficeStatus.ACTIVE


def test_finance_without_staff_status_is_sent_to_the_login(client):
    user = get_user_model().objects.create_user("finance-not-staff", password=PASSWORD)
    grant(user, Role.FINANCE)
    client.force_login(user)
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_finance_index_lists_the_back_office(as_user):
    index = as_user(staff(Role.FINANCE)).get("/admin/")
    for url in ["/admin/agents/office/", "/admin/topups/onlinetopup/", "/admin/settlements/reconexception/"]:
        assert url in index.text, url


# --- effective-dated rules: add-only once in force ------------------------------------------------


def when(days: float) -> dict[str, str]:
    moment = timezone.localtime() + dt.timedelta(days=days)
    return {"effective_from_0": moment.strftime("%Y-%m-%d"), "effective_from_1": moment.strftime("%H:%M:%S")}


def test_finance_adds_a_limit_that_starts_later(as_user):
    client = as_user(staff(Role.FINANCE))
    response = client.post(
        "/admin/agents/limit/add/", {"kind": "per_transaction", "amount": "250.000", "note": "Board 3/2026", **when(1)}
    )
    assert response.status_code == 302, response.text
    assert Limit.objects.get(note="Board 3/2026").amount == Decimal("250.000")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "per_transaction", "amount": "250.0005", **when(1)}, "3 decimal places"),
        ({"kind": "per_transaction", "amount": "0.000", **when(1)}, "more than zero"),
        ({"kind": "per_transaction", "amount": "250.000", **when(-1)}, "starts now or later"),
        ({"kind": "no_such_kind", "amount": "250.000", **when(1)}, "Select a valid choice"),
    ],
)
def test_bad_limits_are_refused(as_user, data, message):
    count = Limit.objects.count()
    response = as_user(staff(Role.FINANCE)).post("/admin/agents/limit/add/", data)
    assert response.status_code == 200 and message in response.text
    assert Limit.objects.count() == count


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "percent", "rate": "101.000", "minimum": "0.000", **when(1)}, "at most 100"),
        ({"kind": "flat", "rate": "0.500", "minimum": "0.300", "maximum": "0.200", **when(1)}, "not below the minimum"),
        ({"kind": "flat", "rate": "0.500", "minimum": "0.000", "office": "INTERNAL", **when(1)}, "Only external"),
    ],
)
def test_bad_commission_rules_are_refused(as_user, data, message):
    if data.get("office") == "INTERNAL":
        data = {**data, "office": make_office("internal").pk}
    count = CommissionRule.objects.count()
    response = as_user(staff(Role.FINANCE)).post("/admin/agents/commissionrule/add/", data)
    assert response.status_code == 200 and message in response.text
    assert CommissionRule.objects.count() == count


def test_a_rule_in_force_cannot_be_edited_or_deleted_a_later_one_supersedes_it(as_user):
    rule = Limit.objects.create(
        kind="per_transaction", amount=Decimal("100.000"), effective_from=timezone.now() - dt.timedelta(days=1)
    )
    client = as_user(staff(Role.FINANCE))
    page = client.get(f"/admin/agents/limit/{rule.pk}/change/")
    assert page.status_code == 200 and 'name="amount"' not in page.text
    assert client.post(f"/admin/agents/limit/{rule.pk}/change/", {"amount": "1.000", **when(1)}).status_code == 403
    assert client.post(f"/admin/agents/limit/{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in client.get("/admin/agents/limit/").text
    rule.refresh_from_db()
    assert rule.amount == Decimal("100.000")
    response = client.post("/admin/agents/limit/add/", {"kind": "per_transaction", "amount": "150.000", **when(0.01)})
    assert response.status_code == 302
    assert Limit.objects.filter(kind="per_transaction").count() == 2  # the new row supersedes, the old one stays


def test_a_rule_not_yet_in_force_can_be_corrected_or_withdrawn(as_user):
    rule = CommissionRule.objects.create(
        kind="flat", rate=Decimal("0.200"), effective_from=timezone.now() + dt.timedelta(days=2)
    )
    client = as_user(staff(Role.FINANCE))
    response = client.post(
        f"/admin/agents/commissionrule/{rule.pk}/change/",
        {"kind": "flat", "rate": "0.250", "minimum": "0.000", **when(2)},
    )
    assert response.status_code == 302, response.text
    rule.refresh_from_db()
    assert rule.rate == Decimal("0.250")
    assert client.post(f"/admin/agents/commissionrule/{rule.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CommissionRule.objects.filter(pk=rule.pk).exists()
