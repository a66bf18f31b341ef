"""The portal's online top-up form: an amount and a channel, parsed at the edge as the API parses them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from erial import errors
from erial.money import parse_amount
from erial.text import western_digits
from ledger.forms import AMOUNT_HELP, PortalForm

from .models import Channel

#: What each channel is called to a customer: what they will use to pay, not our partner's role.
CHANNEL_LABELS = {
    Channel.BANK: gettext_lazy("Bank transfer (partner bank's online banking)"),
    Channel.CARD: gettext_lazy("Debit or credit card (national card gateway)"),
}


class TopupForm(PortalForm):
    """Top up the logged-in customer's own wallet online (the wallet is never a form field)."""

    amount = forms.CharField(
        label=gettext_lazy("Amount (OMR)"),
        max_length=24,
        help_text=gettext_lazy("For example 25.000. No fee is charged for topping up."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "dir": "ltr"}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Pay with"),
        choices=list(CHANNEL_LABELS.items()),
        initial=Channel.CARD.value,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose how to pay."),
            "invalid_choice": gettext_lazy("Choose how to pay."),
        },
    )
    #: Generated when the form is rendered: a form submitted twice (double click, reload) starts one top-up.
    idempotency_key = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_amount(self) -> Decimal:
        try:
            return parse_amount(western_digits(self.cleaned_data.get("amount")))
        except errors.InvalidAmount:
            raise forms.ValidationError(AMOUNT_HELP, code="invalid_amount") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("idempotency_key") and "idempotency_key" not in self.errors:
            self.add_error(None, _("This form has expired. Please fill it in again."))
        return data
