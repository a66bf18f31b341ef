"""The back office's "Top-up corrections", used as finance would: through the test client.

A finance user proposes by receipt number, right account and reason (a refusal is shown next to the field and
nothing is saved); another approves or rejects by admin actions that go through ``agents.corrections``; nobody
edits or deletes a correction; only finance acts, admins read, other staff get nothing; Arabic and English.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission

from agents import corrections
from agents.models import CorrectionStatus, TopupCorrection
from erial.roles import Role
from ledger import account_numbers, wallets
from ledger.models import Entry, EntryKind
from ledger.selectors import balance
from ledger.verification import verify
from tests.agents.conftest import make_office, open_session, topup
from tests.agents.test_corrections import closed_topup, mistyped, unknown_number
from tests.api.conftest import open_wallet
from tests.factories import D, pay
from tests.web.test_finance_admin import act, messages_of, staff

pytestmark = pytest.mark.django_db

PAGE = "/admin/agents/topupcorrection/"
ADD = f"{PAGE}add/"


def stored(correction: TopupCorrection) -> TopupCorrection:
    return TopupCorrection.objects.get(pk=correction.pk)


def propose(made, right, by) -> TopupCorrection:
    return corrections.propose_correction(topup=made, account_number=right.number, reason="Wrong number", actor=by)


def test_finance_proposes_by_receipt_number_and_another_approves(client):
    wrong, right = open_wallet(), open_wallet()
    made = closed_topup("12.000", wrong=wrong)
    maker, checker = staff(Role.FINANCE), staff(Role.FINANCE)

    # The maker fills in the add form: the receipt as people write it, the right account, why
    client.force_login(maker)
    form = client.get(ADD)
    assert form.status_code == 200 and 'name="receipt_number"' in form.text and 'name="account_number"' in form.text
    response = client.post(
        ADD,
        {"receipt_number": made.receipt_number.lower(), "account_number": right.number, "reason": "Typed 1 for 7"},
        follow=True,
    )
    assert response.status_code == 200 and response.redirect_chain[-1][0] == PAGE
    proposal = TopupCorrection.objects.get()
    assert (proposal.topup_id, proposal.wallet_id, proposal.proposed_by) == (made.pk, right.pk, maker)
    assert (proposal.status, proposal.reason) == (CorrectionStatus.PROPOSED, "Typed 1 for 7")
    listing = client.get(PAGE)
    assert made.receipt_number in listing.text and right.number in listing.text and wrong.number in listing.text
    assert balance(right.account) == D("0.000")  # nothing moved yet

    # The maker cannot approve their own: the service's words, nothing moves
    refused = act(client, PAGE, "approve_correction", [proposal.pk])
    assert any(made.receipt_number in m and "Maker-checker" in m for m in messages_of(refused)), messages_of(refused)
    assert stored(proposal).status == CorrectionStatus.PROPOSED and balance(right.account) == D("0.000")

    # Another finance user approves: the money moves, once
    client.force_login(checker)
    response = act(client, PAGE, "approve_correction", [proposal.pk])
    assert "1 correction approved." in messages_of(response)
    assert (balance(wrong.account), balance(right.account)) == (D("0.000"), D("12.000"))
    approved = stored(proposal)
    assert (approved.status, approved.decided_by) == (CorrectionStatus.APPROVED, checker)
    assert Entry.objects.get(pk=approved.entry_id).kind == EntryKind.ADJUSTMENT
    again = act(client, PAGE, "approve_correction", [proposal.pk])
    assert any("already approved" in m for m in messages_of(again)), messages_of(again)
    assert Entry.objects.filter(reference=made.receipt_number, kind=EntryKind.ADJUSTMENT).count() == 1

    # The top-up's own page shows its correction
    detail = client.get(f"/admin/agents/cashtopup/{made.pk}/change/")
    assert detail.status_code == 200 and "Typed 1 for 7" in detail.text and right.number in detail.text
    assert verify().ok


def _session_open():
    return topup(open_session(make_office("internal")), open_wallet(), "5.000"), open_wallet().number


REFUSED = {
    "receipt mistyped": (lambda: (closed_topup(), None), "mistyped", "receipt_number"),
    "receipt unknown": (lambda: (None, open_wallet().number), "No cash top-up has receipt number", "receipt_number"),
    "account mistyped": (lambda: (closed_topup(), mistyped(open_wallet().number)), "check digit", "account_number"),
    "account unknown": (lambda: (closed_topup(), unknown_number()), "No e-Rial account", "account_number"),
    "the same account": (lambda: ((t := closed_topup()), t.wallet.number), "credited to", "account_number"),
    "session still open": (_session_open, "still open", "receipt_number"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_proposal_is_shown_next_to_its_field_and_saves_nothing(client, ledger_snapshot, case):
    arrange, words, field = REFUSED[case]
    made, number = arrange()
    if case == "receipt mistyped":
        receipt, number = mistyped(made.receipt_number), open_wallet().number
    elif made is None:
        body = "1234567890"
        receipt = "R" + body + account_numbers.check_digit(body)
    else:
        receipt = made.receipt_number
    client.force_login(staff(Role.FINANCE))
    before = ledger_snapshot()
    response = client.post(ADD, {"receipt_number": receipt, "account_number": number, "reason": "Wrong number"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(words in message for message in errors.get(field, [])), errors
    assert not TopupCorrection.objects.exists()
    assert ledger_snapshot() == before


def test_a_proposal_without_a_reason_is_refused(client):
    made, right = closed_topup(), open_wallet()
    client.force_login(staff(Role.FINANCE))
    response = client.post(ADD, {"receipt_number": made.receipt_number, "account_number": right.number, "reason": " "})
    assert response.status_code == 200 and "reason" in response.context["adminform"].form.errors
    assert not TopupCorrection.objects.exists()


def test_a_proposal_saved_by_someone_else_in_between_is_shown_as_a_message(client, monkeypatch):
    """The form's check passed, then another proposal for the top-up was saved: the service refuses it."""
    made, right = closed_topup(), open_wallet()
    monkeypatch.setattr(corrections, "check_correction", lambda **kwargs: right)
    propose(made, right, staff(Role.FINANCE))
    client.force_login(staff(Role.FINANCE))
    data = {"receipt_number": made.receipt_number, "account_number": right.number, "reason": "Wrong number"}
    response = client.post(ADD, data, follow=True)
    assert any("already has a correction proposed" in m for m in messages_of(response)), messages_of(response)
    assert TopupCorrection.objects.count() == 1


