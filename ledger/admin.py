"""Back-office views of the ledger: read-only. Money is written by services, never by a form."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from erial.backoffice import BackOfficeRoleRequired
from erial.money import is_exact

from .models import Account, DaySeal, Entry, FeeRate, Holder, Payment, Posting, Service, Wallet
from .selectors import balance


class ReadOnlyAdmin(BackOfficeRoleRequired, admin.ModelAdmin):
    """The ledger as finance and admin staff read it: nothing here adds, changes or deletes a row."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "kind", "owner_kind", "tracks_balance", "current_balance")
    list_filter = ("kind", "owner_kind", "tracks_balance")
    search_fields = ("code", "name", "owner_ref")
    list_select_related = ("cached_balance",)

    @admin.display(description="Balance (OMR)")
    def current_balance(self, account: Account) -> str:
        if account.tracks_balance:
            return f"{account.cached_balance.balance:.3f}"
        return f"{balance(account):.3f}"


class PostingInline(admin.TabularInline):
    model = Posting
    fields = ("account", "amount", "balance_after")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "memo", "business_day", "reverses")
    list_filter = ("kind", "business_day")
    search_fields = ("id", "memo")
    date_hierarchy = "created_at"
    inlines = [PostingInline]


@admin.register(DaySeal)
class DaySealAdmin(ReadOnlyAdmin):
    list_display = ("business_day", "entry_count", "posting_count", "total_debits", "digest", "sealed_at")


class FeeRateForm(forms.ModelForm):
    class Meta:
        model = FeeRate
        fields = ["effective_from", "fee", "note"]

    def clean_fee(self):
        fee = self.cleaned_data["fee"]
        if fee < 0 or not is_exact(fee):
            raise forms.ValidationError("The fee is zero or more, in whole baisa (3 decimals).")
        return fee

    def clean_effective_from(self):
        when = self.cleaned_data["effective_from"]
        if when < timezone.now():
            raise forms.ValidationError("A new fee starts now or later: the fee of past payments never changes.")
        return when


@admin.register(FeeRate)
class FeeRateAdmin(BackOfficeRoleRequired, admin.ModelAdmin):
    """Finance sets the fixed fee without a deploy: a new row per change, never an edit."""

    form = FeeRateForm
    list_display = ("effective_from", "fee", "note", "created_by", "created_at")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Service)
class ServiceAdmin(BackOfficeRoleRequired, SimpleHistoryAdmin):
    list_display = ("code", "name_en", "name_ar", "revenue_account", "is_active")

    def get_readonly_fields(self, request, obj=None):
        # The revenue account of a service that has been paid is history: it never moves.
        return ("code", "revenue_account") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Wallet)
class WalletAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    """Wallets are opened and moved through their lifecycle by services (API, portal), never edited here."""

    list_display = ("number", "holder", "status", "channel", "opened_at")
    list_filter = ("status", "channel")
    search_fields = ("number", "holder__national_id", "holder__name_en", "holder__name_ar", "holder__phone")
    list_select_related = ("holder",)


@admin.register(Holder)
class HolderAdmin(SimpleHistoryAdmin, ReadOnlyAdmin):
    list_display = ("national_id", "holder_type", "name_en", "name_ar", "phone")
    search_fields = ("national_id", "name_en", "name_ar", "phone")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "service", "bill_reference", "wallet", "amount", "fee")
    list_filter = ("service",)
    search_fields = ("bill_reference", "wallet__number")
    list_select_related = ("service", "wallet")
