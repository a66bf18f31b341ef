"""Online top-ups, the partner callbacks received for them, and the callbacks refused (for finance)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from ledger.ids import uuid7
from ledger.models import AMOUNT, Entry, Wallet


class Channel(models.TextChoices):
    BANK = "bank", "Partner bank"
    CARD = "card", "Card payment gateway"


class TopupStatus(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    AUTHORISED = "authorised", "Authorised"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class OnlineTopup(models.Model):
    """A top-up the customer pays at the bank or the card gateway; credited when the partner authorises it.

    initiated -> authorised -> completed (credited), or initiated -> failed / expired / cancelled.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    #: Our reference, given to the partner and echoed in its callback and statement lines.
    reference = models.CharField(max_length=20, unique=True)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="online_topups")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    amount = models.DecimalField(**AMOUNT)
    status = FSMField(default=TopupStatus.INITIATED, choices=TopupStatus.choices, protected=True)
    partner_txn_id = models.CharField(max_length=64, blank=True, default="")
    #: The customer's receipt ("R" and 11 digits, as for cash top-ups and payments), drawn when the top-up is
    #: credited: a top-up not (yet) credited has none, so NULL, which a unique column allows many times.
    receipt_number = models.CharField(max_length=16, unique=True, null=True, blank=True, editable=False)
    entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="online_topup")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: The client's key for starting this top-up (optional): a retried start returns this top-up, not a second
    #: one the customer could pay twice. Keys are per client (``idempotency_scope``), as for payments.
    idempotency_scope = models.CharField(max_length=64, blank=True, default="", editable=False)
    idempotency_key = models.CharField(max_length=255, blank=True, default="", editable=False)
    request_fingerprint = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("online top-up")
        verbose_name_plural = _("online top-ups")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"], name="topups_pending_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="topups_amount_positive"),
            models.UniqueConstraint(
                fields=["channel", "partner_txn_id"], condition=~Q(partner_txn_id=""), name="topups_partner_txn_once"
            ),
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="topups_started_once_per_key",
            ),
            # A credited top-up always has its receipt; one not credited never shows one.
            models.CheckConstraint(
                condition=Q(status=TopupStatus.COMPLETED, receipt_number__isnull=False)
                | (~Q(status=TopupStatus.COMPLETED) & Q(receipt_number__isnull=True)),
                name="topups_receipt_when_completed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.status}"

    @transition(
        field=status,
        source=[TopupStatus.INITIATED, TopupStatus.EXPIRED, TopupStatus.CANCELLED],
        target=TopupStatus.AUTHORISED,
    )
    def authorise(self) -> None:
        """The partner says the customer paid (even after we expired it, or the customer cancelled it: the
        partner's signed word is about money that did move, and the customer gets it, not a refund to chase)."""

    @transition(field=status, source=TopupStatus.AUTHORISED, target=TopupStatus.COMPLETED)
    def complete(self) -> None:
        """Credited to the wallet."""

    @transition(field=status, source=TopupStatus.INITIATED, target=TopupStatus.FAILED)
    def fail(self) -> None:
        """The partner says the payment failed."""

    @transition(field=status, source=TopupStatus.INITIATED, target=TopupStatus.EXPIRED)
    def expire(self) -> None:
        """No answer from the partner in time."""

    @transition(field=status, source=TopupStatus.INITIATED, target=TopupStatus.CANCELLED)
    def cancel(self) -> None:
        """The customer gave up before paying."""


class CallbackNonce(models.Model):
    """A partner callback nonce already seen, with the digest of its body: the same nonce on another body
    is a replay attack; on the same body it is the partner retrying.
    """

    channel = models.CharField(max_length=8, choices=Channel.choices)
    nonce = models.CharField(max_length=128)
    body_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("callback nonce")
        verbose_name_plural = _("callback nonces")
        constraints = [models.UniqueConstraint(fields=["channel", "nonce"], name="topups_nonce_once")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.nonce}"


class RejectedCallback(models.Model):
    """A callback refused (bad signature, stale, replayed nonce, mismatch): nothing credited, finance looks."""

    channel = models.CharField(max_length=8)
    reason = models.CharField(max_length=255)
    reference = models.CharField(max_length=64, blank=True, default="")
    body = models.TextField()
    signature = models.CharField(max_length=512, blank=True, default="")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    reviewed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("rejected callback")
        verbose_name_plural = _("rejected callbacks")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.channel} {self.reason}"
