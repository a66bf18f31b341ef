"""The reconciliation report from the back office: a link on every run, and an action for the selected one.

Reports sit above settlements (design §2), so settlements' admin cannot offer the report itself: this module
registers the run's admin again with the download added.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from settlements.admin import ReconciliationRunAdmin
from settlements.models import ReconciliationRun

from .reconciliation_pdf import pdf_response
from .reconciliation_report import reconciliation_report

admin.site.unregister(ReconciliationRun)


@admin.register(ReconciliationRun)
class ReconciliationRunWithReportAdmin(ReconciliationRunAdmin):
    list_display = (*ReconciliationRunAdmin.list_display, "report_link")
    actions = ["download_report"]

    def get_urls(self):
        report = self.admin_site.admin_view(self.report_view)
        return [
            path("<int:run_id>/report.pdf", report, name="settlements_reconciliationrun_report"),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not self.has_view_permission(request):  # before the lookup: nobody else learns which runs exist
            raise PermissionDenied
        return _report(get_object_or_404(ReconciliationRun, pk=run_id))

    @admin.display(description=_("Report"))
    def report_link(self, run: ReconciliationRun) -> str:
        url = reverse("admin:settlements_reconciliationrun_report", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, _("PDF"))

    @admin.action(description=_("Download the reconciliation report (PDF)"), permissions=["view"])
    def download_report(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        runs = list(queryset[:2])
        if len(runs) != 1:
            self.message_user(request, _("Select one run: a report covers one day and one source."), messages.ERROR)
            return None
        return _report(runs[0], disposition="attachment")


def _report(run: ReconciliationRun, *, disposition: str = "inline") -> HttpResponse:
    return pdf_response(reconciliation_report(day=run.business_day, source=run.source), disposition=disposition)
