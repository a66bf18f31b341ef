"""The counter's forms: what a cashier types, in either language, turned into what the services take.

Forms only parse (Western digits, exact 3-decimal amounts, the form's idempotency key). Every business rule
(an active office, an open session, limits, the float, voids) is the services' to decide; their refusals
come back as domain errors and ``show_refusal`` puts them on the form in the cashier's language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erial import errors
from erial.money import format_amount, parse_amount
from ledger.forms import PortalForm, western_digits

from .models import Cashier

AMOUNT_HELP = gettext_lazy("Enter an amount above zero in rials, with at most 3 decimals, for example 12.500.")
SEARCH_HELP = gettext_lazy("Type an account number (8 digits), a civil ID / CR number or a phone number.")
BILL_AMOUNT_HELP = gettext_lazy(
    "The bill's amount, or the total paid with the service fee, in rials with at most 3 decimals, for example 5.000."
)
CASH_HELP = gettext_lazy("Enter the cash in rials, zero or more, with at most 3 decimals, for example 20.000.")
#: What an amount field looks like: typed left to right in both languages, a decimal keypad on tablets.
_AMOUNT_WIDGET = {"inputmode": "decimal", "autocomplete": "off", "dir": "ltr", "spellcheck": "false"}


def _amount(raw: str | None, *, allow_zero: bool, message: str) -> Decimal:
    try:
        return parse_amount(western_digits(raw), allow_zero=allow_zero)
    except errors.InvalidAmount:
        raise forms.ValidationError(message, code="invalid_amount") from None


class CounterLoginForm(AuthenticationForm):
    """Cashiers log in with the username their office gave them; any other login is refused here."""

    username = UsernameField(
        label=gettext_lazy("Username"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "dir": "ltr"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("The username or the password is not right. Please try again."),
        "not_cashier": gettext_lazy("This login is not a cashier's: the counter is for office cashiers."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not Cashier.objects.filter(user=user).exists():
            raise forms.ValidationError(self.error_messages["not_cashier"], code="not_cashier")


class OpenSessionForm(PortalForm):
    opening_cash = forms.CharField(
        label=gettext_lazy("Opening cash in the drawer (OMR)"),
        max_length=24,
        error_messages={"required": CASH_HELP},
        help_text=gettext_lazy("Count the cash before the first customer, for example 20.000."),
        widget=forms.TextInput(attrs={**_AMOUNT_WIDGET, "autofocus": True}),
    )

    def clean_opening_cash(self) -> Decimal:
        return _amount(self.cleaned_data.get("opening_cash"), allow_zero=True, message=str(CASH_HELP))


class SearchForm(PortalForm):
    """One box for the three ways a customer names their wallet."""

    q = forms.CharField(
        label=gettext_lazy("Account number, civil ID / CR or phone"),
        max_length=40,
        error_messages={"required": SEARCH_HELP},
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "inputmode": "numeric",
                "dir": "ltr",
                "spellcheck": "false",
            }
        ),
    )

    def clean_q(self) -> str:
        return western_digits(self.cleaned_data.get("q"))


class AmountForm(PortalForm):
    amount = forms.CharField(
        label=gettext_lazy("Cash received (OMR)"),
        max_length=24,
        error_messages={"required": AMOUNT_HELP},
        help_text=gettext_lazy("For example 12.500."),
        widget=forms.TextInput(attrs={**_AMOUNT_WIDGET, "autofocus": True}),
    )

    def clean_amount(self) -> Decimal:
        return _amount(self.cleaned_data.get("amount"), allow_zero=False, message=str(AMOUNT_HELP))


class ConfirmForm(AmountForm):
    """The confirmed top-up: the amount shown, and the key generated when the page was rendered, so the
    same form submitted twice (a double click, a re-send on a slow line) tops up once.
    """

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "idempotency_key" in self.errors:
            self.errors.pop("idempotency_key")
            self.add_error(None, _("This form has expired. Please enter the amount again."))
        return data


class VoidForm(PortalForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the void"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "idempotency_key" in self.errors:
            self.errors.pop("idempotency_key")
            self.add_error(None, _("This form has expired. Please try again."))
        return data


class CloseSessionForm(PortalForm):
    counted_cash = forms.CharField(
        label=gettext_lazy("Cash counted in the drawer (OMR)"),
        max_length=24,
        error_messages={"required": CASH_HELP},
        widget=forms.TextInput(attrs=_AMOUNT_WIDGET),
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the supervisor"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Required when the count differs from the expected cash."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_counted_cash(self) -> Decimal:
        return _amount(self.cleaned_data.get("counted_cash"), allow_zero=True, message=str(CASH_HELP))


class ReceiptLookupForm(PortalForm):
    number = forms.CharField(
        label=gettext_lazy("Receipt number"),
        max_length=32,
        help_text=gettext_lazy("R and 11 digits, from any office, for example R1234 5678 901."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"}),
    )

    def clean_number(self) -> str:
        return western_digits(self.cleaned_data.get("number"))


class BillLookupForm(PortalForm):
    """A payment found by the bill it paid: what the payer has in hand when the receipt is lost.

    The bill reference alone is not enough: references are printed on fines and contracts and easy to guess,
    and a receipt names its payer. So the cashier also gives the service and the amount the payer paid (the
    bill's amount, or the total with the service fee), which only someone holding the bill or the payment knows.
    """

    bill = forms.CharField(
        label=gettext_lazy("Bill reference"),
        max_length=64,
        help_text=gettext_lazy("As printed on the bill, for example a fine or contract number."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "dir": "ltr", "spellcheck": "false"}),
    )
    service = forms.ChoiceField(label=gettext_lazy("Service"))
    amount = forms.CharField(
        label=gettext_lazy("Amount paid (OMR)"),
        max_length=24,
        error_messages={"required": BILL_AMOUNT_HELP},
        help_text=BILL_AMOUNT_HELP,
        widget=forms.TextInput(attrs=_AMOUNT_WIDGET),
    )

    def __init__(self, *args: Any, services: list[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", _("Choose a service")), *services]

    def clean_bill(self) -> str:
        return western_digits(self.cleaned_data.get("bill")).strip()

    def clean_amount(self) -> Decimal:
        return _amount(self.cleaned_data.get("amount"), allow_zero=False, message=str(BILL_AMOUNT_HELP))


def _refusal_text(error: errors.DomainError) -> tuple[str | None, str]:
    """The field a refusal belongs to and what to tell the cashier, in the page's language."""
    extra = error.extra
    if isinstance(error, errors.AgentInactive):
        return None, _("This office is not active (suspended or not yet opened): it cannot take cash now.")
    if isinstance(error, errors.LimitExceeded):
        if extra.get("limit") == "float":
            return "amount", _(
                "The office's float (with its credit limit) does not cover this top-up. Ask for a float deposit."
            )
        what = {
            "per_transaction": _("per top-up"),
            "office_daily": _("for this office today"),
            "wallet_daily": _("for this account today"),
            "wallet_max_balance": _("on the account's balance"),
        }.get(extra.get("limit", ""), _("in force"))
        return "amount", _("Over the limit %(what)s: the limit is %(limit)s OMR and %(left)s OMR is left.") % {
            "what": what,
            "limit": extra.get("limit_amount", ""),
            "left": extra.get("remaining", ""),
        }
    if isinstance(error, errors.InsufficientFunds):
        return None, _(
            "The account no longer holds this money, so the top-up cannot be voided at the counter. Once your "
            "session is closed, finance can move it to the right account (a top-up correction in the back office)."
        )
    if isinstance(error, errors.InvalidAmount):
        return "amount", str(AMOUNT_HELP)
    if isinstance(error, errors.AccountInactive):
        return None, _("This e-Rial account is frozen or closed: it cannot be topped up. Ask the back office.")
    if isinstance(error, errors.SessionClosed):
        return None, _("Your session is closed or is from an earlier day: close it and open today's session.")
    if isinstance(error, errors.SessionAlreadyOpen):
        return None, _("You already have an open session.")
    if isinstance(error, errors.Forbidden):
        return None, _("Only the cashier who took the top-up may void it, in the same session.")
    if isinstance(error, errors.IdempotencyConflict):
        return None, _("This form was already used for a different top-up. Please start again from the search.")
    if isinstance(error, errors.InvalidTransition):
        return None, _("This session is already closed.")
    if isinstance(error, errors.NotFound):
        return None, _("Not found. Check the number and try again.")
    if isinstance(error, errors.InvalidRequest) and extra.get("field") == "account":
        return "q", _("This account number is mistyped: its check digit does not match. Please check the digits.")
    if isinstance(error, errors.InvalidRequest) and extra.get("field") == "query":
        return "q", str(SEARCH_HELP)
    return None, _("This could not be done: %(detail)s") % {"detail": error.detail}


def show_refusal(form: forms.Form, error: errors.DomainError) -> None:
    """Put a service's refusal on the form: on the field it concerns, or at the top of the form."""
    field, message = _refusal_text(error)
    form.add_error(field if field in form.fields else None, message)


def _isolated(amount: Decimal) -> str:
    """An amount set apart from the text's direction (LRI ... PDI): in Arabic, "-0.250" keeps its minus in front
    instead of reading "0.250-".
    """
    return f"\u2066{format_amount(amount)}\u2069"


def count_differs(expected: Decimal, counted: Decimal) -> str:
    """The close form's message when the count is off and no note says why."""
    return _("The count differs from the expected %(expected)s OMR by %(difference)s OMR: write a note.") % {
        "expected": _isolated(expected),
        "difference": _isolated(counted - expected),
    }
