"""Imported statements (bank: camt.053 / MT940; card gateway: settlement CSV), reconciliation runs,
exceptions, and their maker-checker resolutions.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from erial.roles import Role
from ledger.models import AMOUNT, Entry

logger = logging.getLogger(__name__)


class Source(models.TextChoices):
    BANK = "bank", "Partner bank"
    GATEWAY = "gateway", "Card gateway"


class FileFormat(models.TextChoices):
    CAMT053 = "camt053", "ISO 20022 camt.053"
    MT940 = "mt940", "SWIFT MT940"
    GATEWAY_CSV = "gateway_csv", "Gateway settlement CSV"


class StatementFile(models.Model):
    """One imported file; its content hash refuses the same file a second time."""

    source = models.CharField(max_length=8, choices=Source.choices)
    file_format = models.CharField(max_length=12, choices=FileFormat.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    statement_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("statement file")
        verbose_name_plural = _("statement files")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.source})"


class Statement(models.Model):
    """One statement in a file: its account, sequence number and balances (opening + lines = closing)."""

    file = models.ForeignKey(StatementFile, on_delete=models.PROTECT, related_name="statements")
    source = models.CharField(max_length=8, choices=Source.choices)
    account = models.CharField(max_length=64)
    statement_id = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    opening_balance = models.DecimalField(**AMOUNT)
    opening_date = models.DateField()
    closing_balance = models.DecimalField(**AMOUNT, null=True, blank=True)
    closing_date = models.DateField(null=True, blank=True)
    line_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "account", "sequence"],
                condition=Q(sequence__isnull=False),
                name="settlements_statement_sequence_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} #{self.sequence or self.statement_id}"


class LineStatus(models.TextChoices):
    UNMATCHED = "unmatched", "Unmatched"
    MATCHED = "matched", "Matched"
    EXCEPTION = "exception", "Exception"
    RESOLVED = "resolved", "Resolved by finance"


#: The foreign keys of statement lines are declared to Django (``PROTECT`` still refuses a delete through the
#: ORM) but carry no database constraint. A million-line day would otherwise queue a million deferred checks
#: per key at COMMIT, each locking the row it names (``FOR KEY SHARE`` on every ledger entry matched, which
#: dirties that entry's page): about 15 s of a 60 s day. What the constraints would guard is kept otherwise:
#: entries and postings refuse DELETE (ledger guards), so do statements and their lines (migration 0005),
#: lines are written only from joins on existing rows, and ``verify`` proves set-based that every id a line
#: holds names a row (``settlements.checks``).
LINE_KEY = {"on_delete": models.PROTECT, "db_constraint": False}


class StatementLine(models.Model):
    """A movement a partner says happened: to be found in the ledger, or explained."""

    #: Not indexed: nothing looks lines up by their statement (statements are never deleted), and each index
    #: is written a million times on a million-line day, at the import and again when the lines are matched.
    statement = models.ForeignKey(Statement, related_name="lines", db_index=False, **LINE_KEY)
    source = models.CharField(max_length=8, choices=Source.choices)
    position = models.CharField(max_length=64)
    booking_date = models.DateField()
    value_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(**AMOUNT)
    reference = models.CharField(max_length=64, blank=True, default="")
    bank_reference = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    is_reversal = models.BooleanField(default=False)
    batch_id = models.CharField(max_length=64, blank=True, default="")
    gross = models.DecimalField(**AMOUNT, null=True, blank=True)
    fee = models.DecimalField(**AMOUNT, null=True, blank=True)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.UNMATCHED)
    #: The ledger entry this line is (one-to-one).
    matched_entry = models.OneToOneField(Entry, null=True, blank=True, related_name="+", **LINE_KEY)
    #: The settlement entry that moved it from clearing to the bank. Not indexed: nothing looks lines up by
    #: it (entries are never deleted), and a million-line day would maintain the index for nothing.
    settled_entry = models.ForeignKey(Entry, null=True, blank=True, related_name="+", db_index=False, **LINE_KEY)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        indexes = [
            models.Index(fields=["source", "booking_date", "status"], name="settlements_line_day_status"),
            models.Index(fields=["reference"], name="settlements_line_reference"),
            models.Index(fields=["batch_id"], name="settlements_line_batch"),
        ]

    def __str__(self) -> str:
        return f"{self.position} {self.amount} {self.reference}"


class GatewayBatch(models.Model):
    """A gateway payout: the net of a batch of card transactions, paid into the bank in one credit."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="batches")
    batch_id = models.CharField(max_length=64, unique=True)
    #: The reference the gateway gives its bank transfer (what the bank statement line carries).
    payout_reference = models.CharField(max_length=64, blank=True, default="", db_index=True)
    batch_date = models.DateField()
    gross = models.DecimalField(**AMOUNT)
    fee = models.DecimalField(**AMOUNT)
    net = models.DecimalField(**AMOUNT)
    bank_line = models.OneToOneField(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="gateway_batch"
    )
    settlement_entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("gateway batch")
        verbose_name_plural = _("gateway batches")

    def __str__(self) -> str:
        return f"batch {self.batch_id} net {self.net}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ReconciliationRun(models.Model):
    """The reconciliation of one business day (Asia/Muscat) for one source; re-run as often as needed."""

    business_day = models.DateField()
    source = models.CharField(max_length=8, choices=Source.choices)
    status = FSMField(default=RunStatus.RUNNING, choices=RunStatus.choices, protected=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    matched = models.PositiveIntegerField(default=0)
    settled_amount = models.DecimalField(**AMOUNT, default=0)
    open_exceptions = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-business_day", "source"]
        constraints = [models.UniqueConstraint(fields=["business_day", "source"], name="settlements_run_once_per_day")]

    def __str__(self) -> str:
        return f"{self.source} {self.business_day} {self.status}"

    @transition(field=status, source=[RunStatus.COMPLETED, RunStatus.FAILED], target=RunStatus.RUNNING)
    def rerun(self) -> None:
        """Run the day again: only what is not yet matched or settled can change."""

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.COMPLETED)
    def complete(self) -> None:
        """Every line matched, settled or turned into an exception."""

    @transition(field=status, source=RunStatus.RUNNING, target=RunStatus.FAILED)
    def fail(self) -> None:
        """Something broke; nothing of the attempt was kept."""


