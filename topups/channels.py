"""The two partner channels behind one small interface: where to send the customer, and the shared secret.

Production URLs and secrets come from settings; in development and tests the local simulators
(``topups.simulators``) stand in for the bank and the gateway, speaking the same messages over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings

from erial.money import format_amount

from .models import Channel, OnlineTopup


@dataclass(frozen=True)
class PartnerChannel:
    code: str
    secret_setting: str
    url_setting: str

    @property
    def secret(self) -> str:
        return getattr(settings, self.secret_setting)

    def redirect_url(self, topup: OnlineTopup) -> str:
        """Where the customer's browser goes to pay: the bank's page or the gateway's hosted payment page."""
        query = urlencode({"reference": topup.reference, "amount": format_amount(topup.amount), "currency": "OMR"})
        return f"{getattr(settings, self.url_setting)}?{query}"


CHANNELS = {
    Channel.BANK: PartnerChannel(Channel.BANK, "ERIAL_BANK_SECRET", "ERIAL_BANK_PAY_URL"),
    Channel.CARD: PartnerChannel(Channel.CARD, "ERIAL_GATEWAY_SECRET", "ERIAL_GATEWAY_PAY_URL"),
}


def channel(code: str) -> PartnerChannel:
    return CHANNELS[Channel(code)]
