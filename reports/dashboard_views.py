"""The finance dashboard page (/finance/): four charts and their tables for a period, for finance and admins.

The view is thin: check the role, read the period, ask ``reports.dashboard`` for the figures (one query
per chart) and hand them to ``reports.charts`` with words in the page's language. A refused period is a
form error; the page still renders, with the default period's figures (status 400).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from erial.money import format_amount
from erial.roles import Role, has_role
from ledger.businessday import today
from ledger.forms import localized_name

from . import charts
from .dashboard import (
    AGE_BUCKETS,
    BANK,
    CARD,
    CASH,
    CHANNELS,
    EXCEPTION_KINDS,
    MAX_PERIOD_DAYS,
    ZERO,
    Dashboard,
    Period,
    dashboard,
    default_period,
)

FINANCE_ROLES = (Role.FINANCE, Role.ADMIN)

CHANNEL_NAMES = {
    CASH: gettext_lazy("Cash at offices and agents"),
    BANK: gettext_lazy("Partner bank"),
    CARD: gettext_lazy("Card gateway"),
}
CHANNEL_TONES = {CASH: "cash", BANK: "bank", CARD: "card"}
BUCKET_NAMES = {
    "0-1": gettext_lazy("0–1 days"),
    "2-3": gettext_lazy("2–3 days"),
    "4-7": gettext_lazy("4–7 days"),
    "8+": gettext_lazy("More than 7 days"),
}
KIND_NAMES = {
    "unmatched_line": gettext_lazy("Statement line not in the ledger"),
    "ambiguous_line": gettext_lazy("Statement line with several candidates"),
    "amount_mismatch": gettext_lazy("Reference found with another amount"),
    "missing_from_statement": gettext_lazy("Ledger entry not on the statement"),
    "batch_mismatch": gettext_lazy("Gateway batch not paid as reported"),
}
STATUS_NAMES = {
    "onboarding": gettext_lazy("Onboarding"),
    "active": gettext_lazy("Active"),
    "suspended": gettext_lazy("Suspended"),
}


def can_see_dashboard(user: Any) -> bool:
    """Finance staff and admins: the figures are the municipality's books."""
    return has_role(user, *FINANCE_ROLES)


class PeriodForm(forms.Form):
    """The period the top-ups and payments cover: business days, both included, ending today at the latest."""

    start = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.today = today
        for name in ("start", "end"):  # the date picker offers no day after today
            self.fields[name].widget.attrs["max"] = today.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        if end > self.today:
            self.add_error("end", _("The period cannot end after today."))
        elif end < start:
            self.add_error("end", _("The period ends before it starts."))
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            self.add_error("start", _("The dashboard shows at most %(days)s days.") % {"days": MAX_PERIOD_DAYS})
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])


@login_required(login_url=reverse_lazy("admin:login"))
@require_GET
@never_cache  # the books change every minute, and they are nobody else's business
def finance_dashboard(request: HttpRequest) -> HttpResponse:
    if not can_see_dashboard(request.user):
        return render(request, "reports/dashboard_forbidden.html", status=403)
    day = today()
    period, status = default_period(day), 200
    if "start" in request.GET or "end" in request.GET:
        form = PeriodForm(request.GET, today=day)
        if form.is_valid():
            period = form.period
        else:
            status = 400
    else:
        form = PeriodForm(initial={"start": period.start, "end": period.end}, today=day)
    data = dashboard(period, today=day)
    return render(request, "reports/dashboard.html", {"form": form, **_context(data)}, status=status)


# --- what the page shows ----------------------------------------------------------------------------------


def _day(day: dt.date) -> str:
    return date_format(day, "j M Y")


def _context(data: Dashboard) -> dict[str, Any]:
    return {
        "period": data.period,
        "period_text": _("%(start)s to %(end)s") % {"start": _day(data.period.start), "end": _day(data.period.end)},
        "topups": _topups(data),
        "payments": _payments(data),
        "floats": _floats(data),
        "exceptions": _exceptions(data),
    }


