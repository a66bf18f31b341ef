"""URL configuration: home, back office, the API under /api/v1/ and its schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ledger import api as ledger_api

from . import views

api_v1 = [
    path("accounts/", ledger_api.AccountListCreate.as_view(), name="accounts"),
    path("accounts/<str:number>/", ledger_api.AccountDetail.as_view(), name="account"),
    path("accounts/<str:number>/transactions/", ledger_api.AccountTransactions.as_view(), name="account-transactions"),
    path("accounts/<str:number>/freeze/", ledger_api.FreezeAccount.as_view(), name="account-freeze"),
    path("accounts/<str:number>/unfreeze/", ledger_api.UnfreezeAccount.as_view(), name="account-unfreeze"),
    path("accounts/<str:number>/close/", ledger_api.CloseAccount.as_view(), name="account-close"),
    path("services/", ledger_api.ServiceList.as_view(), name="services"),
    path("payments/", ledger_api.PaymentCreate.as_view(), name="payments"),
    path("payments/<uuid:payment_id>/", ledger_api.PaymentDetail.as_view(), name="payment"),
    path("payments/<uuid:payment_id>/refunds/", ledger_api.RefundCreate.as_view(), name="payment-refunds"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