def test_a_refused_approval_is_shown_and_the_others_proceed_then_it_is_rejected(client, ledger_snapshot):
    maker = staff(Role.FINANCE)
    spent_wallet = open_wallet()
    spent = closed_topup("12.000", wrong=spent_wallet)
    pay(spent_wallet.account, "10.000", "0.100")
    fine_right, spent_right = open_wallet(), open_wallet()
    fine = propose(closed_topup("3.000"), fine_right, maker)
    stuck = propose(spent, spent_right, maker)
    client.force_login(staff(Role.FINANCE))

    response = act(client, PAGE, "approve_correction", [fine.pk, stuck.pk])
    shown = messages_of(response)
    assert "1 correction approved." in shown
    assert any(m.startswith(f"Correction of {spent.receipt_number}: ") and "no longer holds" in m for m in shown)
    assert stored(fine).status == CorrectionStatus.APPROVED and balance(fine_right.account) == D("3.000")
    assert stored(stuck).status == CorrectionStatus.PROPOSED and balance(spent_right.account) == D("0.000")

    before = ledger_snapshot()
    response = act(client, PAGE, "reject_correction", [stuck.pk], note="The money is spent")
    assert "1 correction rejected." in messages_of(response)
    rejected = stored(stuck)
    assert (rejected.status, rejected.decision_note) == (CorrectionStatus.REJECTED, "The money is spent")
    assert ledger_snapshot() == before


def test_the_list_filters_by_status(client):
    maker, checker = staff(Role.FINANCE), staff(Role.FINANCE)
    open_one = propose(closed_topup(), open_wallet(), maker)
    done = corrections.approve_correction(correction=propose(closed_topup(), open_wallet(), maker), actor=checker)
    client.force_login(checker)
    for status, expected in [("proposed", open_one), ("approved", done)]:
        shown = client.get(PAGE, {"status": status}).context["cl"].result_list
        assert [c.pk for c in shown] == [expected.pk], status
    assert client.get(PAGE).context["cl"].result_count == 2


