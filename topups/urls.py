"""The customer portal's online top-up pages, mounted at /portal/topup/ (names: ``topups:...``)."""

from django.urls import path

from . import views

app_name = "topups"

urlpatterns = [
    path("", views.start, name="portal-start"),
    path("<uuid:topup_id>/", views.result, name="portal-result"),
    path("<uuid:topup_id>/cancel/", views.cancel, name="portal-cancel"),
    path("<uuid:topup_id>/cancelled/", views.partner_cancelled, name="portal-partner-cancelled"),
]
