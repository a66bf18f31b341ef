"""Public pages of reports: receipt and statement verification (no login: anyone holding the paper may check it)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("receipt/<str:receipt_number>/<str:code>/", views.verify_receipt, name="verify-receipt"),
    path("statement/<str:account>/<str:start>/<str:end>/<str:code>/", views.verify_statement, name="verify-statement"),
]
