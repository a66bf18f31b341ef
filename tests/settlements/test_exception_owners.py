"""Reconciliation exceptions have an owner: the default owner of their source when they open, then whoever
finance assigns them to. The service (``settlements.services.assign``) and the queue's admin actions, used as a
finance officer would: through the test client.
"""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from erial.errors import Forbidden, InvalidRequest, InvalidTransition
from erial.roles import Role
from ledger.businessday import today
from settlements import services
from settlements.models import ExceptionKind, ExceptionStatus, ReconException
from settlements.reconciliation import reconcile_day
from tests.api.conftest import make_user
from tests.settlements.test_reconciliation import paid_online
from tests.web.test_finance_admin import act, messages_of, staff, unknown_credit

pytestmark = pytest.mark.django_db

QUEUE = "/admin/settlements/reconexception/"


def assignment(exception: ReconException) -> tuple:
    return ReconException.objects.values_list("owner_id", "assigned_by_id", "assigned_at", "status").get(
        pk=exception.pk
    )


# --- the default owner when an exception opens ------------------------------------------------------


def test_an_exception_opens_with_its_sources_default_owner(settings):
    bank_owner, gateway_owner = staff(Role.FINANCE), staff(Role.FINANCE)
    settings.ERIAL_EXCEPTION_OWNERS = {"bank": bank_owner.username, "gateway": gateway_owner.username}
    before = timezone.now()
    exception = unknown_credit()
    assert exception.owner == bank_owner
    assert exception.assigned_by is None  # nobody: the default, given when it opened
    assert exception.assigned_at is not None and exception.assigned_at >= before

    # An exception about a ledger entry (no statement line) takes the owner of the source it was looked for on.
    missing = paid_online("card", "3.000")
    reconcile_day(day=today(), source="gateway")
    flagged = ReconException.objects.get(kind=ExceptionKind.MISSING_FROM_STATEMENT, entry_id=missing.entry_id)
    assert flagged.source == "gateway" and flagged.owner == gateway_owner


