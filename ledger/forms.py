"""The customer portal's forms: turn what a person typed, in either language, into what the services take.

Forms only parse. Every business rule (valid phone, one wallet per holder, enough balance, bill paid once)
is the services' to decide; a refusal comes back as a domain error and ``show_refusal`` puts it on the
form in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.db.models import Model
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from erial import errors
from erial.money import parse_amount
from erial.text import western_digits

from .models import HolderType, Service
from .portal_access import MAX_FAILED_ATTEMPTS, ActivationExpired, ActivationLocked, ActivationUsed, LoginExists


def localized_name(obj: Model) -> str:
    """An object's ``name_ar`` when the page is in Arabic (and it has one), else its ``name_en``."""
    name_en, name_ar = getattr(obj, "name_en", ""), getattr(obj, "name_ar", "")
    if (get_language() or "").startswith("ar") and name_ar:
        return name_ar
    return name_en or name_ar


class PortalForm(forms.Form):
    """No trailing colon after labels: the labels sit above the fields, in both languages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(AuthenticationForm):
    """Customers log in with their civil ID / CR number, the username their registration gave them."""

    username = UsernameField(
        label=gettext_lazy("Civil ID or CR number"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "inputmode": "numeric"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("The civil ID / CR number or the password is not right. Please try again."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        return western_digits(self.cleaned_data.get("username"))


class NewPasswordForm(PortalForm):
    """A new login's password, typed twice and checked against AUTH_PASSWORD_VALIDATORS (registration and
    activation). The new-password fields come last, after the subclass's own."""

    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Repeat the password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("password1", "password2"):  # declared fields of a base class come first: move them last
            self.fields[name] = self.fields.pop(name)
        # The rules come from AUTH_PASSWORD_VALIDATORS, in Django's own translated words.
        self.fields["password1"].help_text = " ".join(password_validation.password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password = data.get("password1")
        if password and data.get("password2") and password != data["password2"]:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password:
            try:
                password_validation.validate_password(password)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class RegisterForm(NewPasswordForm):
    """Self-registration: who the holder is, how to reach them, and the password of their new login."""

    holder_type = forms.ChoiceField(
        label=gettext_lazy("Account holder"),
        choices=[
            (HolderType.INDIVIDUAL.value, gettext_lazy("Individual (civil ID)")),
            (HolderType.COMPANY.value, gettext_lazy("Company (commercial registration)")),
        ],
        initial=HolderType.INDIVIDUAL.value,
        widget=forms.RadioSelect,
    )
    national_id = forms.CharField(
        label=gettext_lazy("Civil ID or CR number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username"}),
    )
    name_en = forms.CharField(
        label=gettext_lazy("Name in English"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Give at least one of the two names."),
        widget=forms.TextInput(attrs={"autocomplete": "name", "lang": "en", "dir": "ltr"}),
    )
    name_ar = forms.CharField(
        label=gettext_lazy("Name in Arabic"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name", "lang": "ar", "dir": "rtl"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        help_text=gettext_lazy("8 digits, for example 9123 4567."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail (optional)"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "dir": "ltr"}),
    )

    def clean_national_id(self) -> str:
        national_id = western_digits(self.cleaned_data.get("national_id"))
        # The login's username is the national ID: a second login with it cannot exist.
        if get_user_model().objects.filter(username=national_id).exists():
            raise forms.ValidationError(LOGIN_EXISTS, code="login_exists")
        return national_id

    def clean_phone(self) -> str:
        return western_digits(self.cleaned_data.get("phone"))


LOGIN_EXISTS = gettext_lazy("An online login already exists for this number. Log in instead.")


