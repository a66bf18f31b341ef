"""Online access for a wallet opened at an office: the activation page, through Django's test client.

A refused activation makes no login, links nothing and grants nothing; only a wrong code is counted
(that counter is the rate limit).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from erial.roles import Role, has_role
from ledger import portal_access, wallets
from ledger.models import Holder, OpeningChannel, PortalActivation, Wallet
from ledger.portal_access import ALPHABET, MAX_FAILED_ATTEMPTS, ActivationRefused
from tests.web.conftest import PASSWORD, make_customer, new_national_id

pytestmark = pytest.mark.django_db

ACTIVATE, LOGIN, DASHBOARD = "/portal/activate/", "/portal/login/", "/portal/"


@dataclass
class OfficeHolder:
    wallet: Wallet
    national_id: str
    code: str


def opened_at_office(*, staff=None) -> OfficeHolder:
    """A wallet an agent opened at the counter, and the code the holder was handed."""
    staff = staff or get_user_model().objects.create_user(f"agent-{new_national_id()}")
    national_id = new_national_id()
    wallet = wallets.open_wallet(
        holder_type="individual",
        national_id=national_id,
        phone="92345678",
        name_en="Khalid Al-Rawahi",
        name_ar="خالد الرواحي",
        channel=OpeningChannel.OFFICE,
        actor=staff,
    )
    issued = portal_access.issue_activation(holder=wallet.holder, actor=staff)
    return OfficeHolder(wallet=wallet, national_id=national_id, code=issued.code)


def form(holder: OfficeHolder, **fields) -> dict:
    return {
        "account": holder.wallet.number,
        "national_id": holder.national_id,
        "code": holder.code,
        "password1": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def world() -> tuple:
    """What a refused activation must leave as it was."""
    return (
        get_user_model().objects.count(),
        Holder.objects.filter(user__isnull=False).count(),
        PortalActivation.objects.filter(used_at__isnull=False).count(),
    )


def wrong_code(code: str) -> str:
    """The same code with its first character changed: close, and still wrong."""
    first = ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)]
    return first + code[1:]


def failures(holder: OfficeHolder) -> int:
    return PortalActivation.objects.get(holder=holder.wallet.holder, revoked_at__isnull=True).failed_attempts


# --- the code itself ------------------------------------------------------------------------------------


def test_a_code_is_ten_unambiguous_characters_in_groups_and_only_its_hash_is_kept():
    holder = opened_at_office()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{2}", holder.code)
    assert not set(holder.code.replace("-", "")) & set("01OI")
    activation = PortalActivation.objects.get(holder=holder.wallet.holder)
    stored = " ".join(str(value) for value in PortalActivation.objects.values_list().get(pk=activation.pk))
    assert holder.code not in stored and holder.code.replace("-", "") not in stored
    expected = timezone.now() + dt.timedelta(days=30)
    assert abs(activation.expires_at - expected) < dt.timedelta(minutes=1)


def test_issuing_a_new_code_revokes_the_old_one():
    holder = opened_at_office()
    newer = portal_access.issue_activation(holder=holder.wallet.holder, actor=None)
    assert PortalActivation.objects.filter(holder=holder.wallet.holder, revoked_at__isnull=True).count() == 1
    with pytest.raises(ActivationRefused):
        portal_access.activate(
            wallet_number=holder.wallet.number,
            national_id=holder.national_id,
            code=holder.code,
            username=holder.national_id,
            password=PASSWORD,
        )
    user = portal_access.activate(
        wallet_number=holder.wallet.number,
        national_id=holder.national_id,
        code=newer.code,
        username=holder.national_id,
        password=PASSWORD,
    )
    assert user.holder == holder.wallet.holder


# --- the page -------------------------------------------------------------------------------------------


def test_the_login_page_links_to_activation(client):
    page = client.get(LOGIN)
    assert f'href="{ACTIVATE}"' in page.content.decode()
    assert "Opened your account at an office?" in text_of(page)


def test_the_code_makes_a_customer_login_and_opens_the_dashboard(client):
    holder = opened_at_office()
    page = client.get(ACTIVATE)
    assert page.status_code == 200 and "Activation code" in text_of(page)

    # The code typed in lower case and without dashes, as people do
    response = client.post(ACTIVATE, form(holder, code=holder.code.replace("-", " ").lower()))

    assert response.status_code == 302 and response["Location"] == DASHBOARD
    user = get_user_model().objects.get(username=holder.national_id)
    assert has_role(user, Role.CUSTOMER)
    assert Holder.objects.get(pk=holder.wallet.holder.pk).user == user
    assert PortalActivation.objects.get(holder=holder.wallet.holder).used_at is not None
    dashboard = client.get(DASHBOARD)
    assert dashboard.status_code == 200 and holder.wallet.number[:4] in text_of(dashboard)
    # and from now on they log in like everyone else
    client.logout()
    again = client.post(LOGIN, {"username": holder.national_id, "password": PASSWORD})
    assert again.status_code == 302


@pytest.mark.parametrize("field", ["account", "national_id", "code"])
def test_a_wrong_number_id_or_code_gets_the_same_refusal_and_creates_nothing(client, field):
    holder = opened_at_office()
    other = opened_at_office()
    wrong = {"account": other.wallet.number, "national_id": other.national_id, "code": wrong_code(holder.code)}
    before = world()
    response = client.post(ACTIVATE, form(holder, **{field: wrong[field]}))
    assert response.status_code == 200
    assert "The account number, civil ID / CR number or activation code is not right." in text_of(response)
    assert world() == before
    assert "_auth_user_id" not in client.session


def test_a_mistyped_account_number_reads_the_same_as_a_wrong_one(client):
    holder = opened_at_office()
    before = world()
    mistyped = holder.wallet.number[:-1] + str((int(holder.wallet.number[-1]) + 1) % 10)
    response = client.post(ACTIVATE, form(holder, account=mistyped))
    assert "The account number, civil ID / CR number or activation code is not right." in text_of(response)
    assert world() == before


def test_five_wrong_codes_lock_the_code_even_for_the_right_one(client):
    holder = opened_at_office()
    for attempt in range(1, MAX_FAILED_ATTEMPTS + 1):
        client.post(ACTIVATE, form(holder, code=wrong_code(holder.code)))
        assert failures(holder) == attempt
    before = world()
    response = client.post(ACTIVATE, form(holder))
    assert "This activation code is locked after too many wrong tries." in text_of(response)
    assert world() == before
    # A new code from an office works again
    fresh = portal_access.issue_activation(holder=holder.wallet.holder, actor=None)
    assert client.post(ACTIVATE, form(holder, code=fresh.code)).status_code == 302


def test_four_wrong_codes_do_not_lock_it(client):
    holder = opened_at_office()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        client.post(ACTIVATE, form(holder, code=wrong_code(holder.code)))
    assert client.post(ACTIVATE, form(holder)).status_code == 302


def test_an_expired_code_is_refused(client):
    holder = opened_at_office()
    PortalActivation.objects.filter(holder=holder.wallet.holder).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    before = world()
    response = client.post(ACTIVATE, form(holder))
    assert "This activation code has expired." in text_of(response)
    assert world() == before


def test_the_expiry_follows_the_setting(settings):
    settings.ERIAL_ACTIVATION_DAYS = 3
    holder = opened_at_office()
    activation = PortalActivation.objects.get(holder=holder.wallet.holder)
    assert abs(activation.expires_at - (timezone.now() + dt.timedelta(days=3))) < dt.timedelta(minutes=1)


def test_a_used_code_cannot_be_used_again(client):
    holder = opened_at_office()
    assert client.post(ACTIVATE, form(holder)).status_code == 302
    client.logout()
    before = world()
    response = client.post(ACTIVATE, form(holder, password1="another-password-9", password2="another-password-9"))
    assert "Online access for this account is already set up. Log in instead." in text_of(response)
    assert world() == before


def test_a_holder_with_a_login_cannot_activate():
    customer = make_customer()  # registered online: has a login already
    with pytest.raises(portal_access.LoginExists):
        portal_access.issue_activation(holder=customer.wallet.holder, actor=None)


def test_a_taken_username_is_refused_and_the_code_stays_usable(client):
    holder = opened_at_office()
    get_user_model().objects.create_user(holder.national_id, password="x-unrelated-1")
    before = world()
    response = client.post(ACTIVATE, form(holder))
    assert "An online login already exists for this number." in text_of(response)
    assert world() == before
    assert PortalActivation.objects.get(holder=holder.wallet.holder).used_at is None


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [
        ("short", "short", "This password is too short."),
        (PASSWORD, PASSWORD + "x", "The two passwords are not the same."),
    ],
)
def test_a_bad_password_is_refused_without_using_the_code(client, password1, password2, message):
    holder = opened_at_office()
    before = world()
    response = client.post(ACTIVATE, form(holder, password1=password1, password2=password2))
    assert message in text_of(response)
    assert world() == before
    assert failures(holder) == 0


def test_the_service_applies_the_password_validators_itself():
    holder = opened_at_office()
    before = world()
    with pytest.raises(portal_access.InvalidRequest) as refused:
        portal_access.activate(
            wallet_number=holder.wallet.number,
            national_id=holder.national_id,
            code=holder.code,
            username=holder.national_id,
            password="short",
        )
    assert refused.value.extra["field"] == "password"
    assert world() == before


def test_empty_fields_are_refused_on_the_form(client):
    before = world()
    blank = dict.fromkeys(["account", "national_id", "code", "password1", "password2"], "")
    response = client.post(ACTIVATE, blank)
    assert response.status_code == 200
    assert text_of(response).count("This field is required.") == 5
    assert world() == before


def test_the_page_and_its_refusals_speak_arabic(client):
    holder = opened_at_office()
    client.cookies["django_language"] = "ar"
    page = client.get(ACTIVATE)
    assert 'lang="ar"' in page.content.decode() and "رمز التفعيل" in text_of(page)
    refused = client.post(ACTIVATE, form(holder, code=wrong_code(holder.code)))
    assert "رمز التفعيل غير صحيح" in text_of(refused)
    assert "فعّل الدخول عبر الإنترنت" in text_of(client.get(LOGIN))


def test_a_logged_in_customer_is_sent_to_the_dashboard(client):
    customer = make_customer()
    client.force_login(customer.user)
    assert client.get(ACTIVATE)["Location"] == DASHBOARD