def test_nobody_edits_or_deletes_a_correction(client):
    proposal = propose(closed_topup(), open_wallet(), staff(Role.FINANCE))
    for user in (staff(Role.FINANCE), staff(Role.ADMIN, superuser=True)):
        client.force_login(user)
        page = client.get(f"{PAGE}{proposal.pk}/change/")
        assert page.status_code == 200 and "Wrong number" in page.text
        assert 'name="_save"' not in page.text and 'name="reason"' not in page.text
        assert client.post(f"{PAGE}{proposal.pk}/change/", {"reason": "edited"}).status_code == 403
        assert client.post(f"{PAGE}{proposal.pk}/delete/", {"post": "yes"}).status_code == 403
        assert "delete_selected" not in client.get(PAGE).text
    assert stored(proposal).reason == "Wrong number"


def test_admins_read_corrections_but_only_finance_proposes_and_decides(client):
    proposal = propose(closed_topup(), open_wallet(), staff(Role.FINANCE))
    client.force_login(staff(Role.ADMIN, superuser=True))
    page = client.get(PAGE)
    assert page.status_code == 200 and page.context["cl"].result_count == 1
    assert ADD not in page.text and "approve_correction" not in page.text
    assert client.get(ADD).status_code == 403
    act(client, PAGE, "approve_correction", [proposal.pk])
    assert stored(proposal).status == CorrectionStatus.PROPOSED


@pytest.mark.parametrize("role", [None, Role.AGENT, Role.CUSTOMER, Role.SERVICE])
def test_staff_without_the_finance_or_admin_role_get_nothing(client, role):
    proposal = propose(closed_topup(), open_wallet(), staff(Role.FINANCE))
    user = staff(*([role] if role else []))
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="agents"))
    client.force_login(user)
    for url in [PAGE, ADD, f"{PAGE}{proposal.pk}/change/"]:
        assert client.get(url).status_code == 403, url
    assert PAGE not in client.get("/admin/").text
    act(client, PAGE, "approve_correction", [proposal.pk])
    assert stored(proposal).status == CorrectionStatus.PROPOSED


def test_finance_and_admin_groups_hold_the_permissions():
    finance, administrator = staff(Role.FINANCE), staff(Role.ADMIN)
    for user in (finance, administrator):
        for perm in ("view", "add", "change"):
            assert user.has_perm(f"agents.{perm}_topupcorrection"), (user, perm)
        assert not user.has_perm("agents.delete_topupcorrection")


def test_the_pages_speak_arabic(client):
    propose(closed_topup(), open_wallet(), staff(Role.FINANCE))
    client.force_login(staff(Role.FINANCE))
    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ar").text
    assert "تصحيحات الشحن النقدي" in index and "Top-up corrections" not in index
    listing = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="ar").text
    assert "تصحيحات الشحن النقدي" in listing and "اختر تصحيح شحن نقدي للاستعراض" in listing
    for arabic in ["مقترحة", "الحساب الصحيح", "أُودع في", "اعتماد التصحيح (نقل المبلغ)", "رقم الإيصال"]:
        assert arabic in listing, arabic
    assert "top-up correction" not in listing.lower()
    add = client.get(ADD, HTTP_ACCEPT_LANGUAGE="ar").text
    assert "<title>إضافة تصحيح شحن نقدي |" in add and "<h1>إضافة تصحيح شحن نقدي</h1>" in add
    assert "Add top-up correction" not in add
    english = client.get(ADD, HTTP_ACCEPT_LANGUAGE="en").text
    assert "<h1>Add top-up correction</h1>" in english and "إضافة تصحيح" not in english


def test_a_frozen_right_account_is_refused_on_the_form(client):
    made, right = closed_topup(), open_wallet()
    wallets.freeze_wallet(wallet=right, actor=staff(Role.FINANCE), reason="Fraud check " + uuid.uuid4().hex[:4])
    client.force_login(staff(Role.FINANCE))
    data = {"receipt_number": made.receipt_number, "account_number": right.number, "reason": "Wrong number"}
    response = client.post(ADD, data)
    assert "frozen" in " ".join(response.context["adminform"].form.errors["account_number"])
    assert not TopupCorrection.objects.exists()
