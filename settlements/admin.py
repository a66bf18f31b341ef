"""Finance's reconciliation back office: statements and runs to read, and the exceptions queue.

Statements, lines and runs are history: read-only. Exceptions are resolved under maker-checker through
``settlements.services`` (propose, approve, reject): one finance user proposes, another decides; the service
refuses the proposer's own approval and the page shows its words. Finance takes an exception ("assign to me")
or gives it to another finance user (``services.assign``); the queue filters on "mine" and "unassigned".
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from erial.backoffice import BackOfficeAdmin, choice_filter, column, is_back_office
from erial.roles import Role, has_role
from ledger.businessday import today
from ledger.models import Entry

from . import services
from .models import (
    GatewayBatch,
    ReconciliationRun,
    ReconException,
    Resolution,
    ResolutionStatus,
    Statement,
    StatementFile,
    StatementLine,
    finance_users,
)
from .selectors import AGE_BUCKETS, age_in_days

SOURCE = {"bank": _("Partner bank"), "gateway": _("Card gateway")}
FILE_FORMAT = {
    "camt053": _("ISO 20022 camt.053"),
    "mt940": _("SWIFT MT940"),
    "gateway_csv": _("Gateway settlement CSV"),
}
LINE_STATUS = {
    "unmatched": _("Unmatched"),
    "matched": _("Matched"),
    "exception": _("Exception"),
    "resolved": _("Resolved by finance"),
}
RUN_STATUS = {"running": _("Running"), "completed": _("Completed"), "failed": _("Failed")}
EXCEPTION_KIND = {
    "unmatched_line": _("Statement line not in the ledger"),
    "ambiguous_line": _("Statement line with several candidates"),
    "amount_mismatch": _("Reference found with another amount"),
    "missing_from_statement": _("Ledger entry not on the statement"),
    "batch_mismatch": _("Gateway batch not paid as reported"),
}
EXCEPTION_STATUS = {"open": _("Open"), "proposed": _("Resolution proposed"), "resolved": _("Resolved")}
RESOLUTION_ACTION = {
    "match": _("Match to a ledger entry"),
    "write_off": _("Write off to suspense"),
    "adjust": _("Adjusting entry"),
}
RESOLUTION_STATUS = {"proposed": _("Proposed"), "approved": _("Approved"), "rejected": _("Rejected")}
#: The age buckets of ``settlements.selectors.AGE_BUCKETS``, as the filter names them.
AGE = {"0-1": _("0-1 days"), "2-3": _("2-3 days"), "4-7": _("4-7 days"), ">7": _("more than 7 days")}


@admin.register(StatementFile)
class StatementFileAdmin(BackOfficeAdmin):
    list_display = (
        column("imported_at", _("Imported at")),
        column("source", _("Source"), choices=SOURCE),
        column("file_format", _("Format"), choices=FILE_FORMAT),
        column("file_name", _("File")),
        column("statement_count", _("Statements")),
        column("line_count", _("Lines")),
        column("imported_by", _("Imported by")),
    )
    list_filter = (choice_filter("source", _("Source"), SOURCE),)
    search_fields = ("file_name", "sha256")
    labels = {
        "source": _("Source"),
        "file_format": _("Format"),
        "file_name": _("File"),
        "sha256": _("SHA-256"),
        "statement_count": _("Statements"),
        "line_count": _("Lines"),
        "imported_by": _("Imported by"),
    }


@admin.register(Statement)
class StatementAdmin(BackOfficeAdmin):
    list_display = (
        column("account", _("Account")),
        column("source", _("Source"), choices=SOURCE),
        column("sequence", _("Sequence")),
        column("opening_date", _("Opening date")),
        column("opening_balance", _("Opening balance")),
        column("closing_balance", _("Closing balance")),
        column("line_count", _("Lines")),
    )
    list_filter = (choice_filter("source", _("Source"), SOURCE),)
    search_fields = ("account", "statement_id")
    list_select_related = ("file",)
    labels = {
        "file": _("File"),
        "source": _("Source"),
        "account": _("Account"),
        "statement_id": _("Statement id"),
        "sequence": _("Sequence"),
        "currency": _("Currency"),
        "opening_balance": _("Opening balance"),
        "opening_date": _("Opening date"),
        "closing_balance": _("Closing balance"),
        "closing_date": _("Closing date"),
        "line_count": _("Lines"),
    }


LINE_LABELS = {
    "statement": _("Statement"),
    "source": _("Source"),
    "position": _("Position"),
    "booking_date": _("Booking date"),
    "value_date": _("Value date"),
    "amount": _("Amount (OMR)"),
    "reference": _("Reference"),
    "bank_reference": _("Bank reference"),
    "description": _("Description"),
    "is_reversal": _("Reversal"),
    "batch_id": _("Gateway batch"),
    "gross": _("Gross (OMR)"),
    "fee": _("Fee (OMR)"),
    "status": _("Status"),
    "matched_entry": _("Matched ledger entry"),
    "settled_entry": _("Settlement entry"),
}


@admin.register(StatementLine)
class StatementLineAdmin(BackOfficeAdmin):
    list_display = (
        column("booking_date", _("Booking date")),
        column("source", _("Source"), choices=SOURCE),
        column("position", _("Position")),
        column("amount", _("Amount (OMR)")),
        column("reference", _("Reference")),
        column("description", _("Description")),
        column("status", _("Status"), choices=LINE_STATUS),
    )
    list_filter = (
        choice_filter("source", _("Source"), SOURCE),
        choice_filter("status", _("Status"), LINE_STATUS),
        "booking_date",
    )
    search_fields = ("reference", "bank_reference", "batch_id", "description")
    date_hierarchy = "booking_date"
    labels = LINE_LABELS


@admin.register(GatewayBatch)
class GatewayBatchAdmin(BackOfficeAdmin):
    list_display = (
        column("batch_date", _("Batch date")),
        column("batch_id", _("Gateway batch")),
        column("gross", _("Gross (OMR)")),
        column("fee", _("Fee (OMR)")),
        column("net", _("Net (OMR)")),
        column("payout_reference", _("Payout reference")),
    )
    search_fields = ("batch_id", "payout_reference")


def _lines_of_the_day() -> Subquery:
    lines = StatementLine.objects.filter(source=OuterRef("source"), booking_date=OuterRef("business_day"))
    return Subquery(lines.order_by().values("source").annotate(n=Count("id")).values("n")[:1])


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(BackOfficeAdmin):
    """One row per day and source, with what the run found: lines of the day, matched, settled, open."""

    list_display = (
        column("business_day", _("Business day")),
        column("source", _("Source"), choices=SOURCE),
        column("status", _("Status"), choices=RUN_STATUS),
        "line_count",
        column("matched", _("Matched")),
        column("settled_amount", _("Settled (OMR)")),
        column("open_exceptions", _("Open exceptions")),
        column("attempts", _("Attempts")),
        column("finished_at", _("Finished at")),
    )
    list_filter = (choice_filter("source", _("Source"), SOURCE), choice_filter("status", _("Status"), RUN_STATUS))
    date_hierarchy = "business_day"
    labels = {
        "business_day": _("Business day"),
        "source": _("Source"),
        "status": _("Status"),
        "started_at": _("Started at"),
        "finished_at": _("Finished at"),
        "attempts": _("Attempts"),
        "matched": _("Matched"),
        "settled_amount": _("Settled (OMR)"),
        "open_exceptions": _("Open exceptions"),
        "error": _("Error"),
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(lines=_lines_of_the_day())

    @admin.display(description=_("Statement lines"), ordering="lines")
    def line_count(self, run: ReconciliationRun) -> int:
        return run.lines or 0


# --- the exceptions queue ---------------------------------------------------------------------------


class AgeFilter(admin.SimpleListFilter):
    """How long an exception has waited, in the report's buckets (from its business day to today)."""

    title = _("Age")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return list(AGE.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        bucket = next((bucket for bucket in AGE_BUCKETS if bucket.key == self.value()), None)
        return queryset if bucket is None else queryset.filter(bucket.days_range(today()))


class OwnerFilter(admin.SimpleListFilter):
    """The reader's own exceptions, or those nobody owns yet."""

    title = _("Owner")
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("mine", _("Mine")), ("unassigned", _("Unassigned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "mine":
            return queryset.filter(owner=request.user)
        if self.value() == "unassigned":
            return queryset.filter(owner__isnull=True)
        return queryset


class ResolutionForm(helpers.ActionForm):
    """What finance fills in beside the action menu: how to resolve, with which entry or account, and why; or
    to whom an exception is assigned."""

    resolution = forms.ChoiceField(
        label=_("Resolution"), choices=[("", "---------"), *RESOLUTION_ACTION.items()], required=False
    )
    entry = forms.CharField(label=_("Ledger entry (to match)"), required=False, max_length=64)
    account_code = forms.CharField(label=_("Account code (to adjust)"), required=False, max_length=40)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    #: A plain field with a menu, not a model choice: a user the menu does not offer is refused by the service,
    #: in its words, rather than by the admin as "no action selected".
    assignee = forms.CharField(label=_("Assign to"), required=False, widget=forms.Select)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people = finance_users().order_by("username")
        self.fields["assignee"].widget.choices = [
            ("", "---------"),
            *((str(user.pk), user.get_full_name() or user.get_username()) for user in people),
        ]


class ResolutionInline(admin.TabularInline):
    model = Resolution
    fields = ("action", "entry", "account_code", "note", "status", "proposed_by", "proposed_at", "decided_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("resolution")
    verbose_name_plural = _("resolutions")

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        kwargs.setdefault(
            "labels",
            {
                "action": _("Resolution"),
                "entry": _("Ledger entry"),
                "account_code": _("Account code"),
                "note": _("Note"),
                "status": _("Status"),
                "proposed_by": _("Proposed by"),
                "proposed_at": _("Proposed at"),
                "decided_by": _("Decided by"),
            },
        )
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ReconException)
class ReconExceptionAdmin(BackOfficeAdmin):
    """The queue: filter by status, kind, source and age; propose, approve or reject a resolution."""

    list_display = (
        "pk",
        column("business_day", _("Business day")),
        column("source", _("Source"), choices=SOURCE),
        column("kind", _("Kind"), choices=EXCEPTION_KIND),
        column("amount", _("Amount (OMR)")),
        column("status", _("Status"), choices=EXCEPTION_STATUS),
        "age",
        column("owner", _("Owner")),
        column("detail", _("Detail")),
    )
    list_filter = (
        choice_filter("status", _("Status"), EXCEPTION_STATUS),
        choice_filter("kind", _("Kind"), EXCEPTION_KIND),
        choice_filter("source", _("Source"), SOURCE),
        AgeFilter,
        OwnerFilter,
    )
    search_fields = ("detail", "line__reference", "entry__reference")
    list_select_related = ("owner",)
    inlines = [ResolutionInline]
    action_form = ResolutionForm
    actions = ["propose_resolution", "approve_resolution", "reject_resolution", "assign_to_me", "assign_to"]
    labels = {
        "kind": _("Kind"),
        "source": _("Source"),
        "business_day": _("Business day"),
        "amount": _("Amount (OMR)"),
        "line": _("Statement line"),
        "entry": _("Ledger entry"),
        "batch": _("Gateway batch"),
        "detail": _("Detail"),
        "suggestions": _("Candidate ledger entries"),
        "owner": _("Owner"),
        "assigned_by": _("Assigned by"),
        "assigned_at": _("Assigned at"),
        "status": _("Status"),
        "resolved_at": _("Resolved at"),
    }

    @admin.display(description=_("Age (days)"))
    def age(self, exception: ReconException) -> int:
        return age_in_days(exception, today())

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        """Only finance resolves (the service checks it again); admins read the queue."""
        return is_back_office(request.user) and has_role(request.user, Role.FINANCE)

    @admin.action(description=_("Propose the resolution filled in above"), permissions=["resolve"])
    def propose_resolution(self, request: HttpRequest, queryset: QuerySet) -> None:
        action = request.POST.get("resolution", "")
        if action not in RESOLUTION_ACTION:
            self.message_user(request, _("Choose a resolution (match, write off or adjust)."), messages.ERROR)
            return
        entry = None
        if raw := request.POST.get("entry", "").strip():
            entry = _entry(raw)
            if entry is None:
                self.message_user(request, _("There is no ledger entry %(entry)s.") % {"entry": raw}, messages.ERROR)
                return
        done = self.through_service(
            request,
            queryset.select_related("line"),
            lambda exception: services.propose(
                exception=exception,
                action=action,
                actor=request.user,
                note=request.POST.get("note", ""),
                entry=entry,
                account_code=request.POST.get("account_code", "").strip(),
            ),
            prefix=_exception_prefix,
        )
        self._done(request, done, ngettext("%d resolution proposed.", "%d resolutions proposed.", done))

    @admin.action(description=_("Approve the proposed resolution"), permissions=["resolve"])
    def approve_resolution(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = self.through_service(
            request,
            self._proposals(request, queryset),
            lambda pair: services.approve(resolution=pair[1], actor=request.user),
            prefix=lambda pair: _exception_prefix(pair[0]),
        )
        self._done(request, done, ngettext("%d resolution approved.", "%d resolutions approved.", done))

    @admin.action(description=_("Reject the proposed resolution (note above)"), permissions=["resolve"])
    def reject_resolution(self, request: HttpRequest, queryset: QuerySet) -> None:
        note = request.POST.get("note", "").strip()
        done = self.through_service(
            request,
            self._proposals(request, queryset),
            lambda pair: services.reject(resolution=pair[1], actor=request.user, note=note),
            prefix=lambda pair: _exception_prefix(pair[0]),
        )
        self._done(request, done, ngettext("%d resolution rejected.", "%d resolutions rejected.", done))

    @admin.action(description=_("Assign to me"), permissions=["resolve"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = self.through_service(
            request,
            queryset,
            lambda exception: services.assign(exception=exception, assignee=request.user, actor=request.user),
            prefix=_exception_prefix,
        )
        self._done(request, done, ngettext("%d exception assigned to you.", "%d exceptions assigned to you.", done))

    @admin.action(description=_("Assign to the finance user chosen above"), permissions=["resolve"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet) -> None:
        raw = request.POST.get("assignee", "").strip()
        assignee = _user(raw)
        if assignee is None:
            self.message_user(request, _("Choose the finance user to assign to."), messages.ERROR)
            return
        done = self.through_service(
            request,
            queryset,
            lambda exception: services.assign(exception=exception, assignee=assignee, actor=request.user),
            prefix=_exception_prefix,
        )
        if done:
            message = ngettext(
                "%(count)d exception assigned to %(user)s.", "%(count)d exceptions assigned to %(user)s.", done
            ) % {"count": done, "user": assignee.get_full_name() or assignee.get_username()}
            self.message_user(request, message, messages.SUCCESS)

    def _proposals(self, request: HttpRequest, queryset: QuerySet):
        """(exception, its open proposal) for each selected exception; those without one are named."""
        for exception in queryset:
            proposal = exception.resolutions.filter(status=ResolutionStatus.PROPOSED).first()
            if proposal is None:
                message = _("Exception %(id)s has no proposed resolution to decide on.") % {"id": exception.pk}
                self.message_user(request, message, messages.ERROR)
                continue
            yield exception, proposal

    def _done(self, request: HttpRequest, count: int, message: str) -> None:
        if count:
            self.message_user(request, message % count, messages.SUCCESS)


def _exception_prefix(exception: ReconException) -> str:
    return _("Exception %(id)s: ") % {"id": exception.pk}


def _user(raw: str):
    """The user whose id the form sent, or None (none chosen, or not an id)."""
    return get_user_model().objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() else None


def _entry(raw: str) -> Entry | None:
    try:
        return Entry.objects.filter(pk=uuid.UUID(raw)).first()
    except ValueError:
        return None