def test_without_a_default_owner_an_exception_opens_unassigned(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {"bank": "", "gateway": ""}
    exception = unknown_credit()
    assert (exception.owner, exception.assigned_by, exception.assigned_at) == (None, None, None)


@pytest.mark.parametrize("who", ["inactive", "not_staff", "not_finance", "admin", "nobody"])
def test_a_default_owner_who_cannot_own_it_leaves_it_unassigned_and_says_so(settings, caplog, who):
    people = {
        "inactive": lambda: _deactivated(staff(Role.FINANCE)),
        "not_staff": lambda: make_user(Role.FINANCE),
        "not_finance": lambda: staff(Role.AGENT),
        "admin": lambda: staff(Role.ADMIN, superuser=True),
    }
    username = people[who]().username if who in people else "no-such-user"
    settings.ERIAL_EXCEPTION_OWNERS = {"bank": username}
    with caplog.at_level(logging.WARNING, logger="settlements.models"):
        exception = unknown_credit()  # the night's run does not fail over it
    assert exception.owner is None and exception.assigned_at is None
    assert any(username in record.getMessage() for record in caplog.records)


def test_running_the_day_again_keeps_the_owner_finance_gave(settings):
    default_owner, colleague = staff(Role.FINANCE), staff(Role.FINANCE)
    settings.ERIAL_EXCEPTION_OWNERS = {"bank": default_owner.username}
    exception = unknown_credit()
    services.assign(exception=exception, assignee=colleague, actor=default_owner)
    reconcile_day(day=exception.business_day, source="bank")
    assert ReconException.objects.filter(line=exception.line).count() == 1
    exception.refresh_from_db()
    assert (exception.owner, exception.assigned_by) == (colleague, default_owner)


def _deactivated(user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


# --- assigning: the service -------------------------------------------------------------------------


def test_finance_assigns_and_reassigns_keeping_who_and_when(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    lead, first, second = staff(Role.FINANCE), staff(Role.FINANCE), staff(Role.FINANCE)
    services.assign(exception=exception, assignee=first, actor=lead)
    exception.refresh_from_db()
    assert (exception.owner, exception.assigned_by) == (first, lead)
    first_at = exception.assigned_at

    services.assign(exception=exception, assignee=second, actor=first)  # handed on
    exception.refresh_from_db()
    assert (exception.owner, exception.assigned_by) == (second, first)
    assert exception.assigned_at >= first_at

    before = assignment(exception)
    services.assign(exception=exception, assignee=second, actor=lead)  # already theirs: nothing written
    assert assignment(exception) == before


def test_an_exception_with_a_proposal_can_be_handed_on(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    maker, other = staff(Role.FINANCE), staff(Role.FINANCE)
    services.propose(exception=exception, action="write_off", actor=maker, note="Unknown depositor")
    services.assign(exception=exception, assignee=other, actor=maker)
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.PROPOSED and exception.owner == other


def test_refusals_write_nothing(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    finance, colleague = staff(Role.FINANCE), staff(Role.FINANCE)
    services.assign(exception=exception, assignee=colleague, actor=finance)
    before = assignment(exception)

    for actor in (staff(Role.AGENT), staff(Role.ADMIN, superuser=True), make_user(None)):
        with pytest.raises(Forbidden, match="Only finance assigns"):
            services.assign(exception=exception, assignee=finance, actor=actor)
    for assignee in (
        _deactivated(staff(Role.FINANCE)),
        make_user(Role.FINANCE),  # a finance login that cannot open the queue
        staff(Role.AGENT),
        staff(Role.ADMIN, superuser=True),  # admins read the queue; finance resolves
    ):
        with pytest.raises(InvalidRequest, match="not an active finance user"):
            services.assign(exception=exception, assignee=assignee, actor=finance)
    with pytest.raises(InvalidRequest):
        services.assign(exception=exception, assignee=None, actor=finance)
    assert assignment(exception) == before


def test_a_resolved_exception_is_not_reassigned(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    maker, checker = staff(Role.FINANCE), staff(Role.FINANCE)
    proposal = services.propose(exception=exception, action="write_off", actor=maker, note="Unknown depositor")
    services.approve(resolution=proposal, actor=checker)
    before = assignment(exception)
    with pytest.raises(InvalidTransition, match="resolved"):
        services.assign(exception=exception, assignee=checker, actor=checker)
    assert assignment(exception) == before


def test_a_maker_proposing_on_an_unassigned_exception_takes_it(settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    unowned, owned = unknown_credit(), unknown_credit()
    maker, owner = staff(Role.FINANCE), staff(Role.FINANCE)
    services.assign(exception=owned, assignee=owner, actor=owner)
    for exception in (unowned, owned):
        services.propose(exception=exception, action="write_off", actor=maker, note="x")
    unowned.refresh_from_db()
    owned.refresh_from_db()
    assert (unowned.owner, unowned.assigned_by) == (maker, maker) and unowned.assigned_at is not None
    assert (owned.owner, owned.assigned_by) == (owner, owner)  # proposing does not take it from its owner


# --- the queue in the back office -------------------------------------------------------------------


def test_assign_to_me_and_the_mine_and_unassigned_filters(client, settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    mine, theirs, nobodys = unknown_credit(), unknown_credit(), unknown_credit()
    me, colleague = staff(Role.FINANCE), staff(Role.FINANCE)
    services.assign(exception=theirs, assignee=colleague, actor=colleague)
    client.force_login(me)

    response = act(client, QUEUE, "assign_to_me", [mine.pk])
    assert response.status_code == 200
    assert "1 exception assigned to you." in messages_of(response)
    mine.refresh_from_db()
    assert (mine.owner, mine.assigned_by) == (me, me)

    def shown(**query) -> set[int]:
        return {exception.pk for exception in client.get(QUEUE, query).context["cl"].result_list}

    assert shown(owner="mine") == {mine.pk}
    assert shown(owner="unassigned") == {nobodys.pk}
    assert shown() == {mine.pk, theirs.pk, nobodys.pk}
    page = client.get(QUEUE).text
    assert "Mine" in page and "Unassigned" in page and me.username in page and colleague.username in page


def test_assign_to_a_finance_user_chosen_from_the_menu(client, settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    first, second = unknown_credit(), unknown_credit()
    lead = staff(Role.FINANCE)
    colleague = staff(Role.FINANCE)
    colleague.first_name, colleague.last_name = "Maryam", "Al-Balushi"
    colleague.save()
    agent, administrator = staff(Role.AGENT), staff(Role.ADMIN, superuser=True)
    client.force_login(lead)

    menu = client.get(QUEUE).text
    assert f'<option value="{colleague.pk}">Maryam Al-Balushi</option>' in menu
    assert f'<option value="{agent.pk}">' not in menu and f'<option value="{administrator.pk}">' not in menu

    response = act(client, QUEUE, "assign_to", [first.pk, second.pk], assignee=str(colleague.pk))
    assert "2 exceptions assigned to Maryam Al-Balushi." in messages_of(response)
    for exception in (first, second):
        exception.refresh_from_db()
        assert (exception.owner, exception.assigned_by) == (colleague, lead)

    detail = client.get(f"{QUEUE}{first.pk}/change/").text
    assert "Assigned by" in detail and "Assigned at" in detail and lead.username in detail


@pytest.mark.parametrize(
    ("assignee", "message"),
    [("", "Choose the finance user to assign to."), ("abc", "Choose the finance user to assign to.")],
)
def test_assign_to_without_a_choice_says_so(client, settings, assignee, message):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    client.force_login(staff(Role.FINANCE))
    response = act(client, QUEUE, "assign_to", [exception.pk], assignee=assignee)
    assert message in messages_of(response)
    assert assignment(exception)[:3] == (None, None, None)


def test_the_queue_shows_the_services_refusals_and_assigns_the_rest(client, settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    resolved, still_open = unknown_credit(), unknown_credit()
    maker, checker = staff(Role.FINANCE), staff(Role.FINANCE)
    proposal = services.propose(exception=resolved, action="write_off", actor=maker, note="x")
    services.approve(resolution=proposal, actor=checker)
    before = assignment(resolved)
    client.force_login(checker)

    response = act(client, QUEUE, "assign_to_me", [resolved.pk, still_open.pk])
    said = messages_of(response)
    assert f"Exception {resolved.pk}: Exception {resolved.pk} is resolved: it is not reassigned." in said
    assert "1 exception assigned to you." in said
    assert assignment(resolved) == before
    still_open.refresh_from_db()
    assert still_open.owner == checker

    agent = staff(Role.AGENT)
    response = act(client, QUEUE, "assign_to", [still_open.pk], assignee=str(agent.pk))
    assert any("is not an active finance user" in message for message in messages_of(response))
    still_open.refresh_from_db()
    assert still_open.owner == checker


def test_admins_read_the_owners_but_only_finance_assigns(client, settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    client.force_login(staff(Role.ADMIN, superuser=True))
    page = client.get(QUEUE)
    assert page.status_code == 200 and "assign_to_me" not in page.text
    act(client, QUEUE, "assign_to_me", [exception.pk])
    assert assignment(exception)[:3] == (None, None, None)


def test_the_owner_actions_speak_arabic(client, settings):
    settings.ERIAL_EXCEPTION_OWNERS = {}
    exception = unknown_credit()
    client.force_login(staff(Role.FINANCE))
    page = client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="ar").text
    for arabic in ("إسناد إليّ", "إسناد إلى موظف المالية المختار أعلاه", "المسندة إليّ", "غير مسندة", "إسناد إلى"):
        assert arabic in page, arabic
    data = {"action": "assign_to_me", "_selected_action": [exception.pk], "index": 0}
    response = client.post(QUEUE, data, follow=True, HTTP_ACCEPT_LANGUAGE="ar")
    assert "الاستثناءات المسندة إليك: 1" in messages_of(response)
