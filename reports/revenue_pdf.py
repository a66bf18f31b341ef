"""Municipal revenue by service and fee income for a period, as a bilingual A4 PDF."""

from __future__ import annotations

from erial.money import format_amount

from . import labels
from .finance_pdf import Column, Report, Row, render
from .revenue import RevenueReport

FIGURES = 66.0
COUNT = 48.0


def report(data: RevenueReport) -> Report:
    """What the PDF prints: a line per service, the totals, and fee income as the ledger has it."""
    rows = [
        Row(
            en=service.name_en,
            ar=service.name_ar,
            cells=(
                str(service.payments),
                format_amount(service.revenue),
                format_amount(service.refunds),
                format_amount(service.net),
                format_amount(service.fees),
            ),
        )
        for service in data.services
    ]
    rows.append(
        Row(
            en=labels.TB_TOTAL[0],
            ar=labels.TB_TOTAL[1],
            cells=(
                str(data.payments),
                format_amount(data.revenue),
                format_amount(data.refunds),
                format_amount(data.net),
                format_amount(data.service_fees),
            ),
            bold=True,
            rule=True,
        )
    )
    period = labels.period(data.start.isoformat(), data.end.isoformat())
    summary = [(labels.FEE_INCOME_TOTAL, format_amount(data.fee_income))]
    if data.fees_unattributed:
        summary.append((labels.FEES_UNATTRIBUTED, format_amount(data.fees_unattributed)))
    return Report(
        title=labels.REVENUE_REPORT,
        fields=[(labels.PERIOD, period[0], period[1])],
        first_column=labels.SERVICE,
        columns=(
            Column(labels.PAYMENTS, COUNT),
            Column(labels.REVENUE, FIGURES),
            Column(labels.REFUNDS, FIGURES),
            Column(labels.NET_REVENUE, FIGURES),
            Column(labels.FEE_INCOME, FIGURES),
        ),
        rows=rows,
        issued_at=data.issued_at,
        summary=summary,
        notes=[labels.REPORT_NOTE],
        document_title=f"{labels.REVENUE_REPORT[0]} {period[0]}",
    )


def render_revenue(data: RevenueReport) -> bytes:
    """The revenue and fee income report as an A4 PDF."""
    return render(report(data))
