"""Offices, cashiers and their sessions, cash top-ups, and the effective-dated limits and commission rules."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from ledger.ids import uuid7
from ledger.models import AMOUNT, Account, Entry, Wallet


class OfficeKind(models.TextChoices):
    INTERNAL = "internal", "Internal (municipal cashier)"
    EXTERNAL = "external", "External agent"


class OfficeStatus(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class Office(models.Model):
    """Where cash enters e-Rial. Internal offices hold cash in a drawer account; external agents prefund a
    float (a liability to them, floored at minus their credit limit) and earn commission into a payable.
    """

    code = models.SlugField(max_length=20, unique=True)
    name_en = models.CharField(max_length=200)
    name_ar = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=OfficeKind.choices)
    wilayat = models.CharField(max_length=100, blank=True, default="")
    contact_name = models.CharField(max_length=200, blank=True, default="")
    contact_phone = models.CharField(max_length=20, blank=True, default="")
    status = FSMField(default=OfficeStatus.ONBOARDING, choices=OfficeStatus.choices, protected=True)
    #: The cash drawer (internal) or the prefunded float (external).
    cash_account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="office")
    #: Commission owed to an external agent; none for internal offices.
    commission_account = models.OneToOneField(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="commission_office"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="internal", commission_account__isnull=True)
                | Q(kind="external", commission_account__isnull=False),
                name="agents_office_commission_account_for_external",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"

    @property
    def is_external(self) -> bool:
        return self.kind == OfficeKind.EXTERNAL

    @transition(field=status, source=OfficeStatus.ONBOARDING, target=OfficeStatus.ACTIVE)
    def activate(self) -> None:
        """Onboarding done: the office may take cash."""

    @transition(field=status, source=OfficeStatus.ACTIVE, target=OfficeStatus.SUSPENDED)
    def suspend(self) -> None:
        """New transactions are refused at once; history stays."""

    @transition(field=status, source=OfficeStatus.SUSPENDED, target=OfficeStatus.ACTIVE)
    def reinstate(self) -> None:
        """Back in business."""

    @transition(field=status, source=[OfficeStatus.ONBOARDING, OfficeStatus.SUSPENDED], target=OfficeStatus.TERMINATED)
    def terminate(self) -> None:
        """For good, once the office owes nothing and is owed nothing (checked by the service)."""


class Cashier(models.Model):
    """A user who acts for one office, and only that one."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cashier")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="cashiers")
    is_supervisor = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("cashier")
        verbose_name_plural = _("cashiers")

    def __str__(self) -> str:
        return f"{self.user} @ {self.office.code}"


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class CashierSession(models.Model):
    """A cashier's shift at the counter: every cash top-up belongs to one; closing counts the cash."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    cashier = models.ForeignKey(Cashier, on_delete=models.PROTECT, related_name="sessions")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="sessions")
    status = FSMField(default=SessionStatus.OPEN, choices=SessionStatus.choices, protected=True)
    business_day = models.DateField()
    opened_at = models.DateTimeField()
    opening_cash = models.DecimalField(**AMOUNT)
    closed_at = models.DateTimeField(null=True, blank=True)
    expected_cash = models.DecimalField(**AMOUNT, null=True, blank=True)
    counted_cash = models.DecimalField(**AMOUNT, null=True, blank=True)
    difference = models.DecimalField(**AMOUNT, null=True, blank=True)
    supervisor_note = models.CharField(max_length=500, blank=True, default="")
    #: The cash over/short entry, when the count differed (internal offices).
    over_short_entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("cashier session")
        verbose_name_plural = _("cashier sessions")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="agents_one_open_session_per_cashier"
            ),
            models.CheckConstraint(condition=Q(opening_cash__gte=0), name="agents_session_opening_cash"),
        ]

    def __str__(self) -> str:
        return f"session {self.id} {self.status}"

    @transition(field=status, source=SessionStatus.OPEN, target=SessionStatus.CLOSED)
    def close(self) -> None:
        """Counted and closed: nothing in it can change any more."""


class CashTopup(models.Model):
    """Cash paid in at a counter and credited to a wallet; its receipt number is what people keep."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    receipt_number = models.CharField(max_length=16, unique=True)
    session = models.ForeignKey(CashierSession, on_delete=models.PROTECT, related_name="topups")
    # No single-column indexes on office and wallet: the (office, created_at) and (wallet, created_at)
    # indexes below lead with them, and every top-up would otherwise write two more index entries.
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="topups", db_index=False)
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="cash_topups", db_index=False)
    amount = models.DecimalField(**AMOUNT)
    commission = models.DecimalField(**AMOUNT, default=Decimal("0.000"))
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="cash_topup")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    #: The reversing entry when the cashier voided it within the session.
    void_entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("cash top-up")
        verbose_name_plural = _("cash top-ups")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["office", "created_at"], name="agents_topup_office_time"),
            models.Index(fields=["wallet", "created_at"], name="agents_topup_wallet_time"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="agents_topup_positive")]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.amount}"

    @property
    def is_voided(self) -> bool:
        return self.void_entry_id is not None


