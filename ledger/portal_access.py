"""Portal access for holders whose wallet was opened at an office: one-time activation codes.

An agent or admin opens the wallet and hands the holder a code (read aloud or printed). The holder then
makes their own login on the portal with the wallet number, their civil ID / CR number and the code. The
code is kept only as a keyed hash, works once, expires (``ERIAL_ACTIVATION_DAYS``) and locks after
``MAX_FAILED_ATTEMPTS`` wrong guesses, so guessing it is no faster than asking at an office.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from erial.errors import AlreadyExists, BusinessRefusal, DomainError, InvalidRequest, InvalidTransition
from erial.roles import Role, grant
from erial.text import western_digits

from . import account_numbers
from .models import Holder, PortalActivation, WalletStatus
from .office_acts import refuse_unless_office_may_act

#: No 0/O, 1/I: a code is read aloud at a counter and typed from a slip of paper.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
#: Wrong codes a live code takes before it is locked and the holder needs a new one from an office.
MAX_FAILED_ATTEMPTS = 5
_HMAC_SALT = "erial.ledger.portal_activation"


class ActivationRefused(BusinessRefusal):
    """The one answer for a wrong wallet number, civil ID / CR number or code: nothing can be probed."""

    code, title = "activation_refused", "Activation refused"


class ActivationExpired(BusinessRefusal):
    code, title = "activation_expired", "Activation code expired"


class ActivationUsed(BusinessRefusal):
    code, title = "activation_used", "Activation code already used"


class ActivationLocked(BusinessRefusal):
    code, title = "activation_locked", "Activation code locked"


class LoginExists(AlreadyExists):
    """The holder already has a portal login (they log in; a forgotten password is another matter)."""


@dataclass(frozen=True)
class IssuedActivation:
    """A new code, in clear only here: it is shown once and never stored."""

    code: str
    expires_at: dt.datetime


def normalise_code(raw: str) -> str:
    """What a person typed (any case, spaces or dashes, Arabic-Indic digits) as the bare code."""
    return "".join(ch for ch in western_digits(raw or "").upper() if ch not in " -\u00a0\t")


def _grouped(code: str) -> str:
    """``ABCDEFGHJK`` -> ``ABCD-EFGH-JK``: groups of four are easier to read aloud and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _hash(holder: Holder, code: str) -> str:
    # Bound to the holder: a code copied onto another holder's row does not work there.
    return salted_hmac(_HMAC_SALT, f"{holder.pk}:{code}", algorithm="sha256").hexdigest()


def issue_activation(*, holder: Holder, actor: AbstractBaseUser | None) -> IssuedActivation:
    """A new one-time code for ``holder``; any code issued before is revoked. The code is returned once."""
    refuse_unless_office_may_act(actor)
    with transaction.atomic():
        holder = Holder.objects.select_for_update(of=("self",)).select_related("wallet").get(pk=holder.pk)
        if holder.user_id is not None:
            raise LoginExists("This account holder already has a portal login: they log in with it.")
        if holder.wallet.status == WalletStatus.CLOSED:
            raise InvalidTransition(f"Wallet {holder.wallet.number} is closed: it gets no portal access.")
        now = timezone.now()
        PortalActivation.objects.filter(holder=holder, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        activation = PortalActivation.objects.create(
            holder=holder,
            code_hash=_hash(holder, code),
            expires_at=now + dt.timedelta(days=settings.ERIAL_ACTIVATION_DAYS),
            created_by=actor,
        )
    return IssuedActivation(code=_grouped(code), expires_at=activation.expires_at)


def activate(*, wallet_number: str, national_id: str, code: str, username: str, password: str) -> AbstractBaseUser:
    """Make the holder's portal login from a live code: the user, the link to the holder, the customer role
    and the code marked used exist together or not at all. Two activations racing with one code make one
    login: the holder's row is locked, and the second finds the code used.

    A wrong code counts against the code (committed even though the activation is refused); the fifth
    locks it. Wrong number, wrong ID and wrong code get the same refusal.
    """
    refusal: DomainError
    with transaction.atomic():
        holder = _holder_for_update(wallet_number, national_id)
        activation = _current_activation(holder) if holder is not None else None
        if activation is None:
            raise ActivationRefused(_GENERIC)
        matches = constant_time_compare(activation.code_hash, _hash(holder, normalise_code(code)))
        if not matches:
            if activation.used_at is None:
                PortalActivation.objects.filter(pk=activation.pk).update(failed_attempts=F("failed_attempts") + 1)
            refusal = ActivationRefused(_GENERIC)
        else:
            _refuse_unusable(holder, activation)
            return _make_login(holder, activation, username=username, password=password)
    raise refusal  # outside the transaction: the counted failure stays counted


_GENERIC = "The wallet number, civil ID / CR number or activation code is not right."


def _holder_for_update(wallet_number: str, national_id: str) -> Holder | None:
    try:
        number = account_numbers.normalise(western_digits(wallet_number or ""))
    except InvalidRequest:
        return None
    national_id = western_digits(national_id or "").strip()
    return (
        Holder.objects.select_for_update(of=("self",))
        .filter(wallet__number=number, national_id=national_id)
        .select_related("wallet")
        .first()
    )


def _current_activation(holder: Holder) -> PortalActivation | None:
    """The holder's newest code that was not replaced: the live one, or the one already used."""
    return (
        PortalActivation.objects.select_for_update()
        .filter(holder=holder, revoked_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )


def _refuse_unusable(holder: Holder, activation: PortalActivation) -> None:
    """The right code that still cannot be used, each with what the holder should do about it."""
    if activation.used_at is not None:
        raise ActivationUsed("This activation code was already used. Log in with the login it made.")
    if holder.user_id is not None:
        raise LoginExists("This account holder already has a portal login: log in with it.")
    if activation.failed_attempts >= MAX_FAILED_ATTEMPTS:
        raise ActivationLocked(
            "This activation code is locked after too many wrong tries. Ask an office for a new one."
        )
    if activation.expires_at <= timezone.now():
        raise ActivationExpired("This activation code has expired. Ask an office for a new one.")
    if holder.wallet.status == WalletStatus.CLOSED:
        raise ActivationRefused(_GENERIC)


def _make_login(holder: Holder, activation: PortalActivation, *, username: str, password: str) -> AbstractBaseUser:
    User = get_user_model()
    username = western_digits(username or "").strip()
    if not username:
        raise InvalidRequest("Choose a username.", field="username")
    if User.objects.filter(username=username).exists():
        raise AlreadyExists("A login with this username already exists.", field="username")
    candidate = User(username=username, email=holder.email)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as error:
        raise InvalidRequest(" ".join(error.messages), field="password") from None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, email=holder.email)
    except IntegrityError:  # a concurrent sign-up took the username between the check and here
        raise AlreadyExists("A login with this username already exists.", field="username") from None
    holder.user = user
    holder.save(update_fields=["user"])
    grant(user, Role.CUSTOMER)
    activation.used_at = timezone.now()
    activation.save(update_fields=["used_at"])
    return user
