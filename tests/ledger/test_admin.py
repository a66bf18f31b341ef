"""The back office: finance changes the fee without a deploy; history is kept; money is never edited."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from erial.roles import Role, grant
from ledger.models import FeeRate, Service
from ledger.payments import fee_in_force

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", password="pw-123456")
    client.force_login(user)
    return client, user


def test_finance_schedules_a_new_fee_from_the_admin(admin_client):
    client, user = admin_client
    starts = timezone.localtime() + dt.timedelta(days=1)
    response = client.post(
        "/admin/ledger/feerate/add/",
        {
            "effective_from_0": starts.strftime("%Y-%m-%d"),
            "effective_from_1": starts.strftime("%H:%M:%S"),
            "fee": "0.150",
            "note": "Council decision 12/2026",
        },
    )
    assert response.status_code == 302, response.content
    rate = FeeRate.objects.get(note="Council decision 12/2026")
    assert rate.created_by == user
    assert fee_in_force() == Decimal("0.100")  # the launch fee stays in force until the new one starts
    assert fee_in_force(starts + dt.timedelta(seconds=1)) == Decimal("0.150")


@pytest.mark.parametrize(
    ("fee", "days", "message"),
    [("0.1505", 1, "3 decimal places"), ("0.200", -1, "now or later"), ("-0.100", 1, "zero or more")],
)
def test_bad_fees_are_refused(admin_client, fee, days, message):
    client, _ = admin_client
    starts = timezone.localtime() + dt.timedelta(days=days)
    count = FeeRate.objects.count()
    response = client.post(
        "/admin/ledger/feerate/add/",
        {
            "effective_from_0": starts.strftime("%Y-%m-%d"),
            "effective_from_1": starts.strftime("%H:%M:%S"),
            "fee": fee,
        },
    )
    assert response.status_code == 200 and message in response.text
    assert FeeRate.objects.count() == count


def test_fees_cannot_be_edited_or_deleted(admin_client):
    client, _ = admin_client
    rate = FeeRate.objects.first()
    assert client.post(f"/admin/ledger/feerate/{rate.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"/admin/ledger/feerate/{rate.pk}/change/")
    assert page.status_code == 200 and 'name="fee"' not in page.text


LEDGER_LISTS = [
    "/admin/ledger/wallet/",
    "/admin/ledger/holder/",
    "/admin/ledger/payment/",
    "/admin/ledger/service/",
    "/admin/ledger/account/",
    "/admin/ledger/entry/",
]


@pytest.mark.parametrize("url", LEDGER_LISTS)
def test_back_office_lists_render(admin_client, url):
    call_command("seed_demo")
    client, _ = admin_client
    assert client.get(url).status_code == 200


@pytest.fixture
def finance_client(client):
    user = get_user_model().objects.create_user("fin-officer", password="pw-finance-123", is_staff=True)
    grant(user, Role.FINANCE)
    client.force_login(user)
    return client, user


@pytest.mark.parametrize("url", [*LEDGER_LISTS, "/admin/ledger/feerate/", "/admin/ledger/dayseal/"])
def test_finance_reads_the_ledger_in_the_back_office(finance_client, url):
    call_command("seed_demo")
    client, _ = finance_client
    assert client.get(url).status_code == 200


def test_finance_schedules_the_fee_but_changes_nothing_else_in_the_ledger(finance_client):
    call_command("seed_demo")
    client, user = finance_client
    starts = timezone.localtime() + dt.timedelta(days=1)
    form = {"effective_from_0": starts.strftime("%Y-%m-%d"), "effective_from_1": starts.strftime("%H:%M:%S")}
    response = client.post("/admin/ledger/feerate/add/", {**form, "fee": "0.150", "note": "Tariff 2027"})
    assert response.status_code == 302, response.content
    assert FeeRate.objects.get(note="Tariff 2027").created_by == user
    service = Service.objects.first()
    page = client.post(f"/admin/ledger/service/{service.pk}/change/", {"name_en": "Renamed", "is_active": ""})
    assert page.status_code == 403
    assert Service.objects.get(pk=service.pk).name_en == service.name_en
    assert client.get("/admin/ledger/service/add/").status_code == 403
    assert client.get("/admin/ledger/wallet/add/").status_code == 403


def test_a_staff_login_without_a_back_office_role_reads_no_ledger_page(client):
    user = get_user_model().objects.create_user("staff-nobody", password="pw-nobody-123", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/ledger/payment/").status_code == 403


def test_a_model_permission_handed_out_by_mistake_opens_no_ledger_page_without_the_role(client):
    """Django's permissions alone are not the back office: the ledger's pages also need finance or admin."""
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("staff-perms", password="pw-perms-123", is_staff=True)
    codenames = ["view_payment", "view_entry", "view_wallet", "view_service", "add_feerate", "view_feerate"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger", codename__in=codenames))
    client.force_login(user)
    for url in ["/admin/ledger/payment/", "/admin/ledger/entry/", "/admin/ledger/wallet/", "/admin/ledger/service/"]:
        assert client.get(url).status_code == 403, url
    count = FeeRate.objects.count()
    starts = timezone.localtime() + dt.timedelta(days=1)
    form = {"effective_from_0": starts.strftime("%Y-%m-%d"), "effective_from_1": starts.strftime("%H:%M:%S")}
    assert client.post("/admin/ledger/feerate/add/", {**form, "fee": "9.000"}).status_code == 403
    assert FeeRate.objects.count() == count
    assert "ledger" not in client.get("/admin/").text.lower()
