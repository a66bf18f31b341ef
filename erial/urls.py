"""URL configuration: home, back office, the customer portal, the API under /api/v1/ and its schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from agents import api as agents_api
from ledger import api as ledger_api
from reports import api as reports_api
from reports import counter as reports_counter
from reports import dashboard_views as reports_dashboard
from reports import finance_api as reports_finance
from reports import office_api as reports_office
from reports import office_counter as reports_office_counter
from reports import reconciliation_api
from reports import views as reports_views
from topups import api as topups_api
from topups import simulators

from . import views

api_v1 = [
    path("accounts/", ledger_api.AccountListCreate.as_view(), name="accounts"),
    path("accounts/<str:number>/", ledger_api.AccountDetail.as_view(), name="account"),
    path("accounts/<str:number>/transactions/", ledger_api.AccountTransactions.as_view(), name="account-transactions"),
    path("accounts/<str:number>/freeze/", ledger_api.FreezeAccount.as_view(), name="account-freeze"),
    path("accounts/<str:number>/unfreeze/", ledger_api.UnfreezeAccount.as_view(), name="account-unfreeze"),
    path("accounts/<str:number>/close/", ledger_api.CloseAccount.as_view(), name="account-close"),
    path(
        "accounts/<str:number>/portal-activation/",
        ledger_api.PortalActivationCreate.as_view(),
        name="account-portal-activation",
    ),
    path("accounts/<str:number>/statement/", reports_api.AccountStatement.as_view(), name="account-statement"),
    path("services/", ledger_api.ServiceList.as_view(), name="services"),
    path("payments/", ledger_api.PaymentCreate.as_view(), name="payments"),
    path("payments/<uuid:payment_id>/", ledger_api.PaymentDetail.as_view(), name="payment"),
    path("payments/<uuid:payment_id>/refunds/", ledger_api.RefundCreate.as_view(), name="payment-refunds"),
    path("offices/", agents_api.OfficeCreate.as_view(), name="offices"),
    path("offices/<str:code>/", agents_api.OfficeDetail.as_view(), name="office"),
    path("offices/<str:code>/activate/", agents_api.ActivateOffice.as_view(), name="office-activate"),
    path("offices/<str:code>/suspend/", agents_api.SuspendOffice.as_view(), name="office-suspend"),
    path("offices/<str:code>/reinstate/", agents_api.ReinstateOffice.as_view(), name="office-reinstate"),
    path("offices/<str:code>/terminate/", agents_api.TerminateOffice.as_view(), name="office-terminate"),
    path("offices/<str:code>/day-report/", agents_api.OfficeDayReport.as_view(), name="office-day-report"),
    path("offices/<str:code>/day-report.pdf", reports_office.OfficeDayPDF.as_view(), name="office-day-report-pdf"),
    path("offices/<str:code>/statement/", reports_office.OfficeStatement.as_view(), name="office-statement"),
    path("cashier-sessions/", agents_api.SessionOpen.as_view(), name="cashier-sessions"),
    path("cashier-sessions/<uuid:session_id>/close/", agents_api.SessionClose.as_view(), name="cashier-session-close"),
    path("topups/cash/", agents_api.CashTopupCreate.as_view(), name="cash-topups"),
    path("topups/cash/<uuid:topup_id>/void/", agents_api.CashTopupVoid.as_view(), name="cash-topup-void"),
    path("receipts/<str:receipt_number>/", reports_api.ReceiptDetail.as_view(), name="receipt"),
    path("topups/online/", topups_api.OnlineTopupCreate.as_view(), name="online-topups"),
    path("topups/online/<uuid:topup_id>/", topups_api.OnlineTopupDetail.as_view(), name="online-topup"),
    path("callbacks/<str:channel>/", topups_api.partner_callback, name="partner-callback"),
    path(
        "reports/reconciliation/", reconciliation_api.ReconciliationReportView.as_view(), name="reconciliation-report"
    ),
    path("reports/trial-balance/", reports_finance.TrialBalanceReport.as_view(), name="report-trial-balance"),
    path("reports/revenue/", reports_finance.RevenueReportView.as_view(), name="report-revenue"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("portal/statement/", reports_views.portal_statement, name="portal-statement"),
    path("portal/receipts/<str:receipt_number>/pdf/", reports_views.portal_receipt_pdf, name="portal-receipt-pdf"),
    path("portal/topup/", include("topups.urls")),
    path("portal/", include("ledger.urls")),
    path("counter/", include("agents.urls")),
    path("counter/receipts/<str:receipt_number>/pdf/", reports_counter.receipt_pdf, name="counter-receipt-pdf"),
    path("counter/day-report.pdf", reports_office_counter.day_report_pdf, name="counter-day-report-pdf"),
    path("verify/", include("reports.urls")),
    path("finance/", reports_dashboard.finance_dashboard, name="finance-dashboard"),
    path("simulators/<str:channel>/pay/", simulators.pay_page, name="simulator-pay"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler404 = "erial.error_views.not_found"
handler500 = "erial.error_views.server_error"
