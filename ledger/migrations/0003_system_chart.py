"""The system chart of accounts (see ledger/chart.py for the codes)."""

from django.db import migrations

# (code, name, kind). Revenue and fee income are hot accounts: no cached balance, no floor, no lock.
SYSTEM_CHART = [
    ("bank", "Bank: municipality account at the partner bank", "asset"),
    ("bank_clearing", "Bank clearing: online top-ups awaiting the bank statement", "asset"),
    ("gateway_clearing", "Card gateway clearing: awaiting settlement", "asset"),
    ("suspense", "Suspense: unmatched statement lines", "liability"),
    ("fee_income", "Service fee income", "income"),
    ("cash_over_short", "Cash over/short", "expense"),
    ("commission_expense", "Agent commission expense", "expense"),
    ("gateway_fee_expense", "Card gateway fee expense", "expense"),
    ("revenue.lease_renewal", "Municipal revenue: lease-contract renewals", "income"),
    ("revenue.parking_fine", "Municipal revenue: parking fines", "income"),
    ("revenue.parking_permit", "Municipal revenue: parking permits", "income"),
    ("revenue.municipal_licence", "Municipal revenue: municipal licence renewals", "income"),
    ("revenue.building_permit", "Municipal revenue: building permits", "income"),
]


def create_chart(apps, schema_editor):
    Account = apps.get_model("ledger", "Account")
    for code, name, kind in SYSTEM_CHART:
        Account.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "owner_kind": "system", "tracks_balance": False}
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_guards")]
    # Accounts with postings cannot be deleted (PROTECT), so the reverse is a no-op by design.
    operations = [migrations.RunPython(create_chart, migrations.RunPython.noop)]
