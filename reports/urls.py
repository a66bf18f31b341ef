"""Public pages of reports: receipt verification (no login: anyone holding a receipt may check it)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("receipt/<str:receipt_number>/<str:code>/", views.verify_receipt, name="verify-receipt"),
]
