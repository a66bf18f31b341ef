"""``manage.py seed_demo``: demo users, wallets, offices, cashiers and entries of every kind; safe twice.

Every demo movement goes through the services with a fixed idempotency key, so a second run replays
instead of moving money again. Yesterday gets online top-ups, its reconciliation (a matched line, settled
batches, open exceptions) and its seal (``_demo_yesterday``), so the finance screens have a finished day to show.
It lives in reports, the top layer, because it drives every app below (agents, topups, settlements, ledger).
"""

from decimal import Decimal
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from agents import services as agents
from agents.models import CommissionKind, CommissionRule, Office, OfficeStatus
from erial.roles import Role, grant
from ledger import payments, portal_access, services, wallets
from ledger.chart import SystemAccount, ensure_services, ensure_system_chart
from ledger.models import Account, EntryKind, Holder, IdempotencyKey, OpeningChannel, Service, Wallet
from ledger.sealing import seal_through
from ledger.services import Leg

from . import _demo_yesterday as yesterday

DEMO_PASSWORD = "erial-demo"
SCOPE = "seed_demo"


@cache
def _demo_password_hash() -> str:
    """Hashed once per run: each hash costs half a second by design, and every demo login shares the password."""
    return make_password(DEMO_PASSWORD)


def _user(username: str, *roles: Role, staff: bool = False, superuser: bool = False):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": staff or superuser, "is_superuser": superuser}
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    for role in roles:
        grant(user, role)
    return user


def _wallet(national_id: str, holder_type: str, name_en: str, name_ar: str, phone: str) -> Wallet:
    holder = Holder.objects.filter(holder_type=holder_type, national_id=national_id).first()
    if holder:
        return holder.wallet
    return wallets.open_wallet(
        holder_type=holder_type,
        national_id=national_id,
        name_en=name_en,
        name_ar=name_ar,
        phone=phone,
        channel=OpeningChannel.ONLINE,
        user=_user(national_id, Role.CUSTOMER),
    )


def _office_wallet(cashier) -> tuple[Wallet, str]:
    """A wallet opened at the directorate's counter, whose holder has no portal login yet, and a fresh
    activation code for it (each run issues a new one and revokes the last: it is shown only once)."""
    holder = Holder.objects.filter(holder_type="individual", national_id="34567890").first()
    wallet = holder.wallet if holder else None
    if wallet is None:
        wallet = wallets.open_wallet(
            holder_type="individual",
            national_id="34567890",
            name_en="Said Al-Hinai",
            name_ar="سعيد الهنائي",
            phone="92345678",
            channel=OpeningChannel.OFFICE,
            actor=cashier,
        )
    if wallet.holder.user_id is not None:
        return wallet, ""
    return wallet, portal_access.issue_activation(holder=wallet.holder, actor=cashier).code


def _office(
    code: str,
    name_en: str,
    name_ar: str,
    kind: str,
    credit_limit: Decimal | None = None,
    daily_limit: Decimal | None = None,
) -> Office:
    office = Office.objects.filter(code=code).first()
    if office is None:
        office = agents.create_office(
            code=code,
            name_en=name_en,
            name_ar=name_ar,
            kind=kind,
            actor=None,
            wilayat="Muscat",
            credit_limit=credit_limit,
            daily_limit=daily_limit,
        )
    if office.status == OfficeStatus.ONBOARDING:
        office = agents.activate_office(office=office, actor=None)
    return Office.objects.select_related("cash_account", "commission_account").get(pk=office.pk)


def _done(key: str) -> bool:
    """A demo movement keyed ``key`` was made (a later run must not make it again in another session)."""
    return IdempotencyKey.objects.filter(scope=SCOPE, key=key).exists()


def _post(k: str, kind: str, memo: str, *legs: tuple[Account, str]):
    return services.post(
        kind=kind, legs=[Leg(a, Decimal(x)) for a, x in legs], idempotency_key=k, scope=SCOPE, memo=memo
    )


