"""Finance's back office of the agent network: offices and their lifecycle, cashiers, sessions, cash top-ups,
and the effective-dated limits and commission rules.

Offices move through their lifecycle only by ``agents.services`` (which checks, for instance, that an office
is owed nothing before it is terminated); the page shows the service's refusal. Limits and commission rules
are data with an effective date: a rule in force is history (top-ups were charged under it) and is never
edited or deleted; a new row supersedes it. A rule not yet in force may still be corrected or withdrawn.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from erial.backoffice import BackOfficeAdmin, EditableBackOfficeAdmin, choice_filter, column, is_back_office
from erial.errors import DomainError
from erial.money import format_amount, is_exact, parse_amount
from erial.roles import Role, has_role
from erial.text import western_digits

from . import corrections, deposits, services
from .forms import AMOUNT_HELP
from .models import (
    Cashier,
    CashierSession,
    CashTopup,
    CommissionKind,
    CommissionRule,
    Limit,
    Office,
    OfficeKind,
    OfficeStatus,
    TopupCorrection,
)

OFFICE_KIND = {"internal": _("Internal (municipal cashier)"), "external": _("External agent")}
OFFICE_STATUS = {
    "onboarding": _("Onboarding"),
    "active": _("Active"),
    "suspended": _("Suspended"),
    "terminated": _("Terminated"),
}
SESSION_STATUS = {"open": _("Open"), "closed": _("Closed")}
LIMIT_KIND = {
    "per_transaction": _("Per top-up"),
    "office_daily": _("Per office per day"),
    "wallet_daily": _("Per wallet per day (cash top-ups)"),
    "wallet_max_balance": _("Maximum wallet balance"),
}
COMMISSION_KIND = {"flat": _("Flat amount per top-up"), "percent": _("Percentage of the top-up")}
CORRECTION_STATUS = {"proposed": _("Proposed"), "approved": _("Approved"), "rejected": _("Rejected")}
CORRECTION_LABELS = {
    "topup": _("Cash top-up"),
    "wallet": _("Right account"),
    "reason": _("Reason"),
    "status": _("Status"),
    "proposed_by": _("Proposed by"),
    "proposed_at": _("Proposed at"),
    "decided_by": _("Decided by"),
    "decided_at": _("Decided at"),
    "decision_note": _("Note on the decision"),
    "entry": _("Ledger entry"),
}


# --- offices ----------------------------------------------------------------------------------------


class LifecycleForm(helpers.ActionForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=100)
    deposit_amount = forms.CharField(label=_("Cash deposit (OMR)"), required=False, max_length=24)
    slip_reference = forms.CharField(label=_("Bank slip reference"), required=False, max_length=64)


#: admin action -> the service that moves an office through its lifecycle
LIFECYCLE = {
    "activate": services.activate_office,
    "suspend": services.suspend_office,
    "reinstate": services.reinstate_office,
    "terminate": services.terminate_office,
}


@admin.register(Office)
class OfficeAdmin(BackOfficeAdmin):
    list_display = (
        column("code", _("Code")),
        "name",
        column("kind", _("Kind"), choices=OFFICE_KIND),
        column("status", _("Status"), choices=OFFICE_STATUS),
        "float_balance",
    )
    list_filter = (choice_filter("kind", _("Kind"), OFFICE_KIND), choice_filter("status", _("Status"), OFFICE_STATUS))
    search_fields = ("code", "name_en", "name_ar", "wilayat")
    list_select_related = ("cash_account__cached_balance",)
    action_form = LifecycleForm
    actions = ["activate", "suspend", "reinstate", "terminate", "record_cash_deposit"]
    labels = {
        "code": _("Code"),
        "name_en": _("Name in English"),
        "name_ar": _("Name in Arabic"),
        "kind": _("Kind"),
        "wilayat": _("Wilayat"),
        "contact_name": _("Contact name"),
        "contact_phone": _("Contact phone"),
        "status": _("Status"),
        "cash_account": _("Cash drawer or float account"),
        "commission_account": _("Commission payable account"),
    }

    @admin.display(description=_("Name"), ordering="name_en")
    def name(self, office: Office) -> str:
        return f"{office.name_en} / {office.name_ar}"

    @admin.display(description=_("Float or drawer (OMR)"))
    def float_balance(self, office: Office) -> str:
        """The external agent's prefunded float (negative: using its credit), or the internal drawer's cash."""
        return format_amount(office.cash_account.cached_balance.balance)

    def has_lifecycle_permission(self, request: HttpRequest) -> bool:
        return is_back_office(request.user) and request.user.has_perm("agents.change_office")

    def _move(self, request: HttpRequest, queryset: QuerySet, action: str) -> None:
        """Each office through the service; a refusal is shown in the service's words, the others proceed."""
        reason = request.POST.get("reason", "").strip()
        move = LIFECYCLE[action]
        done = self.through_service(
            request, queryset, lambda office: move(office=office, actor=request.user, reason=reason or action)
        )
        if done:
            message = ngettext("%(count)d office updated.", "%(count)d offices updated.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Activate (onboarding complete)"), permissions=["lifecycle"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._move(request, queryset, "activate")

    @admin.action(description=_("Suspend (refuse new transactions)"), permissions=["lifecycle"])
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._move(request, queryset, "suspend")

    @admin.action(description=_("Reinstate"), permissions=["lifecycle"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._move(request, queryset, "reinstate")

    @admin.action(description=_("Terminate (only when nothing is owed)"), permissions=["lifecycle"])
    def terminate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._move(request, queryset, "terminate")

    def has_deposit_permission(self, request: HttpRequest) -> bool:
        return is_back_office(request.user) and has_role(request.user, Role.FINANCE)

    @admin.action(description=_("Record a cash deposit at the bank (amount and slip above)"), permissions=["deposit"])
    def record_cash_deposit(self, request: HttpRequest, queryset: QuerySet) -> None:
        """One internal office's cash paid into the bank, from the bank's slip (``agents.deposits``)."""
        if queryset.count() != 1:
            self.message_user(request, _("Choose one office: a deposit slip is for one office."), messages.ERROR)
            return
        raw, slip = request.POST.get("deposit_amount", ""), request.POST.get("slip_reference", "")
        office = queryset.get()
        try:
            amount = parse_amount(western_digits(raw))
        except DomainError:
            self.message_user(request, str(AMOUNT_HELP), messages.ERROR)
            return
        # One key per office, slip and amount: the page sent twice records the deposit once.
        key = f"admin:{office.code}:{slip.strip()}:{format_amount(amount)}"
        done = self.through_service(
            request,
            [office],
            lambda office: deposits.record_cash_deposit(
                office=office, amount=amount, slip_reference=slip, actor=request.user, idempotency_key=key
            ),
        )
        if done:
            message = _("Cash deposit of %(amount)s OMR recorded for %(office)s: the bank statement will confirm it.")
            self.message_user(
                request, message % {"amount": format_amount(amount), "office": office.code}, messages.SUCCESS
            )


class CashierAddForm(forms.ModelForm):
    """A new cashier: a new login for one office. The service checks and creates; the form shows its refusals
    next to the field they are about."""

    username = forms.CharField(label=_("Username"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=300, required=False)
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = Cashier
        fields = ("office", "is_supervisor")
        labels = {"office": _("Office"), "is_supervisor": _("Supervisor")}

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        elif data.get("office") and data.get("username") and data.get("password1"):
            try:
                services.check_new_cashier(
                    office=data["office"],
                    username=data["username"],
                    password=data["password1"],
                    full_name=data.get("full_name", ""),
                )
            except DomainError as refusal:
                field = {"password": "password1"}.get(refusal.extra.get("field"), refusal.extra.get("field"))
                self.add_error(field if field in self.fields else None, refusal.detail)
        return data


@admin.register(Cashier)
class CashierAdmin(EditableBackOfficeAdmin):
    """Admins add a cashier (a new login for one office) and say who supervises; every change goes through
    ``agents.services`` (``enrol_cashier``, ``add_cashier``), which grant the agent role and nothing more."""

    list_display = (
        column("user", _("User")),
        column("office", _("Office")),
        column("is_supervisor", _("Supervisor")),
        "login_active",
    )
    list_filter = ("is_supervisor", ("user__is_active", admin.BooleanFieldListFilter))
    search_fields = ("user__username", "office__code")
    list_select_related = ("user", "office")
    labels = {"user": _("User"), "office": _("Office"), "is_supervisor": _("Supervisor")}
    actions = ["disable_login", "enable_login"]

    @admin.display(description=_("Login active"), boolean=True, ordering="user__is_active")
    def login_active(self, cashier: Cashier) -> bool:
        return cashier.user.is_active

    @admin.action(description=_("Disable login (the cashier has left)"), permissions=["change"])
    def disable_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_login(request, queryset, active=False)

    @admin.action(description=_("Enable login"), permissions=["change"])
    def enable_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_login(request, queryset, active=True)

    def _set_login(self, request: HttpRequest, queryset: QuerySet, *, active: bool) -> None:
        """Each cashier through the service; a refusal is shown in its words, the others proceed."""
        done = self.through_service(
            request,
            queryset.select_related("user"),
            lambda cashier: services.set_cashier_login(cashier=cashier, active=active),
        )
        if done:
            message = ngettext("%(count)d cashier updated.", "%(count)d cashiers updated.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # a cashier's sessions and top-ups name them: a login is disabled, never deleted

    def get_fields(self, request: HttpRequest, obj: Cashier | None = None):
        if obj is None:
            return ("office", "username", "full_name", "password1", "password2", "is_supervisor")
        return ("user", "office", "is_supervisor")

    def get_readonly_fields(self, request: HttpRequest, obj: Cashier | None = None):
        return () if obj is None else ("user", "office")

    def get_form(self, request: HttpRequest, obj: Cashier | None = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = CashierAddForm
        return super().get_form(request, obj, change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name == "office":
            kwargs["queryset"] = Office.objects.exclude(status=OfficeStatus.TERMINATED).order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> Cashier:
        """Through the services, so their rules and the role come with it (the form checked them first)."""
        data = form.cleaned_data
        if change:
            return services.add_cashier(
                office=form.instance.office, user=form.instance.user, supervisor=data["is_supervisor"]
            )
        return services.enrol_cashier(
            office=data["office"],
            username=data["username"],
            password=data["password1"],
            full_name=data.get("full_name", ""),
            supervisor=data["is_supervisor"],
        )

    def save_model(self, request: HttpRequest, obj: Cashier, form: forms.ModelForm, change: bool) -> None:
        """Nothing left to save: ``save_form`` did it through the services."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:
        """A cashier has no related rows to save here (and the form never saved itself)."""


@admin.register(CashierSession)
class CashierSessionAdmin(BackOfficeAdmin):
    list_display = (
        column("opened_at", _("Opened at")),
        column("office", _("Office")),
        column("cashier", _("Cashier")),
        column("status", _("Status"), choices=SESSION_STATUS),
        column("opening_cash", _("Opening cash")),
        column("expected_cash", _("Expected cash")),
        column("counted_cash", _("Counted cash")),
        column("difference", _("Difference")),
    )
    list_filter = (choice_filter("status", _("Status"), SESSION_STATUS), "business_day")
    search_fields = ("office__code", "cashier__user__username")
    list_select_related = ("office", "cashier__user", "cashier__office")
    labels = {
        "cashier": _("Cashier"),
        "office": _("Office"),
        "status": _("Status"),
        "business_day": _("Business day"),
        "opened_at": _("Opened at"),
        "opening_cash": _("Opening cash"),
        "closed_at": _("Closed at"),
        "expected_cash": _("Expected cash"),
        "counted_cash": _("Counted cash"),
        "difference": _("Difference"),
        "supervisor_note": _("Supervisor's note"),
        "over_short_entry": _("Cash over/short entry"),
    }


class TopupCorrectionInline(admin.TabularInline):
    """A cash top-up's corrections, read-only on its page (they are proposed and decided on their own page)."""

    model = TopupCorrection
    fields = ("wallet", "reason", "state", "proposed_by", "proposed_at", "decided_by", "decided_at", "entry")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("top-up correction")
    verbose_name_plural = _("top-up corrections")

    @admin.display(description=_("Status"))
    def state(self, correction: TopupCorrection) -> str:
        return CORRECTION_STATUS.get(correction.status, correction.status)

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        kwargs.setdefault("labels", dict(CORRECTION_LABELS))
        return super().get_formset(request, obj, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(CashTopup)
class CashTopupAdmin(BackOfficeAdmin):
    list_display = (
        column("created_at", _("Time")),
        column("receipt_number", _("Receipt no.")),
        column("office", _("Office")),
        column("wallet", _("Wallet")),
        column("amount", _("Amount (OMR)")),
        column("commission", _("Commission (OMR)")),
        "voided",
    )
    list_filter = ("office",)
    search_fields = ("receipt_number", "wallet__number", "office__code")
    list_select_related = ("office", "wallet")
    date_hierarchy = "created_at"
    inlines = [TopupCorrectionInline]
    labels = {
        "receipt_number": _("Receipt no."),
        "session": _("Cashier session"),
        "office": _("Office"),
        "wallet": _("Wallet"),
        "amount": _("Amount (OMR)"),
        "commission": _("Commission (OMR)"),
        "entry": _("Ledger entry"),
        "created_at": _("Time"),
        "created_by": _("Cashier"),
        "void_entry": _("Void entry"),
        "voided_at": _("Voided at"),
    }

    @admin.display(description=_("Voided"), boolean=True)
    def voided(self, topup: CashTopup) -> bool:
        return topup.is_voided


# --- corrections of cash top-ups: maker-checker ----------------------------------------------------------


class CorrectionProposalForm(forms.ModelForm):
    """The maker's proposal: the top-up by its receipt number, the account it should have gone to, and why.

    ``agents.corrections`` checks it (nothing written) and the page shows a refusal next to the field it is
    about; saving proposes through the same service. ``actor`` is set per request by the admin.
    """

    receipt_number = forms.CharField(
        label=_("Receipt no."), max_length=20, help_text=_("The receipt of the cash top-up, for example R12345678901.")
    )
    account_number = forms.CharField(
        label=_("Right account"), max_length=20, help_text=_("The e-Rial account the cash was meant for (8 digits).")
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    actor: Any = None

    class Meta:
        model = TopupCorrection
        fields = ("reason",)

    def clean(self) -> dict:
        data = super().clean()
        self.topup = None
        if all(data.get(name) for name in ("receipt_number", "account_number", "reason")):
            try:
                topup = corrections.topup_by_receipt(data["receipt_number"])
                corrections.check_correction(
                    topup=topup, account_number=data["account_number"], reason=data["reason"], actor=self.actor
                )
            except DomainError as refusal:
                field = refusal.extra.get("field")
                self.add_error(field if field in self.fields else None, refusal.detail)
            else:
                self.topup = topup
        return data


class DecisionForm(helpers.ActionForm):
    note = forms.CharField(label=_("Note (on a rejection)"), required=False, max_length=500)


@admin.register(TopupCorrection)
class TopupCorrectionAdmin(BackOfficeAdmin):
    """A cash top-up credited to the wrong wallet, moved to the right one under maker-checker: a finance user
    proposes (receipt number, right account, reason), another approves (one adjusting entry) or rejects, all
    through ``agents.corrections``, which refuses the proposer's own decision. Nobody edits or deletes one."""

    list_display = (
        column("proposed_at", _("Proposed at")),
        "receipt",
        "amount",
        "credited_to",
        "right_account",
        column("status", _("Status"), choices=CORRECTION_STATUS),
        column("proposed_by", _("Proposed by")),
        column("decided_by", _("Decided by")),
    )
    list_filter = (choice_filter("status", _("Status"), CORRECTION_STATUS),)
    search_fields = ("topup__receipt_number", "topup__wallet__number", "wallet__number")
    list_select_related = ("topup__wallet", "wallet", "proposed_by", "decided_by")
    action_form = DecisionForm
    actions = ["approve_correction", "reject_correction"]
    labels = CORRECTION_LABELS

    @admin.display(description=_("Receipt no."), ordering="topup__receipt_number")
    def receipt(self, correction: TopupCorrection) -> str:
        return correction.topup.receipt_number

    @admin.display(description=_("Amount (OMR)"), ordering="topup__amount")
    def amount(self, correction: TopupCorrection) -> str:
        return format_amount(correction.topup.amount)

    @admin.display(description=_("Credited to"), ordering="topup__wallet__number")
    def credited_to(self, correction: TopupCorrection) -> str:
        return correction.topup.wallet.number

    @admin.display(description=_("Right account"), ordering="wallet__number")
    def right_account(self, correction: TopupCorrection) -> str:
        return correction.wallet.number

    @admin.display(description=_("Status"))
    def state(self, correction: TopupCorrection) -> str:
        return CORRECTION_STATUS.get(correction.status, correction.status)

    def _finance(self, request: HttpRequest) -> bool:
        """Finance proposes and decides (the service checks it again); admins read."""
        return is_back_office(request.user) and has_role(request.user, Role.FINANCE)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._finance(request) and admin.ModelAdmin.has_add_permission(self, request)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return self._finance(request) and request.user.has_perm("agents.change_topupcorrection")

    def get_fields(self, request: HttpRequest, obj: TopupCorrection | None = None):
        if obj is None:
            return ("receipt_number", "account_number", "reason")
        return (
            "topup",
            "credited_to",
            "wallet",
            "amount",
            "reason",
            "state",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "entry",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: TopupCorrection | None = None):
        return () if obj is None else self.get_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: TopupCorrection | None = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = type("CorrectionProposalForm", (CorrectionProposalForm,), {"actor": request.user})
        return super().get_form(request, obj, change, **kwargs)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        """A refusal the form's check could not foresee (another proposal saved in between): shown, nothing saved."""
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as refusal:
            self.refused(request, refusal)
            return HttpResponseRedirect(request.get_full_path())

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> TopupCorrection:
        """Through the service, which checks again under the top-up's lock (the form checked first)."""
        data = form.cleaned_data
        return corrections.propose_correction(
            topup=form.topup, account_number=data["account_number"], reason=data["reason"], actor=request.user
        )

    def save_model(self, request: HttpRequest, obj: TopupCorrection, form: forms.ModelForm, change: bool) -> None:
        """Nothing left to save: ``save_form`` did it through the service."""

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:
        """A correction has no related rows to save here (and the form never saved itself)."""

    @admin.action(description=_("Approve the correction (move the money)"), permissions=["decide"])
    def approve_correction(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = self.through_service(
            request,
            queryset.select_related("topup"),
            lambda correction: corrections.approve_correction(correction=correction, actor=request.user),
            prefix=_correction_prefix,
        )
        if done:
            message = ngettext("%(count)d correction approved.", "%(count)d corrections approved.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Reject the correction (note above)"), permissions=["decide"])
    def reject_correction(self, request: HttpRequest, queryset: QuerySet) -> None:
        note = request.POST.get("note", "").strip()
        done = self.through_service(
            request,
            queryset.select_related("topup"),
            lambda correction: corrections.reject_correction(correction=correction, actor=request.user, note=note),
            prefix=_correction_prefix,
        )
        if done:
            message = ngettext("%(count)d correction rejected.", "%(count)d corrections rejected.", done)
            self.message_user(request, message % {"count": done}, messages.SUCCESS)


def _correction_prefix(correction: TopupCorrection) -> str:
    return _("Correction of %(receipt)s: ") % {"receipt": correction.topup.receipt_number}


# --- effective-dated rules --------------------------------------------------------------------------


def _exact(value: Decimal | None, *, positive: bool) -> Decimal | None:
    if value is None:
        return None
    if not is_exact(value) or value < 0 or (positive and value == 0):
        what = _("more than zero") if positive else _("zero or more")
        raise forms.ValidationError(_("Give an amount %(what)s, in whole baisa (3 decimals).") % {"what": what})
    return value


class RuleForm(forms.ModelForm):
    """Shared by limits and commission rules: a rule starts now or later, so no past top-up changes."""

    def clean_effective_from(self):
        when = self.cleaned_data["effective_from"]
        if when < timezone.now():
            raise forms.ValidationError(_("A rule starts now or later: top-ups already made keep their rule."))
        return when

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and not _pending(type(self.instance).objects.get(pk=self.instance.pk)):
            raise forms.ValidationError(_("This rule is in force: add a new one to supersede it."))
        return cleaned


class LimitForm(RuleForm):
    class Meta:
        model = Limit
        fields = ["kind", "amount", "office", "effective_from", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # absent on the read-only page of a rule in force
            self.fields["kind"].choices = [("", "---------"), *LIMIT_KIND.items()]

    def clean_amount(self):
        return _exact(self.cleaned_data["amount"], positive=True)


class CommissionRuleForm(RuleForm):
    class Meta:
        model = CommissionRule
        fields = ["kind", "rate", "minimum", "maximum", "office", "effective_from"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:  # absent on the read-only page of a rule in force
            self.fields["kind"].choices = [("", "---------"), *COMMISSION_KIND.items()]

    def clean_rate(self):
        return _exact(self.cleaned_data["rate"], positive=False)

    def clean_minimum(self):
        return _exact(self.cleaned_data["minimum"], positive=False)

    def clean_maximum(self):
        return _exact(self.cleaned_data.get("maximum"), positive=False)

    def clean(self):
        cleaned = super().clean()
        kind, rate = cleaned.get("kind"), cleaned.get("rate")
        minimum, maximum = cleaned.get("minimum"), cleaned.get("maximum")
        if kind == CommissionKind.PERCENT and rate is not None and rate > 100:
            self.add_error("rate", _("A percentage is at most 100."))
        if minimum is not None and maximum is not None and maximum < minimum:
            self.add_error("maximum", _("The maximum is not below the minimum."))
        office = cleaned.get("office")
        if office is not None and office.kind != OfficeKind.EXTERNAL:
            self.add_error("office", _("Only external agents earn commission."))
        return cleaned


def _pending(rule: Limit | CommissionRule) -> bool:
    """Not yet in force: no top-up has been charged under it."""
    return rule.effective_from > timezone.now()


class RuleAdmin(EditableBackOfficeAdmin):
    """Add-only once in force: a rule already applied is history, a new row supersedes it."""

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or _pending(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and obj is not None and _pending(obj)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would not look at each rule's date
        return actions

    @admin.display(description=_("In force"), boolean=True)
    def in_force(self, rule: Limit | CommissionRule) -> bool:
        return not _pending(rule)


RULE_LABELS = {
    "kind": _("Kind"),
    "amount": _("Amount (OMR)"),
    "office": _("Office (empty: every office)"),
    "effective_from": _("In force from"),
    "note": _("Note"),
    "rate": _("Rate (OMR, or percent)"),
    "minimum": _("Minimum (OMR)"),
    "maximum": _("Maximum (OMR)"),
}


@admin.register(Limit)
class LimitAdmin(RuleAdmin):
    form = LimitForm
    labels = RULE_LABELS
    list_display = (
        column("kind", _("Kind"), choices=LIMIT_KIND),
        column("amount", _("Amount (OMR)")),
        column("office", _("Office")),
        column("effective_from", _("In force from")),
        "in_force",
        column("note", _("Note")),
    )
    list_filter = (choice_filter("kind", _("Kind"), LIMIT_KIND),)
    list_select_related = ("office",)


@admin.register(CommissionRule)
class CommissionRuleAdmin(RuleAdmin):
    form = CommissionRuleForm
    labels = RULE_LABELS
    list_display = (
        column("kind", _("Kind"), choices=COMMISSION_KIND),
        column("rate", _("Rate (OMR, or percent)")),
        column("minimum", _("Minimum (OMR)")),
        column("maximum", _("Maximum (OMR)")),
        column("office", _("Office")),
        column("effective_from", _("In force from")),
        "in_force",
    )
    list_filter = (choice_filter("kind", _("Kind"), COMMISSION_KIND),)
    list_select_related = ("office",)


class OpenDrawerGuardedUserForm(UserChangeForm):
    """Django's user form, except that it will not untick "active" for a cashier with an open session."""

    def clean_is_active(self) -> bool:
        active = self.cleaned_data.get("is_active")
        if self.instance.pk and self.instance.is_active and not active:
            try:
                services.refuse_disabling_with_open_session(self.instance)
            except DomainError as refused:
                raise forms.ValidationError(refused.detail) from None
        return active


class OpenDrawerGuardedUserAdmin(UserAdmin):
    form = OpenDrawerGuardedUserForm


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), OpenDrawerGuardedUserAdmin)
