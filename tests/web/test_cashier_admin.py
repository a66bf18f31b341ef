"""Admins add cashiers in the back office: a new login for one office, through ``agents.services``."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from agents import services
from agents.models import Cashier, OfficeStatus
from erial.errors import AlreadyExists, InvalidRequest
from erial.roles import Role, roles_of
from tests.agents.conftest import make_office, open_session
from tests.web.test_finance_admin import act, messages_of, staff

pytestmark = pytest.mark.django_db
ADD = "/admin/agents/cashier/add/"
GOOD_PASSWORD = "Counter-Shift-2026"


def form(office, **fields) -> dict:
    return {
        "office": office.pk,
        "username": "cashier.salma",
        "full_name": "Salma Al Harthy",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **fields,
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def users() -> int:
    return get_user_model().objects.count()


def test_an_admin_adds_a_cashier_who_can_then_sign_in_at_the_counter():
    office = make_office("internal")
    response = logged_in(staff(Role.ADMIN)).post(ADD, form(office, is_supervisor="on"))
    assert response.status_code == 302, response.content[:2000]
    cashier = Cashier.objects.select_related("user").get(user__username="cashier.salma")
    user = cashier.user
    assert (cashier.office, cashier.is_supervisor) == (office, True)
    assert (user.first_name, user.last_name) == ("Salma", "Al Harthy")
    assert roles_of(user) == {Role.AGENT} and not user.is_staff and not user.is_superuser
    counter = Client()
    assert counter.login(username="cashier.salma", password=GOOD_PASSWORD)
    to_open = counter.get("/counter/")  # a cashier with no open session is asked to open one
    assert (to_open.status_code, to_open.url) == (302, "/counter/session/open/")
    assert counter.get(to_open.url).status_code == 200


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"password2": "Something-Else-1"}, "password2", "The two passwords differ."),
        ({"password1": "Sh0rt", "password2": "Sh0rt"}, "password1", "too short"),
        ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
        ({"password1": "26548713409", "password2": "26548713409"}, "password1", "entirely numeric"),
        ({"password1": "cashier.salma1", "password2": "cashier.salma1"}, "password1", "too similar"),
        ({"username": "Taken.User"}, "username", "is taken"),
        ({"username": "ｔａｋｅｎ.user"}, "username", "is taken"),  # full-width letters: NFKC makes them taken.user
        ({"username": "salma al harthy"}, "username", "Enter a valid username"),
        ({"username": "  "}, "username", "required"),
    ],
)
def test_a_refused_cashier_shows_why_next_to_the_field_and_creates_nothing(fields, field, message):
    get_user_model().objects.create_user("taken.user", password="x")
    office, client = make_office("internal"), logged_in(staff(Role.ADMIN))
    before = users()
    response = client.post(ADD, form(office, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert users() == before and not Cashier.objects.exists()


def test_a_terminated_office_is_not_offered_and_its_id_is_refused():
    open_office, closed = make_office("internal"), make_office("internal")
    type(closed).objects.filter(pk=closed.pk).update(status=OfficeStatus.TERMINATED)
    client = logged_in(staff(Role.ADMIN))
    offered = [pk for pk, _ in client.get(ADD).context["adminform"].form.fields["office"].choices if pk]
    offered = [int(str(pk)) for pk in offered]
    assert open_office.pk in offered and closed.pk not in offered
    before = users()
    response = client.post(ADD, form(closed))
    assert response.status_code == 200 and "office" in response.context["adminform"].form.errors
    assert users() == before


def test_the_service_refuses_what_the_form_refuses():
    office = make_office("internal")
    services.enrol_cashier(office=office, username="one", password=GOOD_PASSWORD)
    before = users()
    with pytest.raises(AlreadyExists):
        services.enrol_cashier(office=office, username="ONE", password=GOOD_PASSWORD)
    with pytest.raises(InvalidRequest, match="too short"):
        services.enrol_cashier(office=office, username="two", password="Sh0rt")
    type(office).objects.filter(pk=office.pk).update(status=OfficeStatus.TERMINATED)
    office = type(office).objects.get(pk=office.pk)  # the status is an FSM field: read anew, not refreshed
    with pytest.raises(InvalidRequest, match="terminated"):
        services.enrol_cashier(office=office, username="three", password=GOOD_PASSWORD)
    assert users() == before


def test_an_admin_makes_a_cashier_supervisor_but_cannot_move_or_delete_them():
    office, other = make_office("internal"), make_office("internal")
    cashier = services.enrol_cashier(office=office, username="salim", password=GOOD_PASSWORD)
    client = logged_in(staff(Role.ADMIN))
    url = f"/admin/agents/cashier/{cashier.pk}/change/"
    response = client.post(url, {"is_supervisor": "on", "office": other.pk})
    assert response.status_code == 302
    cashier.refresh_from_db()
    assert (cashier.is_supervisor, cashier.office) == (True, office)  # the office is read-only
    assert client.post(f"/admin/agents/cashier/{cashier.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Cashier.objects.filter(pk=cashier.pk).exists()


def test_finance_reads_the_cashiers_but_cannot_add_or_change_one():
    office = make_office("internal")
    cashier = services.enrol_cashier(office=office, username="salim", password=GOOD_PASSWORD)
    client = logged_in(staff(Role.FINANCE))
    assert client.get("/admin/agents/cashier/").status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, form(office)).status_code == 403
    assert client.post(f"/admin/agents/cashier/{cashier.pk}/change/", {"is_supervisor": "on"}).status_code == 403
    cashier.refresh_from_db()
    assert not cashier.is_supervisor and Cashier.objects.count() == 1


def test_a_cashier_or_staff_without_a_back_office_role_cannot_add_cashiers():
    office = make_office("internal")
    agent = services.enrol_cashier(office=office, username="salim", password=GOOD_PASSWORD).user
    roleless = get_user_model().objects.create_user("staff.only", password=GOOD_PASSWORD, is_staff=True)
    assert logged_in(agent).get(ADD).status_code == 302  # not staff: to the admin's login page
    assert logged_in(roleless).get(ADD).status_code == 403
    assert logged_in(roleless).post(ADD, form(office)).status_code == 403
    assert Cashier.objects.count() == 1


def test_the_add_page_speaks_arabic():
    client = logged_in(staff(Role.ADMIN))
    page = client.get(ADD, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page and "الاسم الكامل" in page and "كلمة المرور مرة أخرى" in page


LIST = "/admin/agents/cashier/"


def test_an_admin_disables_a_cashiers_login_and_enables_it_again():
    office = make_office("internal")
    cashier = services.enrol_cashier(office=office, username="salim", password=GOOD_PASSWORD)
    client = logged_in(staff(Role.ADMIN))
    response = act(client, LIST, "disable_login", [cashier.pk])
    assert "1 cashier updated." in messages_of(response)
    assert not Client().login(username="salim", password=GOOD_PASSWORD)  # the counter refuses the login
    assert Cashier.objects.filter(pk=cashier.pk).exists()  # the cashier, their sessions and top-ups stay
    act(client, LIST, "enable_login", [cashier.pk])
    assert Client().login(username="salim", password=GOOD_PASSWORD)


def test_a_cashier_with_an_open_session_keeps_the_login_until_it_is_closed():
    session = open_session(make_office("internal"))
    cashier = session.cashier
    response = act(logged_in(staff(Role.ADMIN)), LIST, "disable_login", [cashier.pk])
    assert any("has an open session" in message for message in messages_of(response))
    cashier.user.refresh_from_db()
    assert cashier.user.is_active
    with pytest.raises(InvalidRequest, match="open session"):
        services.set_cashier_login(cashier=cashier, active=False)


def test_the_user_page_too_keeps_an_open_sessions_login_active():
    """Django's own user page (admins are superusers) refuses what the cashier list's action refuses."""
    session = open_session(make_office("internal"))
    user = session.cashier.user
    client = logged_in(get_user_model().objects.create_superuser("root-admin", password=GOOD_PASSWORD))
    url = f"/admin/auth/user/{user.pk}/change/"
    assert client.get(url).status_code == 200
    # "active" unticked (an unticked box is simply not sent), everything else as it was
    body = {"username": user.username, "date_joined_0": "2026-11-01", "date_joined_1": "08:00:00"}
    response = client.post(url, body)
    assert response.status_code == 200 and "has an open session" in response.text
    user.refresh_from_db()
    assert user.is_active
    services.close_session(session=session, counted_cash=session.opening_cash, actor=user)
    assert client.post(url, body).status_code == 302  # counted and closed: now it may go
    user.refresh_from_db()
    assert not user.is_active


def test_finance_is_not_offered_the_login_actions_and_posting_one_changes_nothing():
    cashier = services.enrol_cashier(office=make_office("internal"), username="salim", password=GOOD_PASSWORD)
    client = logged_in(staff(Role.FINANCE))
    form = client.get(LIST).context["action_form"]  # None: no action at all is offered
    offered = [name for name, _ in form.fields["action"].choices] if form is not None else []
    assert "disable_login" not in offered and "enable_login" not in offered
    act(client, LIST, "disable_login", [cashier.pk])
    cashier.user.refresh_from_db()
    assert cashier.user.is_active