class OfficeDayTotal(models.Model):
    """The cash an office took on one business day (its top-ups not voided), kept by every top-up and void.

    Why a row and not a SUM: the office's daily limit is checked while the top-up holds the office's float
    (or drawer) locked, and a SUM over the day's top-ups grows with the day; this row is one probe. It is
    written in the same transaction as the top-up, after ``post()`` has locked that float, so top-ups at
    one office update it one at a time and the total a top-up checks includes every one committed before.
    """

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="day_totals")
    business_day = models.DateField()
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        verbose_name = _("office day total")
        verbose_name_plural = _("office day totals")
        constraints = [
            models.UniqueConstraint(fields=["office", "business_day"], name="agents_office_day_total_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="agents_office_day_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.office_id} {self.business_day} {self.amount}"


class LimitKind(models.TextChoices):
    PER_TRANSACTION = "per_transaction", "Per top-up"
    OFFICE_DAILY = "office_daily", "Per office per day"
    WALLET_DAILY = "wallet_daily", "Per wallet per day (cash top-ups)"
    WALLET_MAX_BALANCE = "wallet_max_balance", "Maximum wallet balance"


class Limit(models.Model):
    """A limit in force from ``effective_from``; an office-specific row beats the general one."""

    kind = models.CharField(max_length=24, choices=LimitKind.choices)
    amount = models.DecimalField(**AMOUNT)
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="limits")
    effective_from = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("limit")
        verbose_name_plural = _("limits")
        ordering = ["kind", "-effective_from"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="agents_limit_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} from {self.effective_from:%Y-%m-%d}"


class CommissionKind(models.TextChoices):
    FLAT = "flat", "Flat amount per top-up"
    PERCENT = "percent", "Percentage of the top-up"


class CommissionRule(models.Model):
    """External agents' commission per top-up, in force from ``effective_from`` (office-specific first)."""

    kind = models.CharField(max_length=8, choices=CommissionKind.choices)
    #: OMR for flat; percent (e.g. 0.500 = 0.5 %) for percentage.
    rate = models.DecimalField(**AMOUNT)
    minimum = models.DecimalField(**AMOUNT, default=Decimal("0.000"))
    maximum = models.DecimalField(**AMOUNT, null=True, blank=True)
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="commission_rules")
    effective_from = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(minimum__gte=0), name="agents_commission_non_negative"),
            models.CheckConstraint(
                condition=Q(maximum__isnull=True) | Q(maximum__gte=models.F("minimum")),
                name="agents_commission_max_ge_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rate} from {self.effective_from:%Y-%m-%d}"


class CorrectionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class TopupCorrection(models.Model):
    """A cash top-up credited to the wrong wallet, moved by finance to the wallet it was meant for.

    Maker-checker (``agents.corrections``): one finance user proposes, another approves, which posts one
    adjusting entry (wrong wallet -> right wallet); the top-up and its receipt stay as they were. The database
    holds the rules a race could break: one open proposal per top-up, one approved correction per top-up
    ever, nobody decides their own proposal, and an entry exactly when approved.
    """

    topup = models.ForeignKey(CashTopup, on_delete=models.PROTECT, related_name="corrections")
    #: The wallet the cash was meant for (the top-up's own ``wallet`` is the one it went to).
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    status = FSMField(default=CorrectionStatus.PROPOSED, choices=CorrectionStatus.choices, protected=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    #: What the checker said when rejecting (optional).
    decision_note = models.CharField(max_length=500, blank=True, default="")
    #: The adjusting entry that moved the money, once approved.
    entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("top-up correction")
        verbose_name_plural = _("top-up corrections")
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["topup"], condition=Q(status="proposed"), name="agents_correction_one_open_proposal"
            ),
            models.UniqueConstraint(
                fields=["topup"], condition=Q(status="approved"), name="agents_correction_once_per_topup"
            ),
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("proposed_by")), name="agents_correction_maker_is_not_checker"
            ),
            models.CheckConstraint(
                condition=Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True)
                | Q(status__in=["approved", "rejected"], decided_by__isnull=False, decided_at__isnull=False),
                name="agents_correction_decided_unless_proposed",
            ),
            models.CheckConstraint(
                condition=Q(status="approved", entry__isnull=False) | (~Q(status="approved") & Q(entry__isnull=True)),
                name="agents_correction_entry_when_approved",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="agents_correction_reason_given"),
        ]

    def __str__(self) -> str:
        return f"correction {self.pk} {self.status}"

    @transition(field=status, source=CorrectionStatus.PROPOSED, target=CorrectionStatus.APPROVED)
    def approve(self) -> None:
        """Another finance user agreed: the money moved to the right wallet."""

    @transition(field=status, source=CorrectionStatus.PROPOSED, target=CorrectionStatus.REJECTED)
    def reject(self) -> None:
        """Another finance user disagreed: nothing moved; a new proposal may follow."""
