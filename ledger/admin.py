"""Back-office views of the ledger: read-only. Money is written by services, never by a form."""

from django.contrib import admin

from .models import Account, DaySeal, Entry, Posting
from .selectors import balance


class ReadOnlyAdmin(admin.ModelAdmin):
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
