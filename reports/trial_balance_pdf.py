"""The trial balance as a bilingual A4 PDF: one line per account (or kind of account), debit and credit columns,
their totals, and the whole ledger's totals beneath, so a reader sees the lines cover every posting."""

from __future__ import annotations

from decimal import Decimal

from erial.money import format_amount

from . import labels
from .finance_pdf import Column, Report, Row, render
from .pdf import format_moment
from .trial_balance import Line, TrialBalance

FIGURES = 74.0
COUNT = 48.0


def _amount(value: Decimal) -> str:
    return format_amount(value) if value else ""


def _row(line: Line) -> Row:
    if line.is_group:
        count = labels.accounts_count(line.accounts)
        en, ar = f"{line.name_en} ({count[0]})", f"{line.name_ar} ({count[1]})"
    else:
        en, ar = f"{line.code}  {line.name_en}", line.name_ar
    return Row(en=en, ar=ar, cells=(str(line.postings), _amount(line.debit), _amount(line.credit)))


def as_at(data: TrialBalance) -> labels.Bilingual:
    """The moment the trial balance is taken at, in words: the end of a business day, or an instant."""
    if not data.at_day_end:
        moment = format_moment(data.until)
        return moment, f"{labels.LRM}{moment}"
    day = data.as_of.isoformat()
    return f"{labels.END_OF_DAY[0]} {day}", f"{labels.END_OF_DAY[1]} {labels.LRM}{day}"


def report(data: TrialBalance) -> Report:
    """What the PDF prints."""
    moment = as_at(data)
    rows = [_row(line) for line in data.lines]
    rows.append(
        Row(
            en=labels.TB_TOTAL[0],
            ar=labels.TB_TOTAL[1],
            cells=(
                str(sum(line.postings for line in data.lines)),
                format_amount(data.total_debit),
                format_amount(data.total_credit),
            ),
            bold=True,
            rule=True,
        )
    )
    ledger = data.ledger
    return Report(
        title=labels.TRIAL_BALANCE,
        fields=[(labels.AS_OF, moment[0], moment[1])],
        first_column=labels.ACCOUNT_NAME,
        columns=(
            Column(labels.POSTINGS, COUNT),
            Column(labels.DEBIT_BALANCE, FIGURES),
            Column(labels.CREDIT_BALANCE, FIGURES),
        ),
        rows=rows,
        issued_at=data.issued_at,
        summary=[
            (labels.ENTRIES, str(ledger.entries)),
            (labels.POSTINGS, str(ledger.postings)),
            (labels.SUM_DEBITS, format_amount(ledger.debits)),
            (labels.SUM_CREDITS, format_amount(ledger.credits)),
        ],
        notes=[
            labels.BALANCED if data.balanced else labels.NOT_BALANCED,
            *([] if data.covers_ledger else [labels.NOT_COVERED]),
            labels.REPORT_NOTE,
        ],
        document_title=f"{labels.TRIAL_BALANCE[0]} {moment[0]}",
    )


def render_trial_balance(data: TrialBalance) -> bytes:
    """The trial balance as an A4 PDF."""
    return render(report(data))