class ActivateForm(NewPasswordForm):
    """Online access for a wallet opened at an office: the wallet, who holds it, the code, a new password.

    The login's username is the civil ID / CR number, as for an online registration, so the login page
    works the same for everyone.
    """

    account = forms.CharField(
        label=gettext_lazy("e-Rial account number"),
        max_length=20,
        help_text=gettext_lazy("8 digits, as on the paper you were given at the office."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
    )
    national_id = forms.CharField(
        label=gettext_lazy("Civil ID or CR number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username", "dir": "ltr"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Activation code"),
        max_length=20,
        help_text=gettext_lazy("10 letters and digits, for example ABCD-EFGH-JK."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false", "dir": "ltr"}
        ),
    )

    def clean_account(self) -> str:
        return western_digits(self.cleaned_data.get("account"))

    def clean_national_id(self) -> str:
        return western_digits(self.cleaned_data.get("national_id")).strip()

    def show_refusal(self, error: errors.DomainError) -> None:
        """A refused activation, in the reader's language. Wrong number, ID and code read the same on purpose."""
        if isinstance(error, ActivationExpired):
            message = _("This activation code has expired. Ask at a municipal office or an agent for a new one.")
        elif isinstance(error, ActivationLocked):
            message = _(
                "This activation code is locked after too many wrong tries. "
                "Ask at a municipal office or an agent for a new one."
            )
        elif isinstance(error, ActivationUsed | LoginExists):
            message = _("Online access for this account is already set up. Log in instead.")
        elif isinstance(error, errors.AlreadyExists):
            self.add_error("national_id", LOGIN_EXISTS)
            return
        elif error.extra.get("field") == "password":
            self.add_error("password1", error.detail)
            return
        else:
            message = _(
                "The account number, civil ID / CR number or activation code is not right. Check them and "
                "try again; after %(tries)s wrong tries the code is locked."
            ) % {"tries": MAX_FAILED_ATTEMPTS}
        self.add_error(None, message)


class ServiceChoiceField(forms.ModelChoiceField):
    """A payable service, named in the page's language."""

    def label_from_instance(self, obj: Service) -> str:
        return localized_name(obj)


class PayForm(PortalForm):
    """Pay a municipal bill from the logged-in customer's own wallet (the wallet is never a form field)."""

    service = ServiceChoiceField(
        label=gettext_lazy("Service"),
        queryset=Service.objects.filter(is_active=True).select_related("revenue_account"),
        to_field_name="code",
        empty_label=gettext_lazy("Choose a service"),
    )
    bill_reference = forms.CharField(
        label=gettext_lazy("Bill reference"),
        max_length=64,
        help_text=gettext_lazy("As printed on the bill."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr"}),
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (OMR)"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "dir": "ltr"}),
    )
    #: Generated when the form is rendered: a form submitted twice (double click, reload) pays once.
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, fee: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fee is not None:
            self.fields["amount"].help_text = _("For example 12.500. A fee of %(fee)s OMR is added.") % {"fee": fee}
        else:
            self.fields["amount"].help_text = _("For example 12.500.")

    def clean_amount(self) -> Any:
        try:
            return parse_amount(western_digits(self.cleaned_data.get("amount")))
        except errors.InvalidAmount:
            raise forms.ValidationError(AMOUNT_HELP, code="invalid_amount") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("idempotency_key") and "idempotency_key" not in self.errors:
            self.add_error(None, _("This form has expired. Please fill it in again."))
        return data


AMOUNT_HELP = gettext_lazy("Enter an amount above zero in rials, with at most 3 decimals, for example 12.500.")


def _refusal_text(error: errors.DomainError) -> tuple[str | None, str]:
    """The field a refusal belongs to and what to tell the customer, in the page's language."""
    field = error.extra.get("field")
    if isinstance(error, errors.InsufficientFunds):
        available = error.extra.get("available", "")
        return "amount", _(
            "Your balance is not enough for this payment and its fee (available: %(available)s OMR)."
        ) % {"available": available}
    if isinstance(error, errors.InvalidAmount):
        return "amount", str(AMOUNT_HELP)
    if isinstance(error, errors.AccountInactive):
        return None, _("Your e-Rial account is not active, so it cannot pay. Please ask at a municipal office.")
    if isinstance(error, errors.AlreadyPaid):
        return "bill_reference", _("This bill has already been paid.")
    if isinstance(error, errors.AlreadyExists):
        return "national_id", _(
            "An e-Rial account already exists for this civil ID / CR number. Log in, or ask at a municipal office."
        )
    if isinstance(error, errors.IdempotencyConflict):
        return None, _("This form was already used for a different payment. Check your history, then try again.")
    by_field = {
        "holder_type": _("Choose individual or company."),
        "national_id": _("A civil ID or CR number is 4 to 20 digits."),
        "name": _("Enter your name in English or in Arabic (at most 200 characters)."),
        "phone": _("Enter an Omani phone number: 8 digits, with or without the country code 968."),
        "email": _("Enter a valid e-mail address, or leave it empty."),
        "bill_reference": _("A bill reference is 1 to 64 characters, as printed on the bill."),
        "service": _("This service cannot be paid at the moment."),
    }
    if field in by_field:
        return field, by_field[field]
    return None, _("This could not be done: %(detail)s") % {"detail": error.detail}


def show_refusal(form: forms.Form, error: errors.DomainError) -> None:
    """Put a service's refusal on the form: on the field it concerns, or at the top of the form."""
    field, message = _refusal_text(error)
    if field == "name":
        field = "name_en"
    form.add_error(field if field in form.fields else None, message)
