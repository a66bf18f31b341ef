"""The database guards the books even against code that goes around ``post()``, and ``verify`` notices
anything a superuser changes behind the application's back.

- Entries and postings are append-only: UPDATE and DELETE are refused by the database (both backends).
- PostgreSQL refuses, at COMMIT, an entry that does not balance or has fewer than two postings.
- A posting changed by someone who lifted the guard is caught by ``verify`` and ``verify_ledger``,
  including inside a sealed day; a guard left lifted is reported too.
- ``seal_through`` seals only finished days, once each, in a hash chain.
"""

from __future__ import annotations

import datetime as dt
import uuid
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone

from ledger import guards
from ledger.businessday import business_day_of, today
from ledger.chart import SystemAccount
from ledger.models import DaySeal, Entry, Posting
from ledger.sealing import GENESIS, seal_through
from ledger.selectors import balance
from ledger.verification import verify
from tests.factories import D, pay, system, top_up, wallet

UNBALANCED = "every entry has two or more postings summing to zero"
CACHED = "cached balances equal the postings"
SEALS = "daily seals intact"
GUARDS = "append-only and zero-sum guards in place"


# --- helpers --------------------------------------------------------------------------------------


def ledger_rows() -> dict:
    """Everything an UPDATE or DELETE could touch, to prove a refused one changed nothing."""
    return {
        "entries": sorted(
            (str(pk), kind, memo, created_at, day)
            for pk, kind, memo, created_at, day in Entry.objects.values_list(
                "id", "kind", "memo", "created_at", "business_day"
            )
        ),
        "postings": sorted(Posting.objects.values_list("id", "entry_id", "account_id", "amount", "created_at")),
    }


def entry_id_param(entry_id: uuid.UUID) -> object:
    """An entry id as this database stores it (PostgreSQL: uuid; SQLite: 32 hex digits)."""
    return Entry._meta.pk.get_db_prep_value(entry_id, connection)


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def _sqlite_trigger_sql(name: str) -> str:
    return next(s for s in guards.install_sql("sqlite") if f" {name} BEFORE " in s)


def lift_posting_guard() -> None:
    """What a superuser would do to edit the books: disable (PostgreSQL) or drop (SQLite) the guard."""
    if connection.vendor == "postgresql":
        # Fire the deferred checks of this test's own inserts now: ALTER TABLE refuses pending events.
        sql("SET CONSTRAINTS ALL IMMEDIATE")
        sql("ALTER TABLE ledger_posting DISABLE TRIGGER ledger_posting_append_only")
    else:
        sql("DROP TRIGGER ledger_posting_no_update")


def restore_posting_guard() -> None:
    if connection.vendor == "postgresql":
        sql("ALTER TABLE ledger_posting ENABLE TRIGGER ledger_posting_append_only")
    else:
        sql(_sqlite_trigger_sql("ledger_posting_no_update"))


@contextmanager
def posting_guard_lifted():
    lift_posting_guard()
    try:
        yield
    finally:
        restore_posting_guard()


def tamper_posting(posting: Posting, new_amount: str) -> None:
    """Behind the application's back: change one posting's amount, then put the guard back."""
    with posting_guard_lifted():
        sql("UPDATE ledger_posting SET amount = %s WHERE id = %s", [Decimal(new_amount), posting.pk])


def wallet_posting(entry: Entry, account) -> Posting:
    return Posting.objects.get(entry=entry, account=account)


