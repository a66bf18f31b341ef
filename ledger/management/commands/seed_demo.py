"""``manage.py seed_demo``: demo users, accounts and entries of every kind; safe to run twice.

Every demo movement goes through ``post()``/``reverse()`` with a fixed idempotency key, so a second run
replays instead of posting again.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from ledger import services
from ledger.chart import SystemAccount, ensure_system_chart
from ledger.models import Account, AccountKind, EntryKind, OwnerKind
from ledger.services import Leg

DEMO_PASSWORD = "erial-demo"
SCOPE = "seed_demo"


def _account(code: str, name: str, kind: str, owner_kind: str, floor: Decimal | None) -> Account:
    existing = Account.objects.filter(code=code).first()
    if existing:
        return existing
    return services.open_account(
        code=code, name=name, kind=kind, owner_kind=owner_kind, owner_ref=code, tracks_balance=True, floor=floor
    )


def _post(k: str, kind: str, memo: str, *legs: tuple[Account, str]):
    return services.post(
        kind=kind, legs=[Leg(a, Decimal(x)) for a, x in legs], idempotency_key=k, scope=SCOPE, memo=memo
    )


class Command(BaseCommand):
    help = "Create demo users, accounts and entries of every kind (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        ensure_system_chart()
        users = get_user_model().objects
        admin, created = users.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        finance, created = users.get_or_create(username="finance", defaults={"is_staff": True})
        if created:
            finance.set_password(DEMO_PASSWORD)
            finance.save()
        finance.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="ledger", codename__startswith="view_")
        )

        sys = {code: Account.objects.get(code=code) for code in SystemAccount}
        aisha = _account(
            "W-100001", "Aisha Al-Balushi · عائشة البلوشية", AccountKind.LIABILITY, OwnerKind.WALLET, Decimal(0)
        )
        company = _account(
            "W-100002", "Muscat Trading LLC · شركة مسقط التجارية", AccountKind.LIABILITY, OwnerKind.WALLET, Decimal(0)
        )
        drawer = _account(
            "CASH-MCT01", "Cash drawer · Muscat directorate", AccountKind.ASSET, OwnerKind.OFFICE, Decimal(0)
        )
        float_ = _account(
            "FLOAT-AG01",
            "Agent float · Seeb internet café",
            AccountKind.LIABILITY,
            OwnerKind.OFFICE,
            Decimal("-200.000"),
        )

        bank, clearing = sys[SystemAccount.BANK], sys[SystemAccount.BANK_CLEARING]
        lease, parking = sys[SystemAccount.REVENUE_LEASE_RENEWAL], sys[SystemAccount.REVENUE_PARKING_FINE]
        fee = sys[SystemAccount.FEE_INCOME]

        _post(
            "cash-1", EntryKind.CASH_TOPUP, "Cash top-up at Muscat directorate", (drawer, "50.000"), (aisha, "-50.000")
        )
        _post("float-1", EntryKind.FLOAT_DEPOSIT, "Agent float deposit", (bank, "500.000"), (float_, "-500.000"))
        _post("agent-1", EntryKind.CASH_TOPUP, "Cash top-up at Seeb café", (float_, "120.000"), (company, "-120.000"))
        _post("online-1", EntryKind.ONLINE_TOPUP, "Online top-up (bank)", (clearing, "30.000"), (aisha, "-30.000"))
        _post(
            "settle-1", EntryKind.SETTLEMENT, "Bank statement: online top-ups", (bank, "30.000"), (clearing, "-30.000")
        )
        _post("deposit-1", EntryKind.CASH_DEPOSIT, "Directorate cash banked", (clearing, "50.000"), (drawer, "-50.000"))
        lease_payment = _post(
            "pay-1",
            EntryKind.FEE_PAYMENT,
            "Lease renewal L-2026-0114",
            (company, "75.100"),
            (lease, "-75.000"),
            (fee, "-0.100"),
        )
        fine = _post(
            "pay-2",
            EntryKind.FEE_PAYMENT,
            "Parking fine P-88213",
            (aisha, "10.100"),
            (parking, "-10.000"),
            (fee, "-0.100"),
        )
        services.reverse(
            entry=lease_payment,
            legs=[Leg(company, Decimal("-25.000")), Leg(lease, Decimal("25.000"))],
            kind=EntryKind.REFUND,
            reason="Lease shortened: partial refund",
            idempotency_key="refund-1",
            scope=SCOPE,
        )
        services.reverse(
            entry=fine, reason="Fine cancelled by the directorate", idempotency_key="reversal-1", scope=SCOPE
        )

        self.stdout.write(self.style.SUCCESS("Demo data ready (safe to run again)."))
        self.stdout.write(f"  Back office logins: admin / {DEMO_PASSWORD} (administrator), finance / {DEMO_PASSWORD}")