def _topups(data: Dashboard) -> dict[str, Any]:
    days = data.topups
    totals = {channel: sum((d.amounts[channel] for d in days), ZERO) for channel in CHANNELS}
    counts = {channel: sum(d.counts[channel] for d in days) for channel in CHANNELS}
    total = sum(totals.values(), ZERO)
    channels = [
        {"key": c, "name": CHANNEL_NAMES[c], "tone": CHANNEL_TONES[c], "total": format_amount(totals[c])}
        for c in CHANNELS
    ]
    desc = _(
        "Top-ups per day from %(start)s to %(end)s: %(total)s OMR in all; "
        "cash %(cash)s, partner bank %(bank)s, card gateway %(card)s OMR."
    ) % {
        "start": _day(data.period.start),
        "end": _day(data.period.end),
        "total": format_amount(total),
        "cash": format_amount(totals[CASH]),
        "bank": format_amount(totals[BANK]),
        "card": format_amount(totals[CARD]),
    }
    chart: SafeString = charts.stacked_columns(
        chart_id="chart-topups",
        title=_("Top-ups per day by channel (OMR)"),
        desc=desc,
        labels=[f"{d.day.day}/{d.day.month}" for d in days],
        series=[
            charts.Series(name=str(CHANNEL_NAMES[c]), values=[d.amounts[c] for d in days], tone=CHANNEL_TONES[c])
            for c in CHANNELS
        ],
        label_every=max(1, -(-len(days) // 10)),
    )
    rows = [
        {
            "day": d.day,
            "amounts": [format_amount(d.amounts[c]) for c in CHANNELS],
            "total": format_amount(d.total),
            "count": sum(d.counts.values()),
        }
        for d in days
    ]
    return {
        "chart": chart,
        "channels": channels,
        "rows": rows,
        "totals": [format_amount(totals[c]) for c in CHANNELS],
        "total": format_amount(total),
        "count": sum(counts.values()),
    }


def _payments(data: Dashboard) -> dict[str, Any]:
    services = data.payments
    names = {s.code: localized_name(s) for s in services}
    total_amount = sum((s.amount for s in services), ZERO)
    total_count = sum(s.count for s in services)
    desc = _("Fee payments from %(start)s to %(end)s: %(amount)s OMR in %(count)s payments.") % {
        "start": _day(data.period.start),
        "end": _day(data.period.end),
        "count": total_count,
        "amount": format_amount(total_amount),
    }
    bars = [
        charts.Bar(
            label=names[s.code],
            value=s.amount,
            text=f"{format_amount(s.amount)} ({s.count})",
        )
        for s in services
    ]
    rows = [
        {
            "name": names[s.code],
            "count": s.count,
            "amount": format_amount(s.amount),
            "fees": format_amount(s.fees),
            "refunded": format_amount(s.refunded),
            "net": format_amount(s.net),
        }
        for s in services
    ]
    return {
        "chart": charts.horizontal_bars(
            chart_id="chart-payments",
            title=_("Fee payments by service: OMR (number of payments)"),
            desc=desc,
            bars=bars,
        ),
        "rows": rows,
        "count": total_count,
        "amount": format_amount(total_amount),
        "fees": format_amount(sum((s.fees for s in services), ZERO)),
        "refunded": format_amount(sum((s.refunded for s in services), ZERO)),
        "net": format_amount(sum((s.net for s in services), ZERO)),
    }


def _floats(data: Dashboard) -> dict[str, Any]:
    agents = data.floats
    flagged = [a for a in agents if a.near_limit]
    desc = _("Floats of %(count)s external agents now; %(flagged)s near their credit limit: %(names)s.") % {
        "count": len(agents),
        "flagged": len(flagged),
        "names": ", ".join(localized_name(a) for a in flagged) or "—",
    }
    positions = [
        charts.Position(
            label=localized_name(a),
            value=a.balance,
            lower=-a.credit_limit,
            text=f"{format_amount(a.balance)} / −{format_amount(a.credit_limit)}",
            flagged=a.near_limit,
        )
        for a in agents
    ]
    rows = [
        {
            "code": a.code,
            "name": localized_name(a),
            "status": STATUS_NAMES.get(a.status, a.status),
            "balance": format_amount(a.balance),
            "limit": format_amount(a.credit_limit),
            "headroom": format_amount(a.headroom),
            "near_limit": a.near_limit,
        }
        for a in agents
    ]
    return {
        "chart": charts.position_bars(
            chart_id="chart-floats",
            title=_("External agents' floats against their credit limits (OMR)"),
            desc=desc,
            positions=positions,
        ),
        "rows": rows,
        "flagged": len(flagged),
    }


def _exceptions(data: Dashboard) -> dict[str, Any]:
    aging = data.exceptions
    buckets = [key for key, _lower, _upper in AGE_BUCKETS]
    kinds = [{"key": k, "name": KIND_NAMES.get(k, k), "tone": f"kind-{i + 1}"} for i, k in enumerate(EXCEPTION_KINDS)]
    desc = _("%(count)s open reconciliation exceptions: %(ages)s.") % {
        "count": aging.count,
        "ages": "; ".join(f"{BUCKET_NAMES[b]} {aging.bucket_count(b)}" for b in buckets),
    }
    chart = charts.stacked_columns(
        chart_id="chart-exceptions",
        title=_("Open reconciliation exceptions by age and kind (count)"),
        desc=desc,
        labels=[str(BUCKET_NAMES[b]) for b in buckets],
        series=[
            charts.Series(name=str(k["name"]), values=[aging.cell(k["key"], b).count for b in buckets], tone=k["tone"])
            for k in kinds
        ],
        whole=True,
    )
    rows = [
        {
            **k,
            "counts": [aging.cell(k["key"], b).count for b in buckets],
            "count": aging.kind_count(k["key"]),
            "amount": format_amount(sum((aging.cell(k["key"], b).amount for b in buckets), ZERO)),
        }
        for k in kinds
    ]
    return {
        "chart": chart,
        "kinds": kinds,
        "buckets": [BUCKET_NAMES[b] for b in buckets],
        "rows": rows,
        "bucket_counts": [aging.bucket_count(b) for b in buckets],
        "count": aging.count,
        "amount": format_amount(aging.amount),
        "today": aging.today,
    }