class Command(BaseCommand):
    help = "Create demo users, wallets and entries of every kind (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        _demo_password_hash.cache_clear()  # hashed with this run's settings
        ensure_system_chart()
        ensure_services()
        admin = _user("admin", Role.ADMIN, superuser=True)
        finance = _user("finance", Role.FINANCE, staff=True)
        checker = _user("finance2", Role.FINANCE, staff=True)  # maker-checker: approves what finance proposes
        ledger_views = Permission.objects.filter(content_type__app_label="ledger", codename__startswith="view_")
        for user in (finance, checker):
            user.user_permissions.add(*ledger_views)
        lease_system = _user("lease-system", Role.SERVICE)
        token = Token.objects.get_or_create(user=lease_system)[0].key

        # Yesterday first: its wallet's entries must be stamped before anything of today's touches it.
        story, skipped = None, not yesterday.done() and yesterday.blocked()
        if not yesterday.done() and not skipped:
            story = yesterday.book(open_wallet=_wallet, finance=finance, scope=SCOPE)

        aisha = _wallet("12345678", "individual", "Aisha Al-Balushi", "عائشة البلوشية", "91234567")
        company = _wallet("1098765", "company", "Muscat Trading LLC", "شركة مسقط التجارية", "24567890")
        directorate = _office("MCT", "Muscat directorate", "مديرية مسقط", "internal")
        cafe = _office("SEEB", "Seeb internet café", "مقهى السيب للإنترنت", "external", Decimal("200.000"))
        drawer, float_ = directorate.cash_account, cafe.cash_account
        cashier = _user("cashier", Role.AGENT)
        agents.add_cashier(office=directorate, user=cashier)
        walk_in = _office_wallet(cashier)
        sys = {code: Account.objects.get(code=code) for code in SystemAccount}
        bank, clearing = sys[SystemAccount.BANK], sys[SystemAccount.BANK_CLEARING]

        _post(
            "cash-1",
            EntryKind.CASH_TOPUP,
            "Cash top-up at Muscat directorate",
            (drawer, "50.000"),
            (aisha.account, "-50.000"),
        )
        _post("float-1", EntryKind.FLOAT_DEPOSIT, "Agent float deposit", (bank, "500.000"), (float_, "-500.000"))
        _post(
            "agent-1",
            EntryKind.CASH_TOPUP,
            "Cash top-up at Seeb café",
            (float_, "120.000"),
            (company.account, "-120.000"),
        )
        _post(
            "online-1", EntryKind.ONLINE_TOPUP, "Online top-up (bank)", (clearing, "30.000"), (aisha.account, "-30.000")
        )
        _post(
            "settle-1", EntryKind.SETTLEMENT, "Bank statement: online top-ups", (bank, "30.000"), (clearing, "-30.000")
        )
        _post("deposit-1", EntryKind.CASH_DEPOSIT, "Directorate cash banked", (clearing, "50.000"), (drawer, "-50.000"))

        services_by_code = {s.code: s for s in Service.objects.select_related("revenue_account")}
        lease = payments.pay_fee(
            wallet=company,
            service=services_by_code["lease_renewal"],
            bill_reference="L-2026-0114",
            amount=Decimal("75.000"),
            actor=lease_system,
            idempotency_key="pay-1",
            scope=SCOPE,
        )
        fine = payments.pay_fee(
            wallet=aisha,
            service=services_by_code["parking_fine"],
            bill_reference="P-88213",
            amount=Decimal("10.000"),
            actor=aisha.holder.user,
            idempotency_key="pay-2",
            scope=SCOPE,
        )
        payments.pay_fee(
            wallet=aisha,
            service=services_by_code["municipal_licence"],
            bill_reference="ML-4410",
            amount=Decimal("12.500"),
            actor=aisha.holder.user,
            idempotency_key="pay-3",
            scope=SCOPE,
        )
        payments.refund_payment(
            payment=lease,
            amount=Decimal("25.000"),
            reason="Lease shortened: partial refund",
            actor=finance,
            idempotency_key="refund-1",
            scope=SCOPE,
        )
        services.reverse(
            entry=fine.entry,
            reason="Fine cancelled by the directorate",
            actor=admin,
            idempotency_key="reversal-1",
            scope=SCOPE,
        )

        moved_away = _wallet("87654321", "individual", "Khalid Al-Rawahi", "خالد الرواحي", "99887766")
        if moved_away.status != "closed":
            _post(
                "cash-2",
                EntryKind.CASH_TOPUP,
                "Cash top-up at Muscat directorate",
                (drawer, "5.000"),
                (moved_away.account, "-5.000"),
            )
            wallets.close_wallet(
                wallet=moved_away, actor=finance, reason="Holder moved abroad", idempotency_key="close-1"
            )

        if not _done("counter-1"):
            session = agents.open_session(cashier=cashier.cashier, opening_cash=Decimal("20.000"))
            agents.record_cash_topup(
                session=session,
                wallet=aisha,
                amount=Decimal("15.000"),
                actor=cashier,
                idempotency_key="counter-1",
                scope=SCOPE,
            )

        # An external agent that has used most of its credit: the dashboard flags it (ERIAL_FLOAT_NEAR_LIMIT_SHARE).
        amerat = _office(
            "AMRT", "Al Amerat agent", "وكيل العامرات", "external", Decimal("100.000"), daily_limit=Decimal("300.000")
        )
        if not amerat.commission_rules.exists():  # rules are data, added (never edited) as in the back office
            CommissionRule.objects.create(
                office=amerat,
                kind=CommissionKind.PERCENT,
                rate=Decimal("1.000"),
                minimum=Decimal("0.100"),
                maximum=Decimal("2.000"),
                effective_from=timezone.now(),
            )
        agent = _user("agent", Role.AGENT)
        agents.add_cashier(office=amerat, user=agent, supervisor=True)
        if not _done("agent-counter-1"):
            session = agents.open_session(cashier=agent.cashier, opening_cash=Decimal("0.000"))
            agents.record_cash_topup(
                session=session,
                wallet=company,
                amount=Decimal("85.000"),
                actor=agent,
                idempotency_key="agent-counter-1",
                scope=SCOPE,
            )

        sealed = seal_through(yesterday.yesterday())  # the finished days, as the nightly job seals them

        self.stdout.write(self.style.SUCCESS("Demo data ready (safe to run again)."))
        self.stdout.write(
            f"  Back office (/admin/): admin / {DEMO_PASSWORD}, finance / {DEMO_PASSWORD}"
            f" (finance2 / {DEMO_PASSWORD} approves what finance proposes)"
        )
        self.stdout.write(f"  Finance dashboard (/finance/): finance / {DEMO_PASSWORD}")
        self.stdout.write(
            f"  Customer portal (/portal/): 12345678 / {DEMO_PASSWORD} (Aisha, wallet {aisha.number}),"
            f" 1098765 / {DEMO_PASSWORD} (Muscat Trading, wallet {company.number})"
        )
        self.stdout.write(f"  Counter (/counter/): cashier / {DEMO_PASSWORD} (Muscat directorate)")
        walk_in_wallet, walk_in_code = walk_in
        if walk_in_code:
            self.stdout.write(
                f"  Opened at the counter (/portal/activate/): wallet {walk_in_wallet.number}, civil ID 34567890,"
                f" activation code {walk_in_code}"
            )
        self.stdout.write(
            f"  Counter (/counter/): agent / {DEMO_PASSWORD} (Al Amerat agent, supervisor; float near its credit limit)"
        )
        if story:
            runs = ", ".join(f"{run.source} {run.matched} matched" for run in story["runs"])
            self.stdout.write(
                f"  Yesterday ({story['day']}): online top-ups, reconciled ({runs}), exceptions in /admin/"
            )
        elif skipped:
            self.stdout.write(
                "  Yesterday was sealed before this demo: its online top-ups and reconciliation are left out."
            )
        if sealed:
            self.stdout.write(f"  Sealed: {', '.join(str(seal.business_day) for seal in sealed)}")
        self.stdout.write(f"  API (/api/docs/): municipal lease system token {token}")
