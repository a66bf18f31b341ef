"""Finance's view of online top-ups and of the partner callbacks refused: read-only (callbacks credit wallets,
people never do)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from erial.backoffice import BackOfficeAdmin, choice_filter, column

from .models import OnlineTopup, RejectedCallback

CHANNEL = {"bank": _("Partner bank"), "card": _("Card payment gateway")}
TOPUP_STATUS = {
    "initiated": _("Initiated"),
    "authorised": _("Authorised"),
    "completed": _("Completed"),
    "failed": _("Failed"),
    "expired": _("Expired"),
    "cancelled": _("Cancelled"),
}


@admin.register(OnlineTopup)
class OnlineTopupAdmin(BackOfficeAdmin):
    list_display = (
        column("created_at", _("Time")),
        column("reference", _("Reference")),
        column("wallet", _("Wallet")),
        column("channel", _("Channel"), choices=CHANNEL),
        column("amount", _("Amount (OMR)")),
        column("status", _("Status"), choices=TOPUP_STATUS),
        column("partner_txn_id", _("Partner transaction")),
    )
    list_filter = (
        choice_filter("channel", _("Channel"), CHANNEL),
        choice_filter("status", _("Status"), TOPUP_STATUS),
    )
    search_fields = ("reference", "partner_txn_id", "wallet__number")
    list_select_related = ("wallet",)
    date_hierarchy = "created_at"
    labels = {
        "reference": _("Reference"),
        "wallet": _("Wallet"),
        "channel": _("Channel"),
        "amount": _("Amount (OMR)"),
        "status": _("Status"),
        "partner_txn_id": _("Partner transaction"),
        "entry": _("Ledger entry"),
        "failure_reason": _("Failure reason"),
        "created_by": _("Initiated by"),
        "expires_at": _("Expires at"),
    }


@admin.register(RejectedCallback)
class RejectedCallbackAdmin(BackOfficeAdmin):
    list_display = (
        column("received_at", _("Received at")),
        column("channel", _("Channel"), choices=CHANNEL),
        column("reason", _("Reason")),
        column("reference", _("Reference")),
        column("remote_addr", _("Sender address")),
        column("reviewed", _("Reviewed")),
    )
    list_filter = (choice_filter("channel", _("Channel"), CHANNEL), "reviewed")
    search_fields = ("reference", "reason")
    date_hierarchy = "received_at"
    labels = {
        "channel": _("Channel"),
        "reason": _("Reason"),
        "reference": _("Reference"),
        "body": _("Body"),
        "signature": _("Signature"),
        "remote_addr": _("Sender address"),
        "reviewed": _("Reviewed"),
    }