@contextmanager
def clock_at(moment: dt.datetime):
    """Everything that asks Django for the time (posting, sealing, business days) gets ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def unbalanced(entry: Entry, total: str) -> str:
    """The finding verify gives for ``entry``; the id is shown as the database holds it."""
    shown = entry.pk if connection.vendor == "postgresql" else entry.pk.hex
    return f"entry {shown}: 3 postings summing to {total} OMR"


def verify_ledger_output() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_ledger", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


# --- 6. entries and postings are append-only, on both backends ------------------------------------


def _orm_update_entry(entry, posting):
    Entry.objects.filter(pk=entry.pk).update(memo="edited")


def _orm_save_entry(entry, posting):
    loaded = Entry.objects.get(pk=entry.pk)
    loaded.memo = "edited"
    loaded.save()


def _orm_delete_entry(entry, posting):
    # Skip Django's PROTECT check (the collector) and send the DELETE straight to the database.
    Entry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)


def _orm_update_posting(entry, posting):
    Posting.objects.filter(pk=posting.pk).update(amount=D("0.001"))


def _orm_delete_posting(entry, posting):
    Posting.objects.filter(pk=posting.pk).delete()


def _sql_update_entry(entry, posting):
    sql("UPDATE ledger_entry SET memo = 'edited' WHERE id = %s", [entry_id_param(entry.pk)])


def _sql_delete_entry(entry, posting):
    sql("DELETE FROM ledger_entry WHERE id = %s", [entry_id_param(entry.pk)])


def _sql_update_posting(entry, posting):
    sql("UPDATE ledger_posting SET amount = amount * 2 WHERE id = %s", [posting.pk])


def _sql_delete_posting(entry, posting):
    sql("DELETE FROM ledger_posting WHERE entry_id = %s", [entry_id_param(entry.pk)])


def _sql_update_every_posting(entry, posting):
    sql("UPDATE ledger_posting SET created_at = created_at")


CHANGES = [
    pytest.param(_orm_update_entry, id="orm-update-entry"),
    pytest.param(_orm_save_entry, id="orm-save-entry"),
    pytest.param(_orm_delete_entry, id="orm-raw-delete-entry"),
    pytest.param(_orm_update_posting, id="orm-update-posting"),
    pytest.param(_orm_delete_posting, id="orm-delete-posting"),
    pytest.param(_sql_update_entry, id="sql-update-entry"),
    pytest.param(_sql_delete_entry, id="sql-delete-entry"),
    pytest.param(_sql_update_posting, id="sql-update-posting"),
    pytest.param(_sql_delete_posting, id="sql-delete-posting"),
    pytest.param(_sql_update_every_posting, id="sql-noop-update-all-postings"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES)
def test_the_database_refuses_to_change_or_delete_a_booked_entry(change):
    # Given a wallet topped up and a fee paid from it
    customer = wallet("10.000")
    payment = pay(customer, "2.000", "0.100")
    before = ledger_rows()

    # When anyone tries to edit or remove the payment, even bypassing the application
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change(payment, wallet_posting(payment, customer))

    # Then the database refused it and the books are exactly as they were
    assert ledger_rows() == before
    assert balance(customer) == D("7.900")
    assert verify().ok


@pytest.mark.django_db
def test_django_delete_of_an_entry_is_refused_before_it_reaches_the_database():
    # Given a booked top-up
    customer = wallet()
    entry = top_up(customer, "5.000")
    before = ledger_rows()

    # When code calls delete() on it
    with pytest.raises((ProtectedError, DatabaseError)), transaction.atomic():
        entry.delete()

    # Then nothing is gone
    assert ledger_rows() == before
    assert balance(customer) == D("5.000")


@pytest.mark.django_db
def test_a_seal_cannot_be_edited_or_removed():
    # Given a sealed past day
    with clock_at(days_ago(1)):
        top_up(wallet(), "1.000")
    [seal] = seal_through()

    # When someone rewrites or deletes the seal, then the database refuses
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE ledger_dayseal SET digest = %s WHERE business_day = %s", ["f" * 64, seal.business_day])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DaySeal.objects.filter(pk=seal.pk).delete()

    assert DaySeal.objects.get().digest == seal.digest
    assert verify().ok


# --- 7. PostgreSQL refuses, at COMMIT, entries that do not balance ----------------------------------


def _insert_entry(postings: list[tuple[str, str]]) -> uuid.UUID:
    """Write an entry and its postings with plain SQL, as a buggy or malicious script would."""
    entry_id = uuid.uuid4()
    now = timezone.now()
    sql(
        "INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata) "
        "VALUES (%s, 'adjustment', %s, %s, 'behind the back', '{}')",
        [entry_id_param(entry_id), now, business_day_of(now)],
    )
    for code, amount in postings:
        sql(
            "INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, created_at) "
            "VALUES (%s, %s, %s, 'OMR', %s)",
            [entry_id_param(entry_id), system(code).pk, Decimal(amount), now],
        )
    return entry_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("postings", "refusal"),
    [
        pytest.param([("bank", "5.000"), ("suspense", "-4.000")], "does not balance", id="sums-to-1"),
        pytest.param([("bank", "5.000")], "fewer than two postings|does not balance", id="one-posting"),
        pytest.param([], "fewer than two postings", id="no-postings"),
    ],
)
def test_an_entry_that_does_not_balance_is_refused_at_commit(postings, refusal):
    # Given the books as they are
    entries_before = Entry.objects.count()
    postings_before = Posting.objects.count()
    inserted = False

    # When a script writes a broken entry with plain SQL and commits
    with pytest.raises(IntegrityError, match=refusal), transaction.atomic():
        _insert_entry(postings)
        inserted = True  # every statement was accepted: the refusal comes at COMMIT

    # Then the commit was refused and nothing of it is left
    assert inserted
    assert Entry.objects.count() == entries_before
    assert Posting.objects.count() == postings_before
    assert not Entry.objects.filter(memo="behind the back").exists()
    assert verify().ok


@pytest.mark.django_db
def test_verify_finds_an_unbalanced_entry_that_got_in():
    # Given a script wrote an entry whose two postings sum to 1.000 (SQLite has no commit-time check,
    # so only post() and verify stand in the way; on PostgreSQL we look before the commit refuses it)
    with transaction.atomic():
        entry_id = _insert_entry([("bank", "5.000"), ("suspense", "-4.000")])

        # When finance runs verify
        report = verify()
        transaction.set_rollback(True)  # (PostgreSQL would refuse it at the test's end otherwise)

    # Then it names the entry
    shown = entry_id if connection.vendor == "postgresql" else entry_id.hex
    assert report.results[UNBALANCED] == [f"entry {shown}: 2 postings summing to 1.000 OMR"]
    assert not report.ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_balanced_entry_written_with_sql_is_accepted_at_commit():
    # The control case: the commit check refuses broken entries, not every entry written with SQL.
    with transaction.atomic():
        entry_id = _insert_entry([("bank", "5.000"), ("suspense", "-5.000")])

    assert Entry.objects.filter(pk=entry_id).exists()
    assert balance(system(SystemAccount.SUSPENSE)) == D("5.000")
    assert verify().ok


# --- 8. tampering is caught by verify -------------------------------------------------------------


@pytest.mark.django_db
def test_verify_catches_a_posting_changed_behind_the_applications_back():
    # Given a wallet that paid a fee, and books that prove themselves
    customer = wallet("10.000")
    payment = pay(customer, "2.000", "0.100")
    assert verify().ok

    # When a superuser lifts the guard and turns the 2.100 debit into 0.100
    tamper_posting(wallet_posting(payment, customer), "0.100")

    # Then verify names the unbalanced payment and the wallet whose cached balance no longer matches
    report = verify()
    assert not report.ok
    assert report.results[UNBALANCED] == [unbalanced(payment, "-2.000")]
    assert report.results[CACHED] == [f"account {customer.code}: cached balance 7.900 but postings give 9.900"]
    assert report.results[GUARDS] == []  # the guard was put back

    # And so does the management command, which fails
    output, error = verify_ledger_output()
    assert error is not None
    assert f"FAIL {UNBALANCED}" in output
    assert f"FAIL {CACHED}" in output
    assert unbalanced(payment, "-2.000") in output
    assert customer.code in output
    assert "2 problem(s) found." in output


@pytest.mark.django_db
def test_verify_ledger_passes_on_honest_books():
    customer = wallet("10.000")
    pay(customer, "2.000")

    output, error = verify_ledger_output()

    assert error is None
    assert "The books balance." in output
    assert "FAIL" not in output


@pytest.mark.django_db
def test_verify_reports_a_guard_left_lifted():
    # Given honest books
    pay(wallet("3.000"), "1.000")
    assert verify().ok

    # When a superuser disables (or drops) the append-only guard and forgets to put it back
    lift_posting_guard()

    # Then verify says the guard is missing or disabled, and the command fails
    expected = "ledger_posting_append_only" if connection.vendor == "postgresql" else "ledger_posting_no_update"
    report = verify()
    assert report.results[GUARDS] == [f"database guard {expected} is missing or disabled"]
    assert [check for check, problems in report.results.items() if problems] == [GUARDS]
    output, error = verify_ledger_output()
    assert error is not None
    assert f"database guard {expected} is missing or disabled" in output

    # And once it is back, the books prove themselves again
    restore_posting_guard()
    assert verify().ok


@pytest.mark.django_db
def test_a_posting_changed_inside_a_sealed_day_breaks_the_seal():
    # Given payments made two days ago and yesterday, and both days sealed
    with clock_at(days_ago(2)):
        customer = wallet("10.000")
        old_payment = pay(customer, "2.000", "0.100")
    with clock_at(days_ago(1)):
        pay(customer, "1.000", "0.100")
    seals = seal_through()
    assert [s.business_day for s in seals] == [today() - dt.timedelta(days=2), today() - dt.timedelta(days=1)]
    assert verify().ok

    # When a superuser changes the old payment's wallet posting by one baisa
    tamper_posting(wallet_posting(old_payment, customer), "2.099")

    # Then verify reports that sealed day as changed since sealing (and the books as unbalanced)
    sealed_day = seals[0].business_day
    report = verify()
    assert len(report.results[SEALS]) == 1
    assert report.results[SEALS][0].startswith(f"seal {sealed_day}: entries changed since sealing")
    assert report.results[UNBALANCED] == [unbalanced(old_payment, "-0.001")]
    output, error = verify_ledger_output()
    assert error is not None
    assert f"FAIL {SEALS}" in output
    assert f"seal {sealed_day}: entries changed since sealing" in output


@pytest.mark.django_db
def test_an_entry_slipped_into_a_sealed_day_breaks_the_seal():
    # Given a sealed day
    with clock_at(days_ago(1)):
        top_up(wallet(), "4.000")
    [seal] = seal_through()

    # When a balanced entry is back-dated into it (insertion needs no guard lifted)
    when = days_ago(1)
    entry_id = uuid.uuid4()
    sql(
        "INSERT INTO ledger_entry (id, kind, created_at, business_day, memo, metadata) "
        "VALUES (%s, 'adjustment', %s, %s, 'back-dated', '{}')",
        [entry_id_param(entry_id), when, seal.business_day],
    )
    for code, amount in (("bank", "1.000"), ("suspense", "-1.000")):
        sql(
            "INSERT INTO ledger_posting (entry_id, account_id, amount, amount_currency, created_at) "
            "VALUES (%s, %s, %s, 'OMR', %s)",
            [entry_id_param(entry_id), system(code).pk, D(amount), when],
        )

    # Then the seal no longer matches the day, though every entry on its own balances
    report = verify()
    assert report.results[UNBALANCED] == []
    assert report.results[SEALS] == [
        f"seal {seal.business_day}: entries changed since sealing (sealed 1 entries, 2 postings, "
        f"debits 4.000; now 2, 4, 5.000)"
    ]


# --- 9. seal_through -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sealing_seals_each_finished_day_once_in_a_chain():
    # Given entries three days ago, two days ago, yesterday and today
    for days in (3, 2, 1):
        with clock_at(days_ago(days)):
            top_up(wallet(), f"{days}.000")
    top_up(wallet(), "9.000")

    # When the nightly seal runs
    seals = seal_through()

    # Then every finished day is sealed, today is not, and each seal links to the one before
    assert [s.business_day for s in seals] == [today() - dt.timedelta(days=d) for d in (3, 2, 1)]
    assert [s.entry_count for s in seals] == [1, 1, 1]
    assert [s.total_debits for s in seals] == [D("3.000"), D("2.000"), D("1.000")]
    assert seals[0].previous_digest == GENESIS
    assert [s.previous_digest for s in seals[1:]] == [s.digest for s in seals[:-1]]
    assert len({s.digest for s in seals}) == 3
    assert not DaySeal.objects.filter(business_day=today()).exists()

    # And running it again, or asking it to seal today, seals nothing new
    assert seal_through() == []
    assert seal_through(last_day=today()) == []
    assert list(DaySeal.objects.order_by("business_day").values_list("digest", flat=True)) == [s.digest for s in seals]
    assert verify().ok


@pytest.mark.django_db
def test_tomorrows_seal_continues_the_chain():
    # Given yesterday sealed, and payments today
    with clock_at(days_ago(1)):
        customer = wallet("10.000")
    [yesterday_seal] = seal_through()
    pay(customer, "1.000")

    # When tomorrow comes and the seal runs
    with clock_at(days_ago(-1)):
        [today_seal] = seal_through()
        assert seal_through() == []

    # Then today's seal chains to yesterday's and covers today's payment
    assert today_seal.business_day == today()
    assert today_seal.previous_digest == yesterday_seal.digest
    assert today_seal.entry_count == 1
    assert today_seal.posting_count == 3
    assert verify().ok