class ExceptionKind(models.TextChoices):
    UNMATCHED_LINE = "unmatched_line", "Statement line not in the ledger"
    AMBIGUOUS_LINE = "ambiguous_line", "Statement line with several candidates"
    AMOUNT_MISMATCH = "amount_mismatch", "Reference found with another amount"
    MISSING_FROM_STATEMENT = "missing_from_statement", "Ledger entry not on the statement"
    BATCH_MISMATCH = "batch_mismatch", "Gateway batch not paid as reported"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    PROPOSED = "proposed", "Resolution proposed"
    RESOLVED = "resolved", "Resolved"


def finance_users() -> QuerySet:
    """Who may own an exception: active back-office staff with the finance role, the people who work the queue
    (an admin reads it but does not resolve; a finance API login without staff cannot open it)."""
    return get_user_model().objects.filter(is_active=True, is_staff=True, groups__name=Role.FINANCE.value)


class ReconException(models.Model):
    """Something the partners and the ledger disagree on, with an owner and an age, until finance resolves it.

    It opens with the default owner of its source (``ERIAL_EXCEPTION_OWNERS``), or unassigned; finance assigns
    and reassigns it (``services.assign``). ``assigned_by`` is who gave it its owner (empty: the default owner,
    given when it opened) and ``assigned_at`` when.
    """

    kind = models.CharField(max_length=24, choices=ExceptionKind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    business_day = models.DateField()
    amount = models.DecimalField(**AMOUNT)
    line = models.ForeignKey(StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions")
    entry = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(GatewayBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    detail = models.CharField(max_length=500)
    #: Candidate ledger entries a person may confirm (never auto-confirmed when there are several).
    suggestions = models.JSONField(default=list, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: Not indexed: nothing looks exceptions up by who assigned them.
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation exception")
        verbose_name_plural = _("reconciliation exceptions")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "line"], condition=Q(line__isnull=False), name="settlements_exception_once_per_line"
            ),
            models.UniqueConstraint(
                fields=["kind", "entry"], condition=Q(entry__isnull=False), name="settlements_exception_once_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and self.owner_id is not None and self.assigned_at is None:
            self.assigned_at = timezone.now()  # opened with its source's default owner
        super().save(*args, **kwargs)

    @classmethod
    def default_owner(cls, source: str):
        """The owner a new exception of ``source`` gets: ``ERIAL_EXCEPTION_OWNERS[source]`` when that names an
        active finance user, else nobody (unassigned). A setting naming anyone else is logged, never fatal: the
        nightly reconciliation does not stop over who owns its exceptions."""
        username = (getattr(settings, "ERIAL_EXCEPTION_OWNERS", None) or {}).get(str(source), "")
        if not username:
            return None
        owner = finance_users().filter(username=username).first()
        if owner is None:
            logger.warning(
                "ERIAL_EXCEPTION_OWNERS names %r for %s exceptions, who is not an active finance user: "
                "the exception opens unassigned.",
                username,
                source,
            )
        return owner


class ResolutionAction(models.TextChoices):
    MATCH = "match", "Match to a ledger entry"
    WRITE_OFF = "write_off", "Write off to suspense"
    ADJUST = "adjust", "Adjusting entry"


class ResolutionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Resolution(models.Model):
    """Maker-checker: one finance user proposes how an exception is resolved, another approves it."""

    exception = models.ForeignKey(ReconException, on_delete=models.PROTECT, related_name="resolutions")
    action = models.CharField(max_length=10, choices=ResolutionAction.choices)
    entry = models.ForeignKey(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    account_code = models.CharField(max_length=40, blank=True, default="")
    note = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=ResolutionStatus.choices, default=ResolutionStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    posted_entry = models.OneToOneField(Entry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["exception"], condition=Q(status="proposed"), name="settlements_one_open_proposal"
            ),
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("proposed_by")), name="settlements_maker_is_not_checker"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.status}"
